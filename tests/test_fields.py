"""The shared field types every request schema is built from (``mercato.fields``)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from mercato.fields import Day, Note, PageOffset, Text, UserTier

TEXT = TypeAdapter(Text)
NOTE = TypeAdapter(Note)
DAY = TypeAdapter(Day)
TIER = TypeAdapter(UserTier)
OFFSET = TypeAdapter(PageOffset)


def refusal(adapter: TypeAdapter[object], value: object) -> str:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    return str(caught.value.errors()[0]["msg"])


@given(st.characters(categories=["Cc", "Cs"]))
def test_text_refuses_every_control_character_and_lone_surrogate(character: str) -> None:
    assert "control characters" in refusal(TEXT, f"ab{character}c")


@given(st.text(st.characters(exclude_categories=["Cc", "Cs"])))
def test_text_keeps_every_other_character(value: str) -> None:
    assert TEXT.validate_python(value) == value


def test_the_refusal_says_which_character_and_where() -> None:
    assert "found NUL at position 3" in refusal(TEXT, "ab\x00c")
    assert "found U+0085 at position 1" in refusal(TEXT, "\x85")


def test_a_note_may_span_lines_but_holds_no_other_control_character() -> None:
    assert NOTE.validate_python("line one\r\n\tline two") == "line one\r\n\tline two"
    for character in ["\x00", "\x1b", "\x7f", "\x9f", "\ud800"]:
        assert "control characters" in refusal(NOTE, f"a{character}")


def test_a_day_lies_between_2000_and_2099_inclusive() -> None:
    assert DAY.validate_python("2000-01-01") == date(2000, 1, 1)
    assert DAY.validate_python("2099-12-31") == date(2099, 12, 31)
    for outside in ["1999-12-31", "2100-01-01", "0001-01-01", "9999-12-31"]:
        assert refusal(DAY, outside) == f"must be a date between 2000-01-01 and 2099-12-31, not {outside}"


@pytest.mark.parametrize(
    "tier", ["1", "100", "10,000", "1000000", "100 users", "1 user", "unlimited", "Unlimited"]
)
def test_a_user_tier_is_a_number_of_users_in_ascii_digits_or_unlimited(tier: str) -> None:
    assert TIER.validate_python(tier) == tier


@pytest.mark.parametrize("tier", ["abc", "", "-1", "1e9", "100.0", "0", "١٠٠", "²", "1000001", "1" * 21])
def test_anything_else_is_not_a_user_tier(tier: str) -> None:
    assert refusal(TIER, tier)


def test_an_offset_fits_a_32_bit_integer() -> None:
    assert OFFSET.validate_python(2**31 - 1) == 2**31 - 1
    for outside in [-1, 2**31, 2**64]:
        assert refusal(OFFSET, outside)
