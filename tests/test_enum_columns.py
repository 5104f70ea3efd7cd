"""Enum columns hold their enum from the moment they are set, not only after a round trip to the database."""

from __future__ import annotations

import pytest

from mercato.catalog.models import Listing
from mercato.pricing import Hosting


def test_a_row_made_with_a_string_holds_the_enum_at_once() -> None:
    listing = Listing(product_key="com.example.app", hosting="server", currency="USD")
    assert listing.hosting is Hosting.SERVER
    listing.hosting = "cloud"  # type: ignore[assignment]
    assert listing.hosting is Hosting.CLOUD


def test_a_value_outside_the_enum_is_refused_when_assigned() -> None:
    with pytest.raises(ValueError, match="'moon' is not a valid Hosting"):
        Listing(product_key="com.example.app", hosting="moon", currency="USD")
