"""The key length docs/license-keys.md states is the length of the keys Mercato really issues."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.catalog.models import Listing
from mercato.licenses.service import IssuedKey
from mercato.pricing import PricingError
from mercato.problems import Problem

DOCUMENTED = re.compile(r"Keys issued by Mercato are (\d+)–(\d+) characters")
BINDINGS = {
    "server": "BX7Q-2M9L-33KD-W1PA",
    "datacenter": "BX7Q-2M9L-33KD-W1PA",
    "cloud": "acme-corporation.wiki.example",
}


def test_documented_key_length_range_is_the_measured_one(
    session: Session, issue: Callable[..., IssuedKey]
) -> None:
    """Every license the demo catalog can issue (apps and host products, both channels, paid, free and
    evaluation types, small, large and unlimited tiers) is within the documented range, and the range is no
    wider than what is measured."""
    lengths = []
    listings = [(listing.product_key, listing.hosting) for listing in session.scalars(select(Listing))]
    for (product_key, hosting), channel, (license_type, evaluation), tier in itertools.product(
        listings,
        ("marketplace", "direct"),
        (("commercial", False), ("academic", False), ("community", False), ("evaluation", True)),
        (10, 10_000, None),
    ):
        try:
            issued = issue(
                app_key=product_key,
                hosting=hosting,
                channel=channel,
                tier=tier,
                license_type=license_type,
                host_binding=BINDINGS[hosting],
                maintenance_end=date(2027, 11, 26),
                term_end=None if hosting == "server" else date(2027, 11, 26),
                evaluation=evaluation,
            )
        except (Problem, PricingError):
            continue  # not sold that way (a cloud app sold directly, a tier not on the price list)
        lengths.append(len(issued.token))
    assert len(lengths) > 100
    documentation = (Path(__file__).parents[2] / "docs" / "license-keys.md").read_text(encoding="utf-8")
    stated = DOCUMENTED.search(documentation)
    assert stated is not None, "docs/license-keys.md states the length of issued keys"
    low, high = int(stated.group(1)), int(stated.group(2))
    assert (min(lengths), max(lengths)) == (low, high)
