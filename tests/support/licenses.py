"""Constants and request bodies shared by the license tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from mercato.clock import FixedClock, noon_of
from mercato.services import Services

SECRET = "test-secret-key"
TODAY = date(2026, 11, 26)
SERVER_ID = "BX7Q-2M9L-33KD-W1PA"


def host(**overrides: Any) -> dict[str, Any]:
    """A validate request body for the demo wiki server with 100 users."""
    return {
        "app_key": "com.example.mockups.wiki",
        "hosting": "server",
        "server_id": SERVER_ID,
        "host_tier": "100",
        "host_license_type": "commercial",
    } | overrides


def license_services(today: date = TODAY) -> Services:
    """The services license tests issue keys with: the test secret, and a clock stopped at noon of ``today``."""
    return Services(secret_key=SECRET, clock=FixedClock(noon_of(today)))
