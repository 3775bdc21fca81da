"""The shell keeps no records of its own: it shows those of the other apps."""
