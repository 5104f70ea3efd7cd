"""Verifier rules that mutation testing (``make mutation``, docs/testing.md) showed no test would notice
breaking: the edges of the largest tier and of the longest key."""

from __future__ import annotations

from typing import Any

from mercato.licensing import LicenseStatus, check
from mercato.licensing.reading import MAX_KEY_LENGTH


def test_the_largest_tier_a_key_can_carry_is_one_billion_users(make_payload: Any) -> None:
    assert make_payload(tier=1_000_000_000).tier == 1_000_000_000  # one more is refused (test_claims)


def test_text_of_the_longest_key_length_is_not_too_long_and_one_character_more_is(
    trusted: Any, make_host: Any
) -> None:
    assert MAX_KEY_LENGTH == 4096
    at_limit = check("A" * 4096, trusted, make_host())
    over = check("A" * 4097, trusted, make_host())
    assert at_limit.status is over.status is LicenseStatus.MALFORMED
    assert at_limit.message.startswith("This is not a complete license key")
    assert over.message.startswith(
        "This text is too long to be a license key (a key has at most 4096 characters)"
    )
