"""Pages of a list: the keyset cursor every list endpoint takes as ``after``, and the page it answers.

A list is read in a total order: a sort column (a creation time, a name) and then the row's id, so two rows never
tie and a page never overlaps or skips the next. A page asks for ``limit + 1`` rows from just past the cursor: the
extra row says whether more follow (``has_more``) and is not shown; the last row shown becomes ``next_after``.
Reading from a cursor costs the same on the first page and the thousandth (an index on the order serves it), where
``offset`` makes the database walk past every skipped row, and where ``count(*)`` reads every matching row: lists
that grow with sales count only when asked (``include=total``). docs/api.md explains the rules to clients.

A cursor is opaque to clients: URL-safe base64 of ``[list, sort value, id]``. It is checked strictly, since it
comes back from the outside: anything but a cursor this very list gave out (edited, of another list, too long, not
base64, not the right types) is refused with ``InvalidCursor``, a 422 problem, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from mercato.problems import InvalidInput

T = TypeVar("T")
U = TypeVar("U")

MAX_CURSOR_LENGTH = 400
"""Characters: a cursor this module gives out is under 200; anything much longer is not one."""
_MAX_TEXT_KEY = 300
_MAX_INT_KEY = 2**63 - 1


class InvalidCursor(InvalidInput):
    """The `after` (or `cursor`) parameter is not one this list gave out: pass the previous page's `next_after`
    unchanged, or leave it out for the first page. A cursor belongs to one list with its filters' order; it
    cannot be edited, made by hand or used on another list."""

    type = "invalid-cursor"
    title = "Invalid cursor"

    def __init__(self, parameter: str = "after") -> None:
        super().__init__(
            f"This `{parameter}` is not a cursor this list gave out: pass the previous page's `next_after` "
            "unchanged, or leave it out for the first page.",
            errors=[
                {
                    "field": f"query.{parameter}",
                    "message": "not a cursor of this list",
                    "code": "invalid_cursor",
                }
            ],
        )


@dataclass(frozen=True)
class PageRequest:
    """What a client asked of a list: at most ``limit`` rows, from just past ``after`` (a cursor) or past the
    first ``offset`` rows, and whether to count every matching row (``count_total``)."""

    limit: int = 50
    offset: int = 0
    after: str | None = None
    count_total: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows; ``total`` is ``None`` unless it was asked for (or the list always counts)."""

    rows: Sequence[T]
    has_more: bool
    next_after: str | None
    total: int | None = None

    def shown_as(self, rows: Sequence[U]) -> Page[U]:
        """The same page with its rows made into what a service shows (views, briefs)."""
        return Page(rows, self.has_more, self.next_after, self.total)


@dataclass(frozen=True)
class KeysetOrder:
    """A list's total order: ``sort``, then any ``between`` columns, then ``id`` (unique in the list), all
    descending (newest first) or all ascending.

    ``name`` tells this list's cursors from every other list's (include the sort when a list has several);
    ``sort_type``, ``id_type`` and the type paired with each ``between`` column are what the cursor's values are
    read back as (``datetime``, ``date``, ``str``, ``int``, ``uuid.UUID`` or a ``StrEnum``). The id follows
    the sort's direction unless ``id_descending`` says otherwise (the catalog's "most installed first, then by
    key")."""

    name: str
    sort: Any
    id: Any
    sort_type: type
    id_type: type
    descending: bool = True
    id_descending: bool | None = None
    between: tuple[tuple[Any, type], ...] = ()

    @property
    def _keys(self) -> list[tuple[Any, type, bool]]:
        id_descending = self.descending if self.id_descending is None else self.id_descending
        return [
            (self.sort, self.sort_type, self.descending),
            *((column, kind, self.descending) for column, kind in self.between),
            (self.id, self.id_type, id_descending),
        ]

    @property
    def columns(self) -> list[Any]:
        return [column for column, _, _ in self._keys]

    def order_by(self) -> list[Any]:
        return [column.desc() if descending else column.asc() for column, _, descending in self._keys]

    def past(self, values: Sequence[object]) -> Any:
        """The rows after ``values`` (one per key) in this order: ``sort <= v AND (sort < v OR (sort = v AND
        …))`` rather than a row comparison, which is portable, and whose first half is an index range on both
        databases."""
        keys = self._keys
        condition: Any = None
        for (column, _, descending), value in reversed(list(zip(keys, values, strict=True))):
            later = column < value if descending else column > value
            condition = later if condition is None else or_(later, and_(column == value, condition))
        first, _, descending = keys[0]
        return and_(first <= values[0] if descending else first >= values[0], condition)

    def encode(self, values: Sequence[object]) -> str:
        document = json.dumps([self.name, *(_dump(value) for value in values)], separators=(",", ":"))
        return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")

    def decode(self, cursor: str, parameter: str = "after") -> list[object]:
        """The values a cursor of this list holds, one per key; ``InvalidCursor`` for anything else."""
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise InvalidCursor(parameter)
        keys = self._keys
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            if not isinstance(document, list) or len(document) != len(keys) + 1 or document[0] != self.name:
                raise ValueError("not a cursor of this list")
            return [_load(value, kind) for value, (_, kind, _) in zip(document[1:], keys, strict=True)]
        except (ValueError, TypeError, binascii.Error, UnicodeError, OverflowError, RecursionError):
            raise InvalidCursor(parameter) from None


def _dump(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a cursor cannot hold {type(value).__name__}")
    return value


def _load(value: object, kind: type) -> object:
    """One cursor value read back strictly as ``kind`` (``ValueError`` or ``TypeError`` if it is not one)."""
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_INT_KEY:
            raise ValueError("not a row number")
        return value
    if not isinstance(value, str) or len(value) > _MAX_TEXT_KEY or "\x00" in value:
        raise ValueError("not a text value")
    value.encode("utf-8")  # no lone surrogates (UnicodeEncodeError), which PostgreSQL refuses
    if kind is str:
        return value
    if issubclass(kind, StrEnum):
        return kind(value)  # one of the enum's values, as its column would refuse any other
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:  # every timestamp Mercato stores is UTC and aware
            raise ValueError("no time zone")
        return moment
    if kind is date:
        return date.fromisoformat(value)
    raise TypeError(f"no cursor reading for {kind.__name__}")


def fetch_page(
    session: Session,
    query: Select[*tuple[Any, ...]],
    order: KeysetOrder,
    request: PageRequest,
    *,
    key_of: Callable[[Any], Sequence[object]] | None = None,
    scalars: bool = True,
    always_count: bool = False,
) -> Page[Any]:
    """One page of ``query`` (a select with its filters, not yet ordered) in ``order``.

    Rows are the query's entities (``scalars``) or its rows as tuples; ``key_of`` reads a row's values of the
    order's keys for the next cursor (default: the order's columns as attributes of the row's entity). The
    count, when asked for (or ``always_count`` on lists bounded by their owner), is a separate ``count(*)`` of
    the filtered query.
    """
    total = None
    if request.count_total or always_count:
        total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    paged = query.order_by(None).order_by(*order.order_by())
    if request.after is not None:
        paged = paged.where(order.past(order.decode(request.after)))
    paged = paged.limit(request.limit + 1).offset(request.offset)
    rows: Sequence[Any] = session.scalars(paged).all() if scalars else session.execute(paged).all()
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    next_after = None
    if has_more and rows:
        next_after = order.encode((key_of or _attributes(order))(rows[-1]))
    return Page(rows, has_more, next_after, total)


def _attributes(order: KeysetOrder) -> Callable[[Any], Sequence[object]]:
    names = [column.key for column in order.columns]
    return lambda row: [getattr(row, name) for name in names]


class PageOut(BaseModel):
    """The fields of every page besides its ``items`` (or ``data``)."""

    has_more: bool = Field(description="Whether rows follow this page.")
    next_after: str | None = Field(
        description="Pass it as `after` for the next page; null on the last page.", examples=[None]
    )
    total: int | None = Field(
        default=None,
        description="How many rows match, across all pages: only with `include=total` on lists that grow with "
        "sales; always on short lists (see the paging rules in the API guide).",
    )
    limit: int
    offset: int


def page_fields(page: Page[Any], request: PageRequest) -> dict[str, Any]:
    """The envelope fields of a page: ``PageOut(**page_fields(page, request), items=...)``."""
    return {
        "has_more": page.has_more,
        "next_after": page.next_after,
        "total": page.total,
        "limit": request.limit,
        "offset": request.offset,
    }
