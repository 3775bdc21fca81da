"""Pages of the member registry; added with the person search and roster pages."""
