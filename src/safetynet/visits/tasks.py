"""走访企业职工: background work."""
