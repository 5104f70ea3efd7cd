"""What browser tests check on every main page: axe-core finds no serious or critical violation, and the page
is photographed at desktop and phone widths for the README (``docs/screenshots/``)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from support.browser import DESKTOP, PHONE, SCREENSHOTS

_axe = Axe()
BLOCKING = {"serious", "critical"}


def assert_accessible(page: Page) -> None:
    """No serious or critical WCAG violation that axe-core can find on the page as it is now."""
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING]
    described = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in blocking
    )
    assert not blocking, f"accessibility violations on {page.url}:\n{described}"


def photograph(page: Page, name: str) -> None:
    """``docs/screenshots/{name}-desktop.png`` and ``-phone.png`` of the page as it is now."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def check_page(page: Page, name: str | None = None) -> None:
    """Accessible, and photographed when it is one of the main pages."""
    assert_accessible(page)
    if name:
        photograph(page, name)
