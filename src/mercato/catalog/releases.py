"""Releases: the versions of an app's listing, with their build dates, host compatibility and notes.

A vendor member (or the operator) adds a release without review: it changes no price and no policy. What a
license may install follows the verifier's rule (``mercato.licensing.verify``, VERSION_MISMATCH): a release
built on or before the license's last day of maintenance."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from mercato.accounts.access import Principal
from mercato.catalog.errors import ListingNotFound, ReleaseVersionTaken
from mercato.catalog.models import Listing, Release
from mercato.catalog.repository import CatalogRepository
from mercato.catalog.specs import ReleaseSpec
from mercato.pricing import Hosting
from mercato.problems import InvalidInput


@dataclass(frozen=True)
class Installable:
    """What a license may install of a listing's releases."""

    newest_installable: Release | None
    """The newest release built on or before the end of the license's maintenance (None: none is)."""
    newest: Release | None
    """The newest release of all."""

    @property
    def renewal_unlocks_newer(self) -> bool:
        """Whether a newer release exists that the license may install only after renewing maintenance."""
        return self.newest is not None and self.newest is not self.newest_installable


def _newest_first(release: Release) -> tuple[date, int]:
    return release.build_date, release.id or 0


def newest_first(releases: Iterable[Release]) -> list[Release]:
    """Releases by build date, newest first (two of one day: the one added later first)."""
    return sorted(releases, key=_newest_first, reverse=True)


def installable(releases: Iterable[Release], maintenance_end: date | None) -> Installable:
    """The newest release a license whose maintenance ends on ``maintenance_end`` may install: built on or
    before that day, as the verifier checks (no end: any release)."""
    ordered = newest_first(releases)
    allowed = [r for r in ordered if maintenance_end is None or r.build_date <= maintenance_end]
    return Installable(
        newest_installable=allowed[0] if allowed else None, newest=ordered[0] if ordered else None
    )


def _version_key(version: str) -> tuple[int, ...] | None:
    """A host version as numbers (``9.4.12`` → (9, 4, 12)); None when it is not only dotted numbers."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", version):
        return None
    return tuple(int(part) for part in version.split("."))


def _same_content(release: Release, spec: ReleaseSpec) -> bool:
    return (release.build_date, release.notes, release.host_version_min, release.host_version_max) == (
        spec.build_date,
        spec.notes,
        spec.host_version_min,
        spec.host_version_max,
    )


class Releases:
    """Adds and lists the releases of an app's listings."""

    def __init__(self, repository: CatalogRepository, today: date) -> None:
        self.repository = repository
        self.today = today

    def listing_of_app(self, app_key: str, hosting: Hosting) -> Listing:
        """The app's listing in ``hosting``, with its releases (public: anyone may read them)."""
        listing = self.repository.listing(app_key, hosting)
        if listing is None or listing.app is None:
            raise ListingNotFound(
                f"The app {app_key!r} has no {hosting.value} listing. GET /api/v1/apps/{app_key} shows its "
                "listings."
            )
        return listing

    def add(
        self, principal: Principal, app_key: str, hosting: Hosting, spec: ReleaseSpec
    ) -> tuple[Release, bool]:
        """Add a release to the listing; ``(release, True)`` when it was added, ``(the same release, False)``
        when it was there already with the same content. Vendor members of the app's vendor and the operator
        may; for anyone else the listing does not exist."""
        listing = self.repository.listing(app_key, hosting)
        app = listing.app if listing is not None else None
        if (
            listing is None
            or app is None
            or not (principal.operator or app.vendor_id in principal.vendor_member_of)
        ):
            raise ListingNotFound(
                f"There is no {hosting.value} listing of {app_key!r} that you may add releases to. Members "
                "of the app's vendor and the operator may."
            )
        self._check(spec)
        existing = next((r for r in listing.releases if r.version == spec.version), None)
        if existing is not None:
            return self._same(existing, spec), False
        release = Release(
            listing_id=listing.id,
            version=spec.version,
            build_date=spec.build_date,
            notes=spec.notes,
            host_version_min=spec.host_version_min,
            host_version_max=spec.host_version_max,
        )
        session = self.repository.session
        try:
            # A concurrent request adding the same version wins the unique constraint; this one then answers
            # what that one wrote.
            with session.begin_nested():
                session.add(release)
                session.flush()
        except IntegrityError:
            stored = self.repository.release(listing.id, spec.version)
            if stored is None:
                raise
            return self._same(stored, spec), False
        return release, True

    def _check(self, spec: ReleaseSpec) -> None:
        errors = []
        if spec.build_date > self.today:
            errors.append(
                {
                    "field": "body.build_date",
                    "message": f"{spec.build_date.isoformat()} is after today ({self.today.isoformat()}): "
                    "give the day the release was built",
                    "code": "build_date_in_future",
                }
            )
        low, high = spec.host_version_min, spec.host_version_max
        low_key, high_key = _version_key(low or ""), _version_key(high or "")
        if low_key is not None and high_key is not None and low_key > high_key:
            errors.append(
                {
                    "field": "body.host_version_max",
                    "message": f"{high} is lower than host_version_min {low}",
                    "code": "host_versions_reversed",
                }
            )
        if errors:
            raise InvalidInput(
                "The release cannot be added: "
                + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
                + ".",
                errors=errors,
            )

    @staticmethod
    def _same(existing: Release, spec: ReleaseSpec) -> Release:
        if not _same_content(existing, spec):
            raise ReleaseVersionTaken(
                f"The listing already has version {spec.version} with other content (built "
                f"{existing.build_date.isoformat()}). Give the new build a new version.",
                field="version",
                errors=[
                    {
                        "field": "body.version",
                        "message": f"version {spec.version} already exists with other content",
                        "code": "release_version_taken",
                    }
                ],
            )
        return existing
