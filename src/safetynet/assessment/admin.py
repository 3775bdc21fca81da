"""目标考核 in the admin (read-only views for support)."""
