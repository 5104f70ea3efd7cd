"""App licenses and the keys issued for them."""
