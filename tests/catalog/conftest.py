"""Catalog tests that buy and bill reuse the commerce world, shop and clock."""

from commerce.conftest import clock, shop, world

__all__ = ["clock", "shop", "world"]
