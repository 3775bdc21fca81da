"""目标考核: every read that matters."""
