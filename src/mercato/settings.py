"""Deployment settings, read from the environment (prefix ``MERCATO_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'mercato.db'}",
        description="SQLAlchemy URL. Default: a SQLite file named mercato.db in the working directory.",
    )
    # Timeouts: a database that stops answering turns into 503 answers within these, never into hung requests.
    # See docs/operating.md.
    database_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="PostgreSQL: give up opening a connection after this long (libpq's minimum is 2 s).",
    )
    database_statement_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="PostgreSQL: the server cancels a statement (lock waits included) after this long, and "
        "Mercato gives up on a round trip that has not answered a second later (a network partition).",
    )
    database_busy_timeout_seconds: float = Field(
        default=10.0,
        ge=0,
        description="SQLite: how long a change waits for the single write lock before it is refused with 503.",
    )
    database_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request waits for a free connection of the pool before it is refused with 503.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = Field(
        default="",
        description="Seals the private signing keys at rest. At least 32 random bytes; make one with "
        "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`. There is no default: serve, worker, "
        "billing run, keys and license issue refuse to start without one (except `mercato serve --demo`).",
    )
    superseded_key_grace_days: int = Field(
        default=30, description="How long a superseded key keeps validating after it was replaced."
    )
    price_change_notice_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="A vendor's price change takes effect at least this many days after the operator approves "
        "it; customers with renewals due before then are told through the outbox.",
    )

    validation_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long the validate API may reuse what it read about a key (revoked, superseded, "
        "suspended) before reading it again. 0 reads the database on every request.",
    )

    demo: bool = Field(
        default=False,
        description="Demo mode (`mercato serve --demo` sets it): without a secret of its own, a demo uses the "
        "public demo secret, said loudly on every command. Never for real licenses.",
    )
    test_clock: bool = Field(
        default=False,
        description="Enable the test clock (PUT /api/v1/test-clock, mercato clock set): for demos and tests only. "
        "`mercato serve --demo` turns it on.",
    )

    # Sign-in throttling and the HTTP edge. See docs/security.md.
    sign_in_limit_per_account: str = Field(
        default="5/minute",
        description="Failed sign-ins allowed per account (a `limits` rate, e.g. 5/minute).",
    )
    sign_in_limit_per_address: str = Field(
        default="20/minute", description="Failed sign-ins allowed per client address."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where throttling counts live: memory:// (each server process) or redis://host:6379 "
        "(shared by every process).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Addresses of the reverse proxies whose X-Forwarded-For/-Proto headers are believed "
        "(comma-separated, or * for any). Empty: none, the connection's own address and scheme count.",
    )

    # E-mail (SMTP). See docs/email-and-jobs.md.
    smtp_host: str = Field(default="localhost", description="SMTP server that relays Mercato's e-mail.")
    smtp_port: int = Field(default=25, description="SMTP port: usually 25 (none), 587 (starttls), 465 (ssl).")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="none",
        description="none: plain SMTP; starttls: upgrade after connecting; ssl: TLS from the start.",
    )
    smtp_username: str | None = Field(default=None, description="Log in with this user (none: no login).")
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Give up on an unresponsive SMTP server after this long (per e-mail)."
    )
    mail_from: str = Field(default="Mercato <mercato@localhost>", description="The From of every e-mail.")
    public_url: str = Field(
        default="",
        description="The address people open Mercato at (https://mercato.example.com), used for the links in "
        "e-mails (invitations, password resets, sign-up confirmations, invoices, keys, renewal reminders' "
        "opt-out). Empty: the address of the request that caused the e-mail, or none; set it in production so "
        "no forged Host header can go into a link.",
    )

    # The outbox worker. See docs/email-and-jobs.md.
    worker_batch_size: int = Field(default=20, ge=1, description="Messages a worker claims at once.")
    worker_poll_seconds: float = Field(
        default=5.0, gt=0, description="How long an idle worker waits before looking for messages again."
    )
    outbox_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a claimed message stays hidden from other workers. Keep it above twice the "
        "longest delivery (smtp_timeout_seconds): a message is redelivered only when its lease runs out.",
    )
    outbox_retry_horizon_hours: float = Field(
        default=72.0,
        gt=0,
        description="How long a failing message is retried, counted from its first attempt; a failure after "
        "that parks it as dead (kept, listed by `mercato outbox list`, sent again by `mercato outbox retry`).",
    )
    outbox_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="Wait after the first failure; doubled after each further one."
    )
    outbox_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between attempts."
    )
    # Webhooks. See docs/vendors.md, "Webhooks".
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Give up on a webhook endpoint that has not answered after this long.",
    )
    webhook_disable_after_failures: int = Field(
        default=20,
        ge=1,
        description="An endpoint is disabled (and its owner told by e-mail) after this many failed delivery "
        "attempts in a row, once they span webhook_disable_after_hours.",
    )
    webhook_disable_after_hours: float = Field(
        default=24.0, ge=0, description="How long an endpoint must have been failing before it is disabled."
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Accept webhook endpoints on this machine (http://127.0.0.1, http://localhost, ...), for "
        "demos and tests; `mercato serve --demo` turns it on. Private networks are refused regardless.",
    )
    serve_drains_outbox: bool = Field(
        default=True,
        description="On SQLite, `mercato serve` also delivers outbox messages in the background.",
    )


def public_base_url(settings: Settings) -> str:
    """Where links in e-mails point: ``public_url``, or the address Mercato serves on."""
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
