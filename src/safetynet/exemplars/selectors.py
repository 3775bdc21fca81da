"""劳模与劳动竞赛: every read that matters."""
