"""Passwords are argon2id hashes; the password itself is never kept."""

from __future__ import annotations

import pytest

from mercato.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from mercato.problems import InvalidInput

PASSWORD = "correct horse battery staple"


def test_hash_is_argon2id_and_verifies_only_the_same_password() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD.upper())
    assert not needs_rehash(hashed)


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_passwordless_accounts_and_foreign_hashes_never_verify() -> None:
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)
    assert not verify_password(hash_password(PASSWORD), "x" * 10_000)


@pytest.mark.parametrize("password", ["short", " " * MIN_LENGTH, "x" * 257])
def test_passwords_outside_the_rules_are_refused_with_a_sentence(password: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        hash_password(password)
    assert refused.value.detail.endswith(".")
