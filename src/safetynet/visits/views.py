"""走访企业职工: staff pages."""
