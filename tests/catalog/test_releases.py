"""Releases through HTTP on SQLite and PostgreSQL: who may add them, idempotent retries, refused input, and the
newest release each license may install (the verifier's VERSION_MISMATCH boundary)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.access import Principal
from mercato.accounts.models import Membership, Role, User
from mercato.catalog.errors import ReleaseVersionTaken
from mercato.catalog.models import Listing, Release, Vendor
from mercato.catalog.releases import Releases, installable
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.specs import ReleaseSpec
from mercato.licenses.models import License
from mercato.pricing import Hosting
from support.access import Endpoint, assert_access
from support.world import World, _token, build_world

MOCKUPS = "/api/v1/apps/com.example.mockups.wiki/listings/server/releases"
DIAGRAMS = "/api/v1/apps/com.diagramly.diagrams.wiki/listings/server/releases"  # another vendor's app


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> Iterator[World]:
    """The test world, plus a member of another vendor (diagramly) with a token."""
    with session_factory() as session, session.begin():
        world = build_world(session)
        diagramly = session.scalars(select(Vendor).where(Vendor.slug == "diagramly")).one()
        user = User(email="diagramly_vendor@test.example", name="diagramly_vendor")
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, role=Role.VENDOR_MEMBER, vendor_id=diagramly.id))
        world.tokens["diagramly_vendor"] = _token(session, user, ["read", "write"])
        world.tokens["mockups_read_only"] = _token(
            session,
            session.scalars(select(User).where(User.email == "mockups_vendor@test.example")).one(),
            ["read"],
        )
    yield world


def release(version: str = "4.3.0", **overrides: Any) -> dict[str, Any]:
    return {
        "version": version,
        "build_date": "2026-11-20",
        "notes": "Faster rendering.\n\n- Fixes export to PDF.",
        "host_version_min": "8.5",
        "host_version_max": "9.4",
    } | overrides


def test_a_vendor_member_adds_a_release_and_everyone_reads_it_newest_first(
    client: TestClient, world: World
) -> None:
    added = client.post(MOCKUPS, json=release(), headers=world.auth("mockups_vendor"))
    assert added.status_code == 201, added.text
    assert added.json() == release()
    listed = client.get(MOCKUPS)  # public, no token
    assert listed.status_code == 200
    assert [r["version"] for r in listed.json()] == ["4.3.0", "4.2.0", "4.1.0", "4.0.0"]
    assert listed.json()[0] == release()
    app = client.get("/api/v1/apps/com.example.mockups.wiki").json()
    server = next(listing for listing in app["listings"] if listing["hosting"] == "server")
    assert server["releases"][0] == release()  # with notes and compatibility


def test_sending_the_same_release_again_answers_it_and_other_content_is_a_conflict(
    client: TestClient, world: World
) -> None:
    headers = world.auth("mockups_vendor")
    assert client.post(MOCKUPS, json=release(), headers=headers).status_code == 201
    again = client.post(MOCKUPS, json=release(), headers=headers)
    assert again.status_code == 200 and again.json() == release()
    for change in ({"build_date": "2026-11-21"}, {"notes": "Other notes."}, {"host_version_max": None}):
        refused = client.post(MOCKUPS, json=release(**change), headers=headers)
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["type"].endswith("/release-version-taken")
        assert problem["field"] == "version"
        assert [e["field"] for e in problem["errors"]] == ["body.version"]
    # A demo release (4.2.0) with other content is refused too; nothing was rewritten.
    assert client.post(MOCKUPS, json=release("4.2.0"), headers=headers).status_code == 409
    versions = [r["version"] for r in client.get(MOCKUPS).json()]
    assert versions == ["4.3.0", "4.2.0", "4.1.0", "4.0.0"]
    assert client.get(MOCKUPS).json()[0] == release()


def test_the_same_version_on_another_hosting_is_another_release(client: TestClient, world: World) -> None:
    headers = world.auth("mockups_vendor")
    assert client.post(MOCKUPS, json=release(), headers=headers).status_code == 201
    datacenter = MOCKUPS.replace("/server/", "/datacenter/")
    assert client.post(datacenter, json=release(build_date="2026-11-01"), headers=headers).status_code == 201


def test_the_server_clock_decides_what_a_future_build_date_is(
    client: TestClient, world: World, server_clock: Any
) -> None:
    headers = world.auth("mockups_vendor")
    tomorrow = client.post(MOCKUPS, json=release(build_date="2026-11-27"), headers=headers)
    assert tomorrow.status_code == 422, tomorrow.text
    assert [e["field"] for e in tomorrow.json()["errors"]] == ["body.build_date"]
    assert client.post(MOCKUPS, json=release(build_date="2026-11-26"), headers=headers).status_code == 201
    server_clock.advance(days=1)
    assert (
        client.post(MOCKUPS, json=release("4.4.0", build_date="2026-11-27"), headers=headers).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": ""}, "body.version"),
        ({"version": "4.3 beta"}, "body.version"),
        ({"version": "x" * 65}, "body.version"),
        ({"build_date": "yesterday"}, "body.build_date"),
        ({"build_date": "1999-12-31"}, "body.build_date"),
        ({"notes": "<script>alert(1)</script>"}, "body.notes"),
        ({"notes": "[click](javascript:alert(1))"}, "body.notes"),
        ({"notes": "a\x00b"}, "body.notes"),
        ({"host_version_min": "latest"}, "body.host_version_min"),
        ({"host_version_min": "9.10", "host_version_max": "9.4"}, "body.host_version_max"),
        ({"colour": "red"}, "body.colour"),
    ],
)
def test_bad_releases_are_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, world: World, change: dict[str, Any], field: str
) -> None:
    response = client.post(MOCKUPS, json=release("4.9.0") | change, headers=world.auth("mockups_vendor"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert len(client.get(MOCKUPS).json()) == 3


def test_unknown_apps_and_hostings_are_404(client: TestClient, world: World) -> None:
    headers = world.auth("operator")
    assert client.get("/api/v1/apps/com.example.nope/listings/server/releases").status_code == 404
    assert (
        client.post(
            "/api/v1/apps/com.example.nope/listings/server/releases", json=release(), headers=headers
        ).status_code
        == 404
    )
    assert client.get(DIAGRAMS.replace("/server/", "/datacenter/")).status_code == 404  # no such listing
    assert client.get("/api/v1/apps/wiki/listings/server/releases").status_code == 404  # a host product
    assert client.get(MOCKUPS.replace("/server/", "/mainframe/")).status_code == 422


def test_access_only_the_apps_vendor_and_the_operator_add_releases(client: TestClient, world: World) -> None:
    callers = {
        name: world.tokens[name]
        for name in (
            "operator",
            "acme_admin",
            "acme_billing",
            "mockups_vendor",
            "diagramly_vendor",
            "mockups_read_only",
        )
    }
    versions = iter(range(100))
    assert_access(
        client,
        [
            Endpoint(
                "POST",
                MOCKUPS,
                allowed={"operator", "mockups_vendor"},
                body=lambda _: release(f"5.0.{next(versions)}"),
            ),
            Endpoint(
                "POST",
                DIAGRAMS,
                allowed={"operator", "diagramly_vendor"},
                body=lambda _: release(f"9.0.{next(versions)}"),
            ),
        ],
        callers,
        read_only={"mockups_read_only": "mockups_vendor"},
    )


# -- the newest release a license may install ---------------------------------------------------------------


def _license(session: Session, world: World, maintenance_end: date | None, product_key: str) -> str:
    listing = session.scalars(
        select(Listing).where(Listing.product_key == product_key, Listing.hosting == "server")
    ).one()
    number = f"SEN-R{uuid.uuid4().hex[:12]}"
    session.add(
        License(
            entitlement_number=number,
            listing_id=listing.id,
            organisation_id=world.acme.id,
            host_instance_id=world.wiki_server.id,
            product_key=product_key,
            hosting="server",
            channel="marketplace",
            issuer="operator",
            license_type="commercial",
            tier_users=100,
            host_binding="ACME-WIKI-0001",
            maintenance_end=maintenance_end,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    return number


@pytest.mark.parametrize(
    ("maintenance_end", "newest", "renewal_unlocks"),
    [
        (date(2025, 11, 17), {"version": "4.0.0", "build_date": "2025-03-04"}, True),  # a day before 4.1.0
        (date(2025, 11, 18), {"version": "4.1.0", "build_date": "2025-11-18"}, True),  # 4.1.0's build day
        (date(2026, 6, 9), {"version": "4.2.0", "build_date": "2026-06-09"}, False),
        (date(2025, 3, 3), None, True),  # before every release
        (None, {"version": "4.2.0", "build_date": "2026-06-09"}, False),  # no maintenance limit
    ],
)
def test_a_license_shows_the_newest_release_built_on_or_before_its_maintenance_end(
    client: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    maintenance_end: date | None,
    newest: dict[str, str] | None,
    renewal_unlocks: bool,
) -> None:
    with session_factory() as session, session.begin():
        number = _license(session, world, maintenance_end, "com.example.mockups.wiki")
    headers = world.auth("acme_admin")
    one = client.get(f"/api/v1/licenses/{number}", headers=headers).json()
    assert one["newest_installable_release"] == newest
    assert one["renewal_unlocks_newer_release"] is renewal_unlocks
    listed = client.get("/api/v1/licenses", headers=headers).json()["items"]
    shown = next(item for item in listed if item["entitlement_number"] == number)
    assert shown["newest_installable_release"] == newest


def test_a_release_added_later_changes_what_licenses_may_install(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        number = _license(session, world, date(2026, 12, 31), "com.example.mockups.wiki")
    headers = world.auth("acme_admin")
    assert (
        client.get(f"/api/v1/licenses/{number}", headers=headers).json()["newest_installable_release"][
            "version"
        ]
        == "4.2.0"
    )
    client.post(MOCKUPS, json=release(), headers=world.auth("mockups_vendor"))
    assert client.get(f"/api/v1/licenses/{number}", headers=headers).json()["newest_installable_release"] == {
        "version": "4.3.0",
        "build_date": "2026-11-20",
    }


def test_the_license_list_loads_releases_without_a_query_per_license(
    client: TestClient, world: World, session_factory: sessionmaker[Session], engine: Any
) -> None:
    with session_factory() as session, session.begin():
        for key in ["com.example.mockups.wiki", "com.diagramly.diagrams.wiki", "io.timekeep.tracker"] * 3:
            _license(session, world, date(2026, 1, 1), key)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    headers = world.auth("operator")
    client.get("/api/v1/licenses", params={"limit": 1}, headers=headers)  # the token's first use is recorded
    event.listen(engine, "before_cursor_execute", count)
    try:
        few = client.get("/api/v1/licenses", params={"limit": 2}, headers=headers)
        reads_for_few = len(statements)
        statements.clear()
        many = client.get("/api/v1/licenses", params={"limit": 9}, headers=headers)
        reads_for_many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few.status_code == many.status_code == 200
    assert len(many.json()["items"]) == 9
    assert reads_for_many == reads_for_few


@settings(max_examples=60, deadline=None)
@given(
    builds=st.lists(st.dates(date(2024, 1, 1), date(2027, 1, 1)), max_size=6),
    maintenance_end=st.none() | st.dates(date(2023, 6, 1), date(2027, 6, 1)),
)
def test_installable_is_the_verifiers_rule(builds: list[date], maintenance_end: date | None) -> None:
    releases = [Release(id=i + 1, version=f"1.{i}.0", build_date=day) for i, day in enumerate(builds)]
    result = installable(releases, maintenance_end)
    allowed = [r for r in releases if maintenance_end is None or r.build_date <= maintenance_end]
    if not allowed:
        assert result.newest_installable is None
    else:
        chosen = result.newest_installable
        assert chosen in allowed
        # Nothing the license may install is newer (the verifier accepts build_date <= maintenance end).
        assert all((r.build_date, r.id) <= (chosen.build_date, chosen.id) for r in allowed)  # type: ignore[union-attr,operator]
    newer = any(maintenance_end is not None and r.build_date > maintenance_end for r in releases)
    assert result.renewal_unlocks_newer is newer


def test_a_release_another_request_added_meanwhile_is_answered_not_duplicated(session: Session) -> None:
    """Two requests adding one version at once: the second finds the unique constraint taken, answers the
    first one's release when the content is the same, and 409 when it is not."""
    repository = CatalogRepository(session)
    listing = repository.listing("com.example.mockups.wiki", Hosting.SERVER)
    assert listing is not None and listing.app is not None
    operator = Principal(
        user_id=uuid.uuid4(),
        email="ops@test.example",
        scopes=frozenset({"read", "write"}),
        customer_admin_of=frozenset(),
        billing_contact_of=frozenset(),
        vendor_member_of=frozenset(),
        operator=True,
    )
    # The other request commits its row after this one read the listing's releases.
    session.execute(
        insert(Release).values(
            listing_id=listing.id, version="4.3.0", build_date=date(2026, 11, 20), notes=""
        )
    )
    assert "4.3.0" not in {r.version for r in listing.releases}  # what this request read is stale
    releases = Releases(repository, date(2026, 11, 26))
    same = ReleaseSpec(version="4.3.0", build_date=date(2026, 11, 20))
    answered, created = releases.add(operator, "com.example.mockups.wiki", Hosting.SERVER, same)
    assert (answered.version, created) == ("4.3.0", False)
    with pytest.raises(ReleaseVersionTaken):
        releases.add(
            operator, "com.example.mockups.wiki", Hosting.SERVER, same.model_copy(update={"notes": "Other."})
        )
    count = session.scalar(
        select(func.count())
        .select_from(Release)
        .where(Release.listing_id == listing.id, Release.version == "4.3.0")
    )
    assert count == 1
