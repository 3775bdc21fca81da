"""劳模与劳动竞赛: every write."""
