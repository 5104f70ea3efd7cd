"""A billing run's batches in several processes at once: ``mercato billing run --jobs N`` on PostgreSQL.

The run's work is already cut into batches, each in a transaction of its own under row locks. Jobs take
different batches: the renewals with ``FOR UPDATE SKIP LOCKED`` (a site another job holds is passed over, and
renewed by that job), the license state changes as the disjoint batches the run lists. The parent keeps what
one run keeps: the billing lock, the count of cycles each site was renewed (so the cap holds across jobs), the
report and the progress bar.

Processes rather than threads: a batch's time is mostly Python (pricing, the ORM), which one interpreter runs
on one core at a time. They are spawned rather than forked, so that no job shares a database connection of
the parent (the billing lock's among them). Each job has a pipe of its own to the parent, and the parent
watches each job's process: a job killed mid-batch (its transaction rolled back by the database) stops the
run with a sentence, never a hang, and the jobs still running are stopped; what the others committed stays.
"""

from __future__ import annotations

import multiprocessing
import signal
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from mercato.billing.service import BillingReport, BillingRun, RenewalBatch, renew_next_batch
from mercato.cli_support import command_services
from mercato.database import make_engine, make_session_factory, transaction
from mercato.settings import get_settings


class JobStopped(RuntimeError):
    """A job's process ended before its work was done (killed, out of memory), or a job's batch failed."""


def _serve(connection: Connection, as_of: date | None, day: date) -> None:
    """A job's process: its own engine and services, made as the run made its own (the same ``--today``, the
    same test clock), then one task after another from the parent until told to stop (None). Ctrl-C is the
    parent's to handle: it tells the jobs to stop after their batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        settings = get_settings()
        services = command_services(settings, as_of)
        if services.clock.today() != day:
            raise JobStopped(f"the run bills {day}, a job started on {services.clock.today()}: run it again")
        factory = make_session_factory(make_engine(settings.database_url))
        while (task := connection.recv()) is not None:
            kind, argument = task
            if kind == "renew":
                connection.send(("done", renew_next_batch(factory, services, argument, skip_locked=True)))
            else:
                with transaction(factory) as session:
                    report = BillingRun(session, services).change_licenses(argument)
                connection.send(("done", (report, len(argument))))
    except EOFError:
        return  # the run's process is gone: no one to answer
    except Exception:
        with suppress(OSError):
            connection.send(("failed", traceback.format_exc()))


@dataclass
class _Job:
    process: BaseProcess
    connection: Connection


class BillingJobs:
    """``jobs`` processes that do a run's batches; use it as a context manager (the processes end with it)."""

    def __init__(self, jobs: int, as_of: date | None, day: date) -> None:
        context = multiprocessing.get_context("spawn")
        self.jobs: list[_Job] = []
        for _ in range(jobs):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, as_of, day), daemon=True)
            process.start()
            theirs.close()
            self.jobs.append(_Job(process, ours))

    def __enter__(self) -> BillingJobs:
        return self

    def __exit__(self, *_: object) -> None:
        for job in self.jobs:
            with suppress(OSError):
                job.connection.send(None)
        for job in self.jobs:
            job.process.join(timeout=30)
            if job.process.is_alive():  # stopped mid-batch: its transaction is rolled back
                job.process.terminate()
                job.process.join()
            job.connection.close()

    def renewals(self, max_cycles_per_site: int) -> Iterator[RenewalBatch]:
        """Batches of renewals until no job finds a due site; as ``renewal_batches`` does in one process, a site
        renewed ``max_cycles_per_site`` times in this run is left for the next run. A job that finds no free
        site waits; all are given work again whenever a batch came back, since a site still due after its
        renewal (several cycles behind) is free again."""
        cycles: Counter[uuid.UUID] = Counter()
        capped: set[uuid.UUID] = set()
        idle: list[_Job] = []
        busy: list[_Job] = []

        def give(job: _Job) -> None:
            _send(job, ("renew", frozenset(capped)))
            busy.append(job)

        for job in self.jobs:
            give(job)
        while busy:
            job, batch = self._next_answer(busy)
            if batch is None:
                idle.append(job)
                continue
            yield batch
            for site_id in batch.sites:
                cycles[site_id] += 1
                if cycles[site_id] >= max_cycles_per_site:
                    capped.add(site_id)
            for free in [job, *idle]:
                give(free)
            idle.clear()

    def changes(self, batches: Sequence[Sequence[uuid.UUID]]) -> Iterator[tuple[BillingReport, int]]:
        """Each batch of license state changes in a transaction of its own, in whichever job is free; yields
        each batch's report and size as it completes."""
        waiting = list(batches)
        busy: list[_Job] = []

        def give(job: _Job) -> None:
            if waiting:
                _send(job, ("change", waiting.pop(0)))
                busy.append(job)

        for job in self.jobs:
            give(job)
        while busy:
            job, done = self._next_answer(busy)
            yield done
            give(job)

    def _next_answer(self, busy: list[_Job]) -> tuple[_Job, Any]:
        """The first answer of the busy jobs (that job is no longer busy), or JobStopped if one failed or its
        process ended."""
        connections = {job.connection: job for job in busy}
        ended = {job.process.sentinel: job for job in busy}
        ready = wait([*connections, *ended])
        answered = [connections[item] for item in ready if item in connections]
        died = [ended[item] for item in ready if isinstance(item, int) and item in ended]
        job = (answered or died)[0]
        try:
            status, value = job.connection.recv()
        except (EOFError, OSError):
            raise _ended(job) from None
        busy.remove(job)
        if status == "failed":
            raise JobStopped(f"a billing job failed:\n{value}")
        return job, value


def _send(job: _Job, task: tuple[str, Any]) -> None:
    try:
        job.connection.send(task)
    except OSError:  # a broken pipe: the job's process is gone
        raise _ended(job) from None


def _ended(job: _Job) -> JobStopped:
    job.process.join(timeout=5)
    return JobStopped(f"a billing job's process ended (exit code {job.process.exitcode})")
