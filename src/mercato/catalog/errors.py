"""Catalog errors a user can meet: one type per rule."""

from __future__ import annotations

from mercato.problems import Conflict, NotFound


class ListingNotFound(NotFound):
    """No listing of that app in that hosting that you may change: the app key or the hosting is wrong, or
    the app belongs to a vendor you are not a member of. `GET /api/v1/apps/{key}` shows an app's listings."""

    type = "listing-not-found"
    title = "Listing not found"


class ReleaseVersionTaken(Conflict):
    """The listing already has a release with this version, with other content (build date, notes or host
    versions). A release is never rewritten, since licenses and apps compare against its build date: give the
    new build a new version. Sending the very same release again is fine and answers the release."""

    type = "release-version-taken"
    title = "Release version taken"
