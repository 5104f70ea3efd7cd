"""The shapes of what a request may carry, refused at the edge with a 422 that names the field.

One reusable type per kind of value, used by every feature's request schemas and by the routes' path, query
and header parameters, so that nonsense never reaches a rule or the database:

- ``Text`` (one line) and ``Note`` (may span lines): no NUL or other control characters, no lone surrogates.
  PostgreSQL refuses NUL in text (a 500 before this type), SQLite would store it, and neither can be shown.
- ``Day``: a calendar date between 2000-01-01 and 2099-12-31. Prices, maintenance and payments are computed in
  years and days from these dates; year 1 or 9999 is a typo, and dates near 9999 overflow the arithmetic.
- ``UserTier``: a number of users written in ASCII digits (``"100"``, ``"10,000"``, ``"100 users"``) or
  ``"unlimited"``; not ``"1e9"``, ``"100.0"``, ``"-1"`` or ``"١٠٠"``.
- ``PageOffset``, ``PageLimit``, ``RowId``, ``UserCount``: integers within what the database stores.

Only pydantic here: the rules that read the parsed values (and the domain core) stay free of the framework.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final

from annotated_types import Interval
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from mercato.pricing.errors import PricingError
from mercato.pricing.types import Tier

EARLIEST_DAY: Final = date(2000, 1, 1)
LATEST_DAY: Final = date(2099, 12, 31)
MAX_OFFSET: Final = 2_147_483_647  # the largest 32-bit integer: every database's OFFSET and INTEGER take it
MAX_ROW_ID: Final = 2_147_483_647
MAX_USERS: Final = 1_000_000  # no catalog sells a larger tier; cloud sites have at most this many users

# C0 and C1 control characters and DEL (Unicode category Cc), and lone UTF-16 surrogates (Cs), which cannot be
# encoded as UTF-8 and so cannot be stored. A note may keep tabs and line breaks.
_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOTE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _describe(character: str) -> str:
    return "NUL" if character == "\x00" else f"U+{ord(character):04X}"


def _refusing(pattern: re.Pattern[str], kind: str) -> AfterValidator:
    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise PydanticCustomError(
                "control_character",
                "must not contain control characters ({kind}): found {character} at position {position}. "
                "Remove it and send the text again",
                {"kind": kind, "character": _describe(found.group()), "position": found.start() + 1},
            )
        return value

    return AfterValidator(check)


def _within_range(value: date) -> date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise PydanticCustomError(
            "date_out_of_range",
            "must be a date between {earliest} and {latest}, not {value}",
            {
                "earliest": EARLIEST_DAY.isoformat(),
                "latest": LATEST_DAY.isoformat(),
                "value": value.isoformat(),
            },
        )
    return value


def _user_tier(value: str) -> str:
    refusal = PydanticCustomError(
        "user_tier",
        'is not a user tier: give a number of users from 1 to {most} in digits 0-9 (like "100"), or "unlimited"',
        {"most": f"{MAX_USERS:,}"},
    )
    try:
        tier = Tier.parse(value)
    except (ValueError, PricingError):  # not digits, or no users at all
        raise refusal from None
    if tier.users is not None and tier.users > MAX_USERS:
        raise refusal
    return value


Text = Annotated[str, _refusing(_LINE_FORBIDDEN, "one line of text")]
"""One line of text: no control characters (NUL, tab, line breaks, ...) and no lone surrogates."""

Note = Annotated[str, _refusing(_NOTE_FORBIDDEN, "text may hold tabs and line breaks only")]
"""Text that may span lines (tabs and line breaks allowed), with no other control characters."""

Day = Annotated[date, AfterValidator(_within_range)]
"""A calendar date between 2000-01-01 and 2099-12-31."""

UserTier = Annotated[str, StringConstraints(max_length=20), AfterValidator(_user_tier)]
"""A user tier as text: a number of users (ASCII digits, at most 1,000,000) or "unlimited"."""

PageOffset = Annotated[int, Interval(ge=0, le=MAX_OFFSET)]
PageLimit = Annotated[int, Interval(ge=1, le=200)]
RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]
UserCount = Annotated[int, Interval(ge=1, le=MAX_USERS)]
