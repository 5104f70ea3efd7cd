"""Price previews: what a list of proposed items would cost for a host, without buying anything."""
