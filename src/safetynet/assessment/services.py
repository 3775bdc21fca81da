"""目标考核: every write."""
