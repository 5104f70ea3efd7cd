"""Catalog tests that buy and bill reuse the commerce world, shop and clock, and the mail tests' SMTP server."""

from commerce.conftest import clock, shop, world
from mail.conftest import smtp_server

__all__ = ["clock", "shop", "smtp_server", "world"]
