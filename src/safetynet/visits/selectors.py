"""走访企业职工: every read that matters."""
