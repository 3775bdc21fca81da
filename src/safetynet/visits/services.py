"""走访企业职工: every write."""
