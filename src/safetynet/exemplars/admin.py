"""劳模与劳动竞赛 in the admin (read-only views for support)."""
