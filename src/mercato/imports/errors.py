"""The problems an import may answer."""

from __future__ import annotations

from collections.abc import Sequence

from mercato.imports.rows import RowProblem
from mercato.problems import Conflict, InvalidInput, Problem


class ImportRefused(InvalidInput):
    """The import file has problems, and nothing of it was imported. `errors` lists every one of them with its
    `line` (the header is line 1), its `column` (null for the whole line) and a `detail` that says what is
    wrong. Correct the file (docs/importing.md describes it) and send it again; `dry_run=true` checks it
    without importing."""

    type = "import-refused"
    title = "The import file has problems"

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        count = len(problems)
        first = problems[0] if problems else None
        detail = (
            f"The file has {count} problem{'s' if count != 1 else ''}, so nothing was imported"
            + (f"; the first: {first}." if first else ".")
            + " Correct the file and send it again."
        )
        super().__init__(
            detail,
            errors=[{"line": p.line, "column": p.column, "detail": p.detail} for p in problems],
        )
        self.problems = list(problems)


class ImportTooLarge(Problem):
    """The import file is larger than an import takes (5 MB). Split it into several files: each is imported
    on its own, and references already imported are skipped."""

    status = 413
    type = "import-too-large"
    title = "The import file is too large"


class DirectStoreClosed(Conflict):
    """Imported licenses are the vendor's direct licenses, signed with its direct store's keys: the vendor needs
    an open direct store (`POST /api/v1/vendors/{slug}/direct-store` with `{"enabled": true}`) before it
    imports."""

    type = "direct-store-closed"
    title = "The vendor's direct store is not open"


class ImportCollided(Conflict):
    """Another import of the same vendor wrote some of the same references at the same moment; this one wrote
    nothing. Send the file again: the references imported by then are skipped."""

    type = "import-collided"
    title = "Another import wrote the same references"
