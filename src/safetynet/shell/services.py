"""The shell writes nothing: every write belongs to the app that owns the record."""
