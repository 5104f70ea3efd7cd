"""Who may sign what, and which terms a key may carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from mercato.licenses.service import IssuedKey
from mercato.pricing import ChannelNotAllowed, TierNotSold
from mercato.problems import InvalidInput, NotFound


def test_marketplace_keys_are_signed_by_the_operator(issue: Callable[..., IssuedKey]) -> None:
    issued = issue()
    assert issued.license.issuer == "operator"
    assert issued.license.entitlement_number.startswith("SEN-")
    assert issued.key.kid.startswith("operator-")
    assert len(issued.token) < 1024


def test_direct_keys_are_signed_by_the_apps_vendor(issue: Callable[..., IssuedKey]) -> None:
    issued = issue(channel="direct", tier=10)
    assert issued.license.issuer == "vendor:example-mockups"
    assert issued.key.kid.startswith("example-mockups-")


def test_cloud_apps_are_not_sold_direct(issue: Callable[..., IssuedKey]) -> None:
    with pytest.raises(ChannelNotAllowed, match="only through the marketplace"):
        issue(hosting="cloud", channel="direct", term_end=date(2027, 11, 26))


def test_vendor_without_direct_store_for_the_listing_cannot_issue_direct(
    issue: Callable[..., IssuedKey],
) -> None:
    with pytest.raises(ChannelNotAllowed):
        issue(app_key="com.diagramly.diagrams.wiki", channel="direct")


def test_tier_must_be_one_the_listing_sells(issue: Callable[..., IssuedKey]) -> None:
    with pytest.raises(TierNotSold, match="It is sold for: 10 users, 25 users"):
        issue(tier=30)


def test_unknown_listing_is_not_found(issue: Callable[..., IssuedKey]) -> None:
    with pytest.raises(NotFound):
        issue(app_key="com.example.nothing")
    with pytest.raises(NotFound):
        issue(app_key="com.gatekeeper.sso.wiki", hosting="datacenter", term_end=date(2027, 1, 1))


def test_term_licenses_need_a_term_end_and_server_licenses_a_maintenance_end(
    issue: Callable[..., IssuedKey],
) -> None:
    with pytest.raises(InvalidInput, match="term end"):
        issue(hosting="datacenter")
    with pytest.raises(InvalidInput, match="maintenance end"):
        issue(maintenance_end=None)


def test_evaluations_last_30_days(issue: Callable[..., IssuedKey]) -> None:
    issued = issue(license_type="evaluation", tier=None, maintenance_end=None)
    assert issued.license.evaluation
    assert issued.license.term_end == date(2026, 12, 26)
    assert issued.license.tier_users == -1
