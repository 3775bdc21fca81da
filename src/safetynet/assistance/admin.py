"""服务帮扶 in the admin (read-only views for support)."""
