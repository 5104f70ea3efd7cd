"""A vendor's cloud transition: its direct cloud customers move to its marketplace cloud listing, each with one
marketplace invoice for the rest of its term, the unused prepayment credited (see docs/cloud-transition.md)."""
