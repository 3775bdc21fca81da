"""目标考核: background work."""
