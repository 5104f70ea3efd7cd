"""Passwords, stored only as argon2id hashes (argon2-cffi's defaults: RFC 9106's low-memory profile).

A user may have no password at all: accounts added by an admin, or made for scripts, sign in with API tokens
until they set one.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mercato.problems import InvalidInput

MIN_LENGTH = 12
# Hashing cost grows with the input; a cap stops a megabyte "password" from becoming a denial of service.
MAX_LENGTH = 256

_hasher = PasswordHasher(type=Type.ID)


def check_password_rules(password: str) -> None:
    """Length is the rule that matters (NIST SP 800-63B); composition rules only make passwords guessable."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_LENGTH} characters; a short phrase works well.")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"A password may have at most {MAX_LENGTH} characters.")
    if not password.strip():
        raise InvalidInput("A password cannot be only spaces.")


def hash_password(password: str) -> str:
    """The argon2id hash of a password that follows the rules (``InvalidInput`` otherwise)."""
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; False for a password-less account or a hash that is not argon2.

    A missing hash (an unknown e-mail, a password-less account) is checked against a stand-in hash all the
    same, so the answer takes as long as a wrong password's and its timing does not tell who has an account.
    """
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _stand_in_hash(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def _stand_in_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(32))


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's, so the next sign-in should replace it."""
    return _hasher.check_needs_rehash(password_hash)
