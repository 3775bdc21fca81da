"""服务帮扶: background work."""
