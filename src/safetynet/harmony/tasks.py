"""和谐劳动关系评价: background work."""
