"""Background work of this app (Django Tasks); nothing yet."""
