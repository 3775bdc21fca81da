"""服务帮扶: every read that matters."""
