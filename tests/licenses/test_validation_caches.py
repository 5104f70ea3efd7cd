"""The validate path's caches never change a verdict: they only skip work whose answer is already known."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from mercato.clock import utcnow
from mercato.database import session_connections
from mercato.keys.service import KeyService
from mercato.licenses.models import LicenseKey
from mercato.licenses.service import IssuedKey, LicenseService
from mercato.licenses.validation import BoundedCache, StandingCache, TrustedKeyCache, ValidationService
from mercato.licensing import HostContext, LicenseStatus
from support.licenses import SECRET, SERVER_ID, license_services

HOST = HostContext(
    app_key="com.example.mockups.wiki",
    hosting="server",
    server_id=SERVER_ID,  # type: ignore[arg-type]
    host_tier=100,
    host_license_type="commercial",
    app_users=None,
    build_date=None,  # type: ignore[arg-type]
    today=date(2026, 11, 26),
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def service(
    factory: sessionmaker[Session], keys: TrustedKeyCache, standings: StandingCache
) -> ValidationService:
    session = factory()
    return ValidationService(lambda: nullcontext(session.connection()), keys, standings)


def test_a_verified_key_is_not_verified_twice_but_still_judged_against_each_host(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    keys = TrustedKeyCache(session_connections(session_factory), SECRET)
    validation = service(session_factory, keys, StandingCache(0))
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    assert keys.verified.get(issued.token) is not None
    bigger = HostContext(
        app_key=HOST.app_key,
        hosting=HOST.hosting,
        server_id=SERVER_ID,
        host_tier=250,
        host_license_type=HOST.host_license_type,
        app_users=None,
        build_date=None,
        today=HOST.today,
    )
    assert validation.validate(issued.token, bigger, utcnow()).verdict.status is LicenseStatus.USER_MISMATCH


def test_retiring_a_key_empties_the_verified_cache(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    keys = TrustedKeyCache(session_connections(session_factory), SECRET)
    validation = service(session_factory, keys, StandingCache(0))
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    with session_factory() as session, session.begin():
        KeyService(session, SECRET).rotate("operator")
        KeyService(session, SECRET).retire(issued.key.kid)
    keys.reload()
    assert keys.verified.get(issued.token) is None
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.UNKNOWN_KEY


def test_a_revocation_by_another_process_is_seen_within_the_cache_time(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    clock = Clock()
    validation = service(
        session_factory,
        TrustedKeyCache(session_connections(session_factory), SECRET),
        StandingCache(5, clock),
    )
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    # Another process revokes it: a plain statement, with none of this process's sessions involved.
    with session_factory() as session, session.begin():
        session.connection().execute(
            update(LicenseKey).where(LicenseKey.serial == issued.key.serial).values(revoked_at=utcnow())
        )
    clock.now = 4.9
    assert (
        validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    )  # within the TTL
    clock.now = 5.1
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.REVOKED


def test_a_revocation_in_this_process_is_seen_at_once(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    clock = Clock()
    validation = service(
        session_factory,
        TrustedKeyCache(session_connections(session_factory), SECRET),
        StandingCache(5, clock),
    )
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    with session_factory() as session, session.begin():
        LicenseService(session, license_services()).revoke_key(issued.key.serial, "refunded")
    clock.now = 0.1
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.REVOKED


def test_a_rolled_back_revocation_forgets_nothing(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    standings = StandingCache(5, Clock())
    validation = service(
        session_factory, TrustedKeyCache(session_connections(session_factory), SECRET), standings
    )
    validation.validate(issued.token, HOST, utcnow())
    with session_factory() as session:
        LicenseService(session, license_services()).revoke_key(issued.key.serial, "refunded")
        session.rollback()
    assert standings.get(issued.key.serial) is not None  # still cached: nothing changed


def test_a_retired_signing_key_stops_verifying_at_once_in_this_process(
    session_factory: sessionmaker[Session], issue: Callable[..., IssuedKey]
) -> None:
    issued = issue()
    keys = TrustedKeyCache(session_connections(session_factory), SECRET)
    validation = service(session_factory, keys, StandingCache(0))
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.VALID
    with session_factory() as session, session.begin():
        ring = KeyService(session, SECRET)
        ring.rotate("operator")
        ring.retire(issued.key.kid)
    assert validation.validate(issued.token, HOST, utcnow()).verdict.status is LicenseStatus.UNKNOWN_KEY


def test_bounded_cache_drops_the_least_recently_used() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)
