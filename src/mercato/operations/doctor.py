"""``mercato doctor``: what an operator checks before trusting a deployment, each finding with a sentence and
the fix. Nothing here changes the deployment: it does not create or migrate the database, and it opens the
sealed signing keys only to see that the secret still opens them."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from pydantic import ValidationError
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session

from mercato.cli_support import DEMO_SECRET, database_in_use, secret_problem
from mercato.clock import Clock
from mercato.database import make_engine
from mercato.keys.models import KeyState
from mercato.keys.repository import KeyRepository
from mercato.keys.sealing import open_private_key
from mercato.mail.mailer import SmtpMailer
from mercato.migrations import alembic_config
from mercato.operations.transfer import current_revision
from mercato.outbox.repository import MessageStatus, OutboxRepository
from mercato.paging import PageRequest
from mercato.settings import Settings

SMTP_CHECK_TIMEOUT_SECONDS = 5.0
KEY_ROTATION_DAYS = 365
OUTBOX_LATE = timedelta(minutes=15)


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    """Worth knowing, not wrong: the exit status stays 0."""
    PROBLEM = "problem"
    """Something is wrong: ``mercato doctor`` exits with status 1."""


@dataclass(frozen=True)
class Finding:
    check: str
    verdict: Verdict
    sentence: str
    fix: str = ""


def diagnose(load_settings: type[Settings], clock: Clock) -> list[Finding]:
    """Every check, in the order an operator would fix them: the settings first, the database next."""
    try:
        settings = load_settings()
    except ValidationError as error:
        fields = ", ".join(
            "MERCATO_" + "_".join(str(part) for part in problem["loc"]).upper() for problem in error.errors()
        )
        return [
            Finding(
                "settings",
                Verdict.PROBLEM,
                f"Some settings cannot be read: {fields} ({error.errors()[0]['msg']}).",
                "Correct them in the environment or in .env; docs/operating.md lists every setting.",
            )
        ]
    findings = [Finding("settings", Verdict.OK, "The settings can be read.")]
    findings += list(_settings_warnings(settings))
    findings.append(_secret(settings))
    engine, database = _database(settings)
    findings += database
    if engine is not None:
        try:
            findings += _with_schema(engine, settings, clock)
        finally:
            engine.dispose()
    findings.append(_smtp(settings))
    return findings


def _settings_warnings(settings: Settings) -> Iterator[Finding]:
    if settings.test_clock:
        yield Finding(
            "test clock",
            Verdict.WARNING,
            "The test clock is enabled: anyone with an operator token can move the deployment's time.",
            "Unset MERCATO_TEST_CLOCK outside demos and tests.",
        )
    if settings.demo:
        yield Finding(
            "demo mode",
            Verdict.WARNING,
            "Demo mode is on (MERCATO_DEMO).",
            "Unset MERCATO_DEMO for a real deployment.",
        )


def _secret(settings: Settings) -> Finding:
    problem = secret_problem(settings.secret_key)
    if problem is None:
        return Finding("secret", Verdict.OK, "MERCATO_SECRET_KEY is long and random enough.")
    fix = (
        "Make one with `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`; if keys are sealed with "
        "the old one, move them with `mercato keys reseal` (docs/operating.md, Signing keys and secrets)."
    )
    if settings.demo and settings.secret_key in ("", DEMO_SECRET):
        return Finding("secret", Verdict.WARNING, f"{problem}: acceptable for a demo only.", fix)
    return Finding(
        "secret", Verdict.PROBLEM, f"{problem}: whoever copies the database has every signing key.", fix
    )


def _database(settings: Settings) -> tuple[Engine | None, list[Finding]]:
    where = database_in_use(settings)
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        return None, [
            Finding(
                "database",
                Verdict.PROBLEM,
                f"MERCATO_DATABASE_URL is not a database URL Mercato can use: {where} ({error}).",
                "Use sqlite:///path/to/mercato.db or postgresql://user:password@host:5432/database.",
            )
        ]
    if engine.url.get_backend_name() == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:" or not Path(path).exists():
            engine.dispose()
            return None, [
                Finding(
                    "database",
                    Verdict.PROBLEM,
                    f"There is no Mercato database at {where}.",
                    "Run `mercato migrate` to create it there, or point MERCATO_DATABASE_URL at your database.",
                )
            ]
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
    except DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return None, [
            Finding(
                "database",
                Verdict.PROBLEM,
                f"Cannot reach the database at {where}: {reason}.",
                "Check that the server runs and that MERCATO_DATABASE_URL names it (host, port, user, password, "
                "database).",
            )
        ]
    findings = [Finding("database", Verdict.OK, f"The database at {where} answers.")]
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = scripts.get_current_head()
    if revision is None:
        engine.dispose()
        findings.append(
            Finding(
                "migrations",
                Verdict.PROBLEM,
                f"{where} has no Mercato tables.",
                "Run `mercato migrate` to create them.",
            )
        )
        return None, findings
    if revision == head:
        findings.append(Finding("migrations", Verdict.OK, f"The schema is up to date (migration {head})."))
        return engine, findings
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        engine.dispose()
        findings.append(
            Finding(
                "migrations",
                Verdict.PROBLEM,
                f"The database is at migration {revision}, which this Mercato does not know: a newer version "
                "migrated it.",
                "Run that newer version of Mercato (or restore the backup taken before its upgrade).",
            )
        )
        return None, findings
    findings.append(
        Finding(
            "migrations",
            Verdict.WARNING,
            f"The database is at migration {revision}; this Mercato's schema is at {head}.",
            "Take a backup, then run `mercato migrate` (serve also migrates when it starts).",
        )
    )
    return engine, findings


def _with_schema(engine: Engine, settings: Settings, clock: Clock) -> list[Finding]:
    tables = set(inspect(engine).get_table_names())
    findings: list[Finding] = []
    with Session(engine) as session:
        if "signing_keys" in tables:
            findings += _signing_keys(KeyRepository(session), settings.secret_key, clock)
        if "outbox_messages" in tables:
            findings += _outbox(OutboxRepository(session), clock)
        session.rollback()
    return findings


def _signing_keys(keys: KeyRepository, secret: str, clock: Clock) -> list[Finding]:
    rows = list(keys.every_key())
    if not rows:
        return [
            Finding(
                "signing keys", Verdict.OK, "No signing keys yet: each issuer's is made on its first sale."
            )
        ]
    findings = []
    for issuer in sorted({row.issuer for row in rows}):
        ring = [row for row in rows if row.issuer == issuer]
        signing = [row for row in ring if row.state == KeyState.SIGNING]
        check = f"signing keys of {issuer}"
        unopened = []
        if secret:
            for row in ring:
                if row.state == KeyState.RETIRED:
                    continue
                try:
                    open_private_key(row.sealed_private_key, secret, row.issuer, row.kid)
                except Exception:
                    unopened.append(row.kid)
        if unopened:
            findings.append(
                Finding(
                    check,
                    Verdict.PROBLEM,
                    f"MERCATO_SECRET_KEY does not open {', '.join(unopened)}: nothing can be signed for {issuer}.",
                    "Set the secret the keys were sealed with; after changing it on purpose, move the keys with "
                    "`mercato keys reseal` (MERCATO_OLD_SECRET_KEY set to the old one).",
                )
            )
        elif not signing:
            findings.append(
                Finding(
                    check,
                    Verdict.WARNING,
                    f"{issuer} has no signing key; one is made on its next sale.",
                    f"Or make one now: mercato keys rotate --issuer {issuer}",
                )
            )
        else:
            age = (clock.now() - signing[0].created_at).days
            if age > KEY_ROTATION_DAYS:
                findings.append(
                    Finding(
                        check,
                        Verdict.WARNING,
                        f"{issuer} has signed with {signing[0].kid} for {age} days.",
                        f"Rotate it: mercato keys rotate --issuer {issuer}, and publish the new public key.",
                    )
                )
            else:
                findings.append(
                    Finding(
                        check, Verdict.OK, f"{issuer} signs with {signing[0].kid} ({len(ring)} in its ring)."
                    )
                )
    return findings


def _outbox(outbox: OutboxRepository, clock: Clock) -> list[Finding]:
    now = clock.now()
    dead = outbox.page([MessageStatus.DEAD], None, now, PageRequest(1, count_total=True)).total
    late = outbox.count_due(now - OUTBOX_LATE)
    findings = []
    if dead:
        findings.append(
            Finding(
                "outbox",
                Verdict.PROBLEM,
                f"{dead} outbox message(s) are dead: they were not delivered and will not be retried.",
                "See why with `mercato outbox list --status dead`; once fixed, `mercato outbox retry --dead`.",
            )
        )
    if late:
        minutes = int(OUTBOX_LATE.total_seconds() // 60)
        findings.append(
            Finding(
                "outbox",
                Verdict.PROBLEM,
                f"{late} outbox message(s) have waited more than {minutes} minutes for delivery.",
                "Start `mercato worker` (PostgreSQL), or `mercato serve` (SQLite delivers from it); "
                "`mercato outbox list` shows them.",
            )
        )
    if not findings:
        findings.append(Finding("outbox", Verdict.OK, "No outbox message is dead or late."))
    return findings


def _smtp(settings: Settings) -> Finding:
    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    mailer = SmtpMailer.from_settings(settings)
    mailer.timeout = min(mailer.timeout, SMTP_CHECK_TIMEOUT_SECONDS)
    try:
        with mailer.connect() as smtp:
            smtp.ehlo_or_helo_if_needed()
            if mailer.username:
                smtp.login(mailer.username, mailer.password or "")
    except smtplib.SMTPAuthenticationError as error:
        return Finding(
            "smtp",
            Verdict.PROBLEM,
            f"The SMTP server at {where} refused the login ({error.smtp_code}).",
            "Check MERCATO_SMTP_USERNAME and MERCATO_SMTP_PASSWORD.",
        )
    except (TimeoutError, OSError, smtplib.SMTPException, ssl.SSLError) as error:
        return Finding(
            "smtp",
            Verdict.PROBLEM,
            f"Cannot reach the SMTP server at {where}: {error or type(error).__name__}. Invoices and keys are "
            "not e-mailed (they wait in the outbox).",
            "Set MERCATO_SMTP_HOST, _PORT and _SECURITY to your mail relay (docs/email-and-jobs.md).",
        )
    login = " and accepts the login" if mailer.username else ""
    return Finding("smtp", Verdict.OK, f"The SMTP server at {where} answers{login}.")


def worst(findings: list[Finding]) -> Verdict:
    verdicts = {finding.verdict for finding in findings}
    for verdict in (Verdict.PROBLEM, Verdict.WARNING):
        if verdict in verdicts:
            return verdict
    return Verdict.OK
