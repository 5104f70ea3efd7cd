"""The jobs of ``billing run --jobs``, driven directly: a job whose batch fails, or that starts on another day
than the run's, stops the run with what went wrong, and no job is left running."""

from __future__ import annotations

from datetime import date

import pytest

from mercato.billing.parallel import BillingJobs, JobStopped
from mercato.database import make_engine
from mercato.migrations import upgrade_to_head
from support.secrets import COMMAND_SECRET

DAY = date(2026, 12, 27)


@pytest.fixture
def database(fresh_database_url, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """A migrated PostgreSQL database, named in the environment the jobs' processes are spawned with."""
    url = str(fresh_database_url("postgresql"))
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    monkeypatch.setenv("MERCATO_DATABASE_URL", url)
    monkeypatch.setenv("MERCATO_SECRET_KEY", COMMAND_SECRET)
    monkeypatch.delenv("MERCATO_TEST_CLOCK", raising=False)
    return url


@pytest.mark.postgres
def test_a_failing_batch_stops_the_run_with_the_jobs_error(database: str) -> None:
    with BillingJobs(2, DAY, DAY) as jobs:
        with pytest.raises(JobStopped, match=r"a billing job failed:(.|\n)*not-a-license-id"):
            list(jobs.changes([["not-a-license-id"]]))
        processes = [job.process for job in jobs.jobs]
    assert not any(process.is_alive() for process in processes)


@pytest.mark.postgres
def test_a_job_started_on_another_day_than_the_run_does_nothing(database: str) -> None:
    stopped = "the run bills 2026-12-28, a job started on 2026-12-27"
    with BillingJobs(1, DAY, date(2026, 12, 28)) as jobs, pytest.raises(JobStopped, match=stopped):
        list(jobs.renewals(max_cycles_per_site=24))
