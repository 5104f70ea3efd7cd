"""The paging parameters every list endpoint takes (see ``mercato.paging``, which has the fields every page
answers, and the paging section of docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from mercato.fields import PageLimit, PageOffset
from mercato.paging import MAX_CURSOR_LENGTH, PageRequest

CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"

AfterQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        pattern=CURSOR_PATTERN,
        description="The previous page's `next_after`: the page that follows it. Leave it out for the first page. "
        "Paging with `after` costs the same on every page and never repeats or skips a row when rows are added "
        "meanwhile.",
    ),
]
IncludeQuery = Annotated[
    Literal["total"] | None,
    Query(
        description="`total`: also count every matching row (a count of the whole list; ask only when shown)."
    ),
]


def page_request(
    limit: Annotated[PageLimit, Query(description="Items per page.")] = 50,
    offset: Annotated[
        PageOffset,
        Query(
            description="Items to skip (after `after`, if given). Fine for the first few pages; use `after` "
            "to go deeper, as skipping makes the database read every skipped row."
        ),
    ] = 0,
    after: AfterQuery = None,
    include: IncludeQuery = None,
) -> PageRequest:
    return PageRequest(limit=limit, offset=offset, after=after, count_total=include == "total")


PageParams = Annotated[PageRequest, Depends(page_request)]
"""A list endpoint's ``limit``, ``offset``, ``after`` and ``include`` query parameters."""
