"""The member registry is edited through its services only; the Django admin shows nothing of it, so
personal data never appears unmasked or unaudited there."""
