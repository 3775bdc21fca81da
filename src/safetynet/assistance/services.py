"""服务帮扶: every write."""
