"""和谐劳动关系评价 in the admin (read-only views for support)."""
