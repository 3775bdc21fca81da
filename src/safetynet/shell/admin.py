"""Nothing of the shell's is administered: it has no models."""
