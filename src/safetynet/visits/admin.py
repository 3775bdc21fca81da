"""走访企业职工 in the admin (read-only views for support)."""
