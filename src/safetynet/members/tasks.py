"""Background work of the member registry (the web roster upload runs through the import framework)."""
