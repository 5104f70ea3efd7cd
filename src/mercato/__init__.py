"""Mercato: an open-source add-on marketplace and license server."""

__version__ = "0.1.0"
