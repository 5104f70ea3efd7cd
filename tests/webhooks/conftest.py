"""Webhook fixtures: a receiver on loopback, a clock the tests move, workers that deliver webhooks and e-mail (to
a real SMTP server), and endpoints registered through the service as a vendor's member would."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from mail.smtp_server import SmtpTestServer
from mercato.accounts.access import Principal
from mercato.accounts.models import User
from mercato.catalog.models import Vendor
from mercato.clock import FixedClock, utcnow
from mercato.licenses.service import IssuedKey, IssueRequest, LicenseService
from mercato.mail import SmtpMailer
from mercato.outbox.worker import OutboxWorker, RetryPolicy, standard_handlers
from mercato.services import Services
from mercato.settings import Settings
from mercato.webhooks.service import WebhookService
from webhooks.receiver import WebhookReceiver

ALL_LICENSE_EVENTS = [
    "license.created",
    "license.renewed",
    "license.upgraded",
    "license.migrated",
    "license.cancelled",
    "license.refunded",
]


@pytest.fixture
def clock() -> FixedClock:
    """A minute ahead of the real clock, so every message enqueued during a test is already due."""
    return FixedClock(utcnow() + timedelta(minutes=1))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_settings(smtp_server: SmtpTestServer) -> Settings:
    return Settings(
        secret_key=SECRET_KEY,
        webhook_allow_loopback=True,
        webhook_timeout_seconds=5,
        webhook_disable_after_failures=5,
        webhook_disable_after_hours=2,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        mail_from="Mercato <mercato@example.com>",
    )


@pytest.fixture
def worker(
    session_factory: sessionmaker[Session], clock: FixedClock, webhook_settings: Settings
) -> OutboxWorker:
    mailer = SmtpMailer(
        host="127.0.0.1", port=webhook_settings.smtp_port, sender="mercato@example.com", timeout=5
    )
    handlers = standard_handlers(webhook_settings, mailer, session_factory, clock)
    return OutboxWorker(session_factory, handlers, RetryPolicy(), clock=clock)


def vendor_id(session: Session, slug: str) -> Any:
    return session.scalars(select(Vendor.id).where(Vendor.slug == slug)).one()


def member_of(session: Session, slug: str) -> Principal:
    """A new user acting as a member of the vendor."""
    user = User(email=f"dev-{uuid.uuid4().hex[:8]}@{slug}.example", name="Dev")
    session.add(user)
    session.flush()
    return Principal(
        user_id=user.id,
        email=user.email,
        scopes=frozenset({"read", "write"}),
        customer_admin_of=frozenset(),
        billing_contact_of=frozenset(),
        vendor_member_of=frozenset({vendor_id(session, slug)}),
        operator=False,
    )


SECRET_KEY = "test-secret-key"


@dataclass(frozen=True)
class Registered:
    """An endpoint as its owner knows it: its id, and the signing secret it was answered once."""

    id: uuid.UUID
    secret: str


RegisterEndpoint = Callable[..., Registered]


@pytest.fixture
def register(session_factory: sessionmaker[Session], clock: FixedClock) -> RegisterEndpoint:
    """Register an endpoint for a vendor (example-mockups by default), committed."""

    def register_endpoint(
        url: str, vendor: str = "example-mockups", events: list[str] | None = None
    ) -> Registered:
        with session_factory() as session, session.begin():
            service = WebhookService(session, clock, SECRET_KEY, allow_loopback=True)
            endpoint, secret = service.create_for(
                member_of(session, vendor), url, events or ALL_LICENSE_EVENTS
            )
            return Registered(endpoint.id, secret)

    return register_endpoint


IssueLicense = Callable[..., IssuedKey]


@pytest.fixture
def issue(session_factory: sessionmaker[Session], clock: FixedClock) -> IssueLicense:
    """Issue a license through the real service (a license.created event), committed."""

    def issue_license(
        app_key: str = "com.example.mockups.wiki", server_id: str = "BX7Q-2M9L-33KD-W1PA"
    ) -> IssuedKey:
        with session_factory() as session, session.begin():
            services = Services(secret_key="test-secret-key", clock=clock)
            return LicenseService(session, services).issue(
                IssueRequest(
                    app_key=app_key,
                    hosting="server",
                    channel="marketplace",
                    tier=100,
                    license_type="commercial",
                    host_binding=server_id,
                    maintenance_end=date(2030, 1, 1),
                )
            )

    return issue_license
