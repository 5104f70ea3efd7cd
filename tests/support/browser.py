"""Helpers of the browser tests (fixtures in tests/browser/conftest.py)."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from mail.smtp_server import SmtpTestServer
from mercato.accounts.demo import DEMO_PASSWORD

REQUIRE_BROWSER = os.environ.get("MERCATO_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BUYER, VENDOR, OPERATOR = "admin@acme.example", "dev@mockups.example", "ops@northwind.example"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (make browser, or: apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(f"A browser is required (MERCATO_REQUIRE_BROWSER=1): {message}")
        pytest.skip(message)
    return found


@dataclass
class LiveServer:
    url: str
    database_url: str
    smtp: SmtpTestServer

    def emails_to(self, address: str, timeout: float = 10.0) -> list:  # type: ignore[type-arg]
        """The e-mails received for ``address`` so far, waiting (up to ``timeout``) for at least one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.smtp.received if address in e.rcpt_tos]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
