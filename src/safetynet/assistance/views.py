"""服务帮扶: staff pages."""
