"""``mercato worker``: deliver outbox messages (e-mail, …), once or until stopped; and ``mercato outbox``:
list them, show one, and send undelivered ones again."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import Annotated, Any

import typer
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from mercato.cli_support import err_console, nothing_found, require_secret, unit_of_work
from mercato.clock import SystemClock, utcnow
from mercato.database import make_engine, make_session_factory
from mercato.outbox.repository import UNDELIVERED, MessageStatus, OutboxRepository
from mercato.outbox.service import MessageView, OutboxService
from mercato.outbox.worker import (
    DeliveryReport,
    OutboxWorker,
    RetryPolicy,
    run_worker_loop,
    standard_handlers,
)
from mercato.paging import PageRequest
from mercato.settings import get_settings


def _describe(report: DeliveryReport) -> str:
    parts = [f"[green]{report.delivered} delivered[/green]"]
    if report.retrying:
        parts.append(f"[yellow]{report.retrying} to retry[/yellow]")
    if report.dead:
        parts.append(f"[red]{report.dead} dead[/red]")
    if report.released:
        parts.append(f"{report.released} handed back")
    return ", ".join(parts)


@contextmanager
def _showing_delivery_failures() -> Iterator[None]:
    """The worker logs each failed attempt as a warning; an operator watching it should see them."""
    logger = logging.getLogger("mercato")
    handler = RichHandler(console=err_console, show_path=False, markup=False)
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM finishes the message in hand and hands the rest of the batch back; a second Ctrl-C
    interrupts at once (the message in hand is then redelivered when its lease runs out)."""

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        err_console.print("Stopping after the message in hand… (Ctrl-C again to interrupt)")

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = False,
    batch: Annotated[
        int | None,
        typer.Option("--batch", min=1, help="Messages claimed at once (default MERCATO_WORKER_BATCH_SIZE)."),
    ] = None,
    poll_seconds: Annotated[
        float | None,
        typer.Option(
            "--poll-seconds",
            min=0.1,
            help="Wait between looks when idle (default MERCATO_WORKER_POLL_SECONDS).",
        ),
    ] = None,
) -> None:
    """Deliver outbox messages (e-mail) until stopped with Ctrl-C. On PostgreSQL run as many as you like."""
    require_secret(get_settings())
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("outbox_messages"):
            err_console.print("[red]The database has no outbox yet:[/red] run `mercato migrate` first.")
            raise typer.Exit(1)
        stop = threading.Event()
        batch_size = batch or settings.worker_batch_size
        where = engine.url.render_as_string(hide_password=True)
        with _stopping_on_signals(stop), _showing_delivery_failures():
            if once:
                total = _drain_once(engine, stop, batch_size)
            else:
                err_console.print(f"Outbox worker on {where}; Ctrl-C to stop.")
                total = run_worker_loop(
                    engine,
                    stop,
                    settings=settings,
                    batch_size=batch_size,
                    poll_seconds=poll_seconds,
                    on_batch=lambda report: err_console.print(
                        f"[dim]{utcnow():%H:%M:%S}[/dim] {_describe(report)}"
                    ),
                )
        err_console.print(f"Outbox: {_describe(total)}.")
    finally:
        engine.dispose()


def _drain_once(engine: Engine, stop: threading.Event, batch_size: int) -> DeliveryReport:
    settings = get_settings()
    session_factory = make_session_factory(engine)
    with session_factory() as session:
        due = OutboxRepository(session).count_due(utcnow())
    runner = OutboxWorker(
        session_factory,
        standard_handlers(settings, session_factory=session_factory),
        RetryPolicy.from_settings(settings),
        batch_size,
    )
    columns = (TextColumn("Delivering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task("outbox", total=due)
        return runner.drain(stop, on_batch=lambda report: progress.advance(task, report.settled))


outbox_app = typer.Typer(
    help="Outbox messages (e-mail): where each stands, and sending dead ones again.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on standard output instead of a table.")]
MessageArgument = Annotated[
    str, typer.Argument(help="The message's id, or its first characters (at least 6).")
]
_STATUS_STYLES = {
    MessageStatus.PENDING: "",
    MessageStatus.RETRYING: "yellow",
    MessageStatus.SENDING: "cyan",
    MessageStatus.DELIVERED: "green",
    MessageStatus.DEAD: "bold red",
}
_LONGEST_SHOWN_TEXT = 200


def _service(session: Any, hours: float) -> OutboxService:
    return OutboxService(session, timedelta(hours=hours))


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _as_json(view: MessageView, *, with_payload: bool) -> dict[str, Any]:
    document = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in dataclasses.asdict(view).items()
    }
    document["id"] = str(view.id)
    document["status"] = view.status.value
    if not with_payload:
        del document["payload"]
    return document


def _print_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _shortened(value: Any) -> Any:
    """The payload with long strings (bodies, base64 attachments) cut, so that it fits on a screen."""
    if isinstance(value, str) and len(value) > _LONGEST_SHOWN_TEXT:
        return f"{value[:_LONGEST_SHOWN_TEXT]}… ({len(value)} characters)"
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shortened(item) for item in value]
    return value


@outbox_app.command("list")
def list_messages(
    status: Annotated[
        list[MessageStatus] | None,
        typer.Option(
            "--status",
            help="Only messages in this state; repeat for several. Default: every one not delivered "
            "(pending, retrying, sending, dead).",
        ),
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Only messages of this topic, e.g. email.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many, newest first.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List outbox messages, newest first: their state, attempts, next attempt and last error."""
    now = SystemClock().now()
    with unit_of_work() as (session, _):
        statuses = tuple(status) if status else UNDELIVERED
        found = _service(session, get_settings().outbox_retry_horizon_hours).page(
            now, statuses, topic, PageRequest(limit, offset, count_total=True)
        )
        views, total = found.rows, found.total or 0
    if as_json:
        items = [_as_json(view, with_payload=False) for view in views]
        _print_json({"items": items, "total": total, "limit": limit, "offset": offset})
        return
    which = ", ".join(statuses)
    if not total:
        nothing_found(f"No outbox messages ({which})")
        return
    table = Table()
    for column in ("id", "state", "topic", "tries", "created (UTC)", "next / done (UTC)"):
        table.add_column(column, no_wrap=True)
    table.add_column("about", overflow="fold", min_width=12)
    table.add_column("last error", overflow="fold", min_width=12)
    for view in views:
        style = _STATUS_STYLES[view.status]
        table.add_row(
            view.id.hex[:8],
            f"[{style}]{view.status}[/{style}]" if style else str(view.status),
            view.topic,
            str(view.attempts),
            _when(view.created_at),
            _when(view.next_attempt_at or view.delivered_at or view.dead_at),
            escape(view.summary),
            escape((view.last_error or "")[:80]),
        )
    err_console.print(table)
    shown = f"{offset + 1}–{offset + len(views)} of {total}" if len(views) < total else f"{total}"
    err_console.print(f"{shown} message(s) ({which}). `mercato outbox show ID` tells more.")


@outbox_app.command("show")
def show_message(message: MessageArgument, as_json: JsonOption = False) -> None:
    """Show one message: its state, every date, its last error and its payload."""
    now = SystemClock().now()
    with unit_of_work() as (session, _):
        service = _service(session, get_settings().outbox_retry_horizon_hours)
        view = service.view(service.find(message), now)
    if as_json:
        _print_json(_as_json(view, with_payload=True))
        return
    lines = [
        ("id", str(view.id)),
        ("state", view.status.value),
        ("topic", view.topic),
        ("about", view.summary),
        ("attempts", str(view.attempts)),
        ("created", _when(view.created_at)),
        ("first attempt", _when(view.first_attempt_at)),
        ("last attempt", _when(view.last_attempt_at)),
        ("next attempt", _when(view.next_attempt_at)),
        ("retried until", _when(view.retry_until)),
        ("delivered", _when(view.delivered_at)),
        ("dead since", _when(view.dead_at)),
        ("last error", view.last_error or ""),
    ]
    for label, value in lines:
        if value:
            err_console.print(f"[bold]{label:>14}[/bold]  {escape(value)}")
    err_console.print(f"[bold]{'payload':>14}[/bold]")
    err_console.print_json(json.dumps(_shortened(view.payload), ensure_ascii=False))
    if view.status is MessageStatus.DEAD:
        err_console.print(f"Send it again with: mercato outbox retry {view.id.hex[:8]}")


@outbox_app.command("retry")
def retry_messages(
    messages: Annotated[
        list[str] | None,
        typer.Argument(help="Ids (or their first characters) of the messages to send again."),
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Send every dead message again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Send undelivered messages again now, each with a fresh retry horizon: dead ones, or ones waiting for
    their next attempt (after the mail server is fixed, say). Delivered messages are not sent twice."""
    if not messages and not dead:
        err_console.print("Name the messages to send again, or give --dead for every dead message.")
        raise typer.Exit(2)
    now = SystemClock().now()
    with unit_of_work() as (session, _):
        service = _service(session, get_settings().outbox_retry_horizon_hours)
        retried = service.retry_dead(now) if dead else []
        retried += [service.retry(reference, now) for reference in messages or ()]
    if as_json:
        _print_json([_as_json(view, with_payload=False) for view in retried])
        return
    for view in retried:
        err_console.print(f"{view.id.hex[:8]}  {view.topic}  {escape(view.summary)}")
    err_console.print(f"{len(retried)} message(s) due again now; a worker sends them on its next round.")
