"""The key length docs/license-keys.md states is the length of the keys Mercato really issues."""

from __future__ import annotations

import itertools
import re
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mercato.catalog.models import Listing
from mercato.licenses.service import IssueRequest, LicenseService
from mercato.pricing import PricingError
from mercato.problems import Problem
from support.licenses import SECRET

DOCUMENTED = re.compile(r"Keys issued by Mercato are (\d+)–(\d+) characters")
BINDINGS = {
    "server": "BX7Q-2M9L-33KD-W1PA",
    "datacenter": "BX7Q-2M9L-33KD-W1PA",
    "cloud": "acme-corporation.wiki.example",
}


def test_documented_key_length_range_is_the_measured_one(session: Session) -> None:
    """Every license the demo catalog can issue (apps and host products, both channels, paid, free and
    evaluation types, small, large and unlimited tiers) is within the documented range, and the range is no
    wider than what is measured."""
    service = LicenseService(session, SECRET)
    lengths = []
    listings = session.scalars(select(Listing)).all()
    for listing, channel, (license_type, evaluation), tier in itertools.product(
        listings,
        ("marketplace", "direct"),
        (("commercial", False), ("academic", False), ("community", False), ("evaluation", True)),
        (10, 10_000, None),
    ):
        request = IssueRequest(
            app_key=listing.product_key,
            hosting=listing.hosting,
            channel=channel,
            tier=tier,
            license_type=license_type,
            host_binding=BINDINGS[listing.hosting],
            today=date(2026, 11, 26),
            maintenance_end=date(2027, 11, 26),
            term_end=None if listing.hosting == "server" else date(2027, 11, 26),
            evaluation=evaluation,
        )
        try:
            lengths.append(len(service.issue(request).token))
        except (Problem, PricingError):
            continue  # not sold that way (a cloud app sold directly, a tier not on the price list)
    assert len(lengths) > 100
    documentation = (Path(__file__).parents[2] / "docs" / "license-keys.md").read_text(encoding="utf-8")
    stated = DOCUMENTED.search(documentation)
    assert stated is not None, "docs/license-keys.md states the length of issued keys"
    low, high = int(stated.group(1)), int(stated.group(2))
    assert (min(lengths), max(lengths)) == (low, high)
