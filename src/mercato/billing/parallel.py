"""A billing run's batches in several processes at once: ``mercato billing run --jobs N`` on PostgreSQL.

The run's work is already cut into batches, each in a transaction of its own under row locks. Jobs take
different batches: the renewals with ``FOR UPDATE SKIP LOCKED`` (a site another job holds is passed over, and
renewed by that job), the license state changes as the disjoint batches the run lists. The parent keeps what
one run keeps: the billing lock, the count of cycles each site was renewed (so the cap holds across jobs), the
report and the progress bar.

Processes rather than threads: a batch's time is mostly Python (pricing, the ORM), which one interpreter runs
on one core at a time. They are spawned rather than forked, so that no job shares a database connection of
the parent (the billing lock's among them).
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, as_completed, wait
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from mercato.billing.service import BillingReport, BillingRun, RenewalBatch, renew_next_batch
from mercato.cli_support import command_services
from mercato.database import make_engine, make_session_factory, transaction
from mercato.services import Services
from mercato.settings import get_settings

_job: tuple[sessionmaker[Session], Services] | None = None
"""In each job's process: its session factory and its services (set by ``_start``)."""


class DayChanged(RuntimeError):
    """A job's clock gives another day than the run's: midnight passed as the jobs started."""


def _start(as_of: date | None, day: date) -> None:
    """Each job's own engine and services, made as the run made its own (the same ``--today``, the same test
    clock), on the same day."""
    global _job
    settings = get_settings()
    services = command_services(settings, as_of)
    if services.clock.today() != day:
        raise DayChanged(f"the run bills {day}, a job started on {services.clock.today()}: run it again")
    _job = (make_session_factory(make_engine(settings.database_url)), services)


def _renew(capped: frozenset[uuid.UUID]) -> RenewalBatch | None:
    assert _job is not None, "a billing job runs only in a process started by _start"
    factory, services = _job
    return renew_next_batch(factory, services, capped, skip_locked=True)


def _change(license_ids: Sequence[uuid.UUID]) -> tuple[BillingReport, int]:
    assert _job is not None, "a billing job runs only in a process started by _start"
    factory, services = _job
    with transaction(factory) as session:
        return BillingRun(session, services).change_licenses(license_ids), len(license_ids)


class BillingJobs:
    """``jobs`` processes that do a run's batches; use it as a context manager (the processes end with it)."""

    def __init__(self, jobs: int, as_of: date | None, day: date) -> None:
        self.jobs = jobs
        self.pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(as_of, day),
        )

    def __enter__(self) -> BillingJobs:
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def renewals(self, max_cycles_per_site: int) -> Iterator[RenewalBatch]:
        """Batches of renewals until no job finds a due site; as ``renewal_batches`` does in one process, a site
        renewed ``max_cycles_per_site`` times in this run is left for the next run. A job that finds no free
        site ends; the others are started again whenever a batch came back, since a site still due after its
        renewal (several cycles behind) is free again."""
        cycles: Counter[uuid.UUID] = Counter()
        capped: set[uuid.UUID] = set()
        running: set[Future[RenewalBatch | None]] = set()

        def top_up() -> None:
            while len(running) < self.jobs:
                running.add(self.pool.submit(_renew, frozenset(capped)))

        top_up()
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            renewed = [batch for batch in (future.result() for future in done) if batch is not None]
            for batch in renewed:
                yield batch
                for site_id in batch.sites:
                    cycles[site_id] += 1
                    if cycles[site_id] >= max_cycles_per_site:
                        capped.add(site_id)
            if renewed:
                top_up()

    def changes(self, batches: Sequence[Sequence[uuid.UUID]]) -> Iterator[tuple[BillingReport, int]]:
        """Each batch of license state changes in a transaction of its own, in whichever job is free; yields
        each batch's report and size as it completes."""
        for future in as_completed([self.pool.submit(_change, batch) for batch in batches]):
            yield future.result()
