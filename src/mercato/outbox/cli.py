"""``mercato worker``: deliver outbox messages (e-mail, …), once or until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from mercato.cli_support import err_console
from mercato.clock import utcnow
from mercato.database import make_engine, make_session_factory
from mercato.outbox.repository import OutboxRepository
from mercato.outbox.worker import (
    DeliveryReport,
    OutboxWorker,
    RetryPolicy,
    run_worker_loop,
    standard_handlers,
)
from mercato.settings import get_settings


def _describe(report: DeliveryReport) -> str:
    parts = [f"[green]{report.delivered} delivered[/green]"]
    if report.retrying:
        parts.append(f"[yellow]{report.retrying} to retry[/yellow]")
    if report.given_up:
        parts.append(f"[red]{report.given_up} given up[/red]")
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
        session_factory, standard_handlers(settings), RetryPolicy.from_settings(settings), batch_size
    )
    columns = (TextColumn("Delivering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task("outbox", total=due)
        return runner.drain(stop, on_batch=lambda report: progress.advance(task, report.settled))
