"""Issuing keys for license tests through the real service, inside the test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mercato.licenses.service import IssuedKey, IssueRequest, LicenseService
from support.licenses import SERVER_ID, license_services


@pytest.fixture
def issue(session_factory: sessionmaker[Session]) -> Callable[..., IssuedKey]:
    def issue_key(**overrides: Any) -> IssuedKey:
        fields: dict[str, Any] = {
            "app_key": "com.example.mockups.wiki",
            "hosting": "server",
            "channel": "marketplace",
            "tier": 100,
            "license_type": "commercial",
            "host_binding": SERVER_ID,
            "maintenance_end": date(2027, 11, 26),
        } | overrides
        with session_factory() as session, session.begin():
            return LicenseService(session, license_services()).issue(IssueRequest(**fields))

    return issue_key
