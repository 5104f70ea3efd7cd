"""The API reference pages load everything from Mercato itself: they work with no outside network
(``mercato.web.api_docs``)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

REDOC_SHA256 = "6beb5aea23b71d09122ee35de8f326e38aec050e774f3bfba1f34e5c36608986"  # redoc 2.5.2


class References(HTMLParser):
    """Every URL a page makes the browser fetch: scripts, styles, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "src" or (tag == "link" and name == "href")):
                self.urls.append(value)


def fetched_by(page: str) -> list[str]:
    parser = References()
    parser.feed(page)
    # Swagger UI is configured in an inline script: its url is the OpenAPI document.
    return parser.urls + re.findall(r"url: '([^']+)'", page)


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_reference_pages_fetch_nothing_from_outside_mercato(api: TestClient, path: str) -> None:
    page = api.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert (
        "http://" not in page.text
        and "https://" not in page.text
        and "//" not in page.text.replace("://", "")
    )
    urls = fetched_by(page.text)
    assert len(urls) >= 2, urls
    for url in urls:
        assert url.startswith("/"), f"{path} loads {url} from outside"
        asset = api.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url


def test_swagger_ui_is_the_pinned_release_that_reads_openapi_3_1(api: TestClient) -> None:
    page = api.get("/api/docs").text
    script = next(url for url in fetched_by(page) if url.endswith("swagger-ui-bundle.js"))
    bundle = api.get(script).text
    assert 'version:"5.31.0"' in bundle or "5.31.0" in bundle
    assert api.get("/api/v1/openapi.json").json()["openapi"].startswith("3.1")
    assert '"validatorUrl": null' in page  # no call to the public validator


def test_redoc_is_the_pinned_standalone_bundle(api: TestClient) -> None:
    page = api.get("/api/redoc").text
    script = next(url for url in fetched_by(page) if url.endswith("redoc.standalone.js"))
    assert hashlib.sha256(api.get(script).content).hexdigest() == REDOC_SHA256
    assert 'spec-url="/api/v1/openapi.json"' in page
