"""The shell has no API of its own: the home page's figures come from each app's endpoints."""
