"""The catalog: the operator, host products, vendors, apps, listings, prices and releases."""
