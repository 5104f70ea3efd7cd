"""Browser tests: Debian's chromium driven by Playwright (no browser is downloaded), against a real Mercato
server on a loopback port, with its own SQLite file, the demo data, the test clock and a real SMTP server.

Locally a missing chromium skips these tests (``make browser`` installs it); with
``MERCATO_REQUIRE_BROWSER=1`` (as in CI) it fails them instead.

Each test module gets its own server and database; each test its own browser context (cookies, storage).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from mail.smtp_server import SmtpTestServer
from mercato.accounts.demo import load_demo_accounts
from mercato.app import create_app
from mercato.catalog.demo import load_demo_catalog
from mercato.catalog.repository import CatalogRepository
from mercato.database import make_engine, make_session_factory, transaction
from mercato.migrations import upgrade_to_head
from mercato.settings import Settings
from support.browser import DESKTOP, LiveServer, chromium_path
from support.secrets import COMMAND_SECRET


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    smtp = SmtpTestServer().start()
    database_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'mercato.db'}"
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with transaction(make_session_factory(engine)) as session:
        load_demo_catalog(CatalogRepository(session))
        load_demo_accounts(session)
    settings = Settings(
        database_url=database_url,
        secret_key=COMMAND_SECRET,
        test_clock=True,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        worker_poll_seconds=0.2,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield LiveServer(f"http://127.0.0.1:{port}", database_url, smtp)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    smtp.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in the thread while it is
    # started, and a later test of the same process that calls asyncio.run() would find it.
    executable = chromium_path()
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
