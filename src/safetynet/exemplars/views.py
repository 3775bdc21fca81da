"""劳模与劳动竞赛: staff pages."""
