"""The shell runs no background work."""
