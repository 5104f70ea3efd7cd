"""Password reset by e-mail: a link that works once, for 30 minutes by the server's clock.

Asking for a link answers alike whether or not the address has an account (only the mailbox learns). Setting the
new password uses the link up (and every other open link of the user), and ends the user's browser sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mercato.accounts import emails
from mercato.accounts.errors import LinkNotFound, LinkUsed
from mercato.accounts.links import check_open, link, new_link_token
from mercato.accounts.models import PasswordReset, User
from mercato.accounts.passwords import check_password_rules
from mercato.accounts.service import AccountService, normalise_email
from mercato.accounts.tokens import hash_token
from mercato.problems import InvalidInput

RESET_LIFETIME = timedelta(minutes=30)
# More open links than this and no more e-mail is sent: the form cannot be used to flood a mailbox.
MAX_OPEN_RESETS = 3
ASK_AGAIN = "Ask for a new link on the password reset page."


class PasswordResetService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository

    def request(self, email: str, now: datetime, base_url: str) -> None:
        """Queue a reset e-mail if the address has an active account; nothing otherwise, and nothing said."""
        try:
            address = normalise_email(email)
        except InvalidInput:
            return
        user = self.repository.user_by_email(address)
        if user is None or not user.active:
            return
        if self.repository.open_password_resets(user.id, now) >= MAX_OPEN_RESETS:
            return
        token, token_hash = new_link_token()
        self.repository.add(
            PasswordReset(
                user_id=user.id, token_hash=token_hash, created_at=now, expires_at=now + RESET_LIFETIME
            )
        )
        emails.queue_password_reset(
            self.session,
            user.email,
            name=user.name,
            url=link(base_url, f"/password-reset/{token}"),
            minutes=int(RESET_LIFETIME.total_seconds() // 60),
        )

    def open(self, token: str, now: datetime) -> tuple[PasswordReset, User]:
        """The reset behind a link that still works (``LinkNotFound``, ``LinkUsed``, ``LinkExpired``)."""
        reset = self.repository.password_reset_by_hash(hash_token(token)) if len(token) <= 100 else None
        user = self.repository.user_by_id(reset.user_id) if reset else None
        if reset is None or user is None or not user.active:
            raise LinkNotFound(f"This password reset link is not valid. {ASK_AGAIN}")
        check_open(reset.used_at, reset.expires_at, now, "password reset", ASK_AGAIN)
        return reset, user

    def reset(self, token: str, password: str, now: datetime) -> User:
        """Set the new password once, and sign the user out everywhere."""
        reset, user = self.open(token, now)
        check_password_rules(password)
        if not self.repository.use_password_reset(reset, now):
            raise LinkUsed(f"This password reset link was used already, just now. {ASK_AGAIN}")
        self.accounts.set_password(user, password)
        self.repository.end_web_sessions(user.id, now)
        return user
