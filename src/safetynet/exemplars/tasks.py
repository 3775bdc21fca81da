"""劳模与劳动竞赛: background work."""
