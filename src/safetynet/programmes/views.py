"""Pages for the programmes: to come (contract workflow, work lists, enterprise panel)."""
