"""Signing key rings: one per issuer (the operator, and each vendor for its direct channel)."""
