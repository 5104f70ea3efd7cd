"""Signing up: name, e-mail, password, and optionally a customer organisation to create.

The form answers alike for every address ("check your e-mail"), so it never tells who has an account. A new
address gets a confirmation link (1 day, once); following it makes the account (and the organisation, with the
new user as its customer admin) and signs them in. An address that has an account already gets an e-mail
saying someone tried to sign up with it, with the ways to sign in or reset the password — and no account is
made or changed.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mercato.accounts import emails
from mercato.accounts.errors import EmailTaken, LinkNotFound, LinkUsed, SlugTaken
from mercato.accounts.links import check_open, link, moment, new_link_token
from mercato.accounts.models import Organisation, Role, SignUp, User
from mercato.accounts.passwords import hash_password
from mercato.accounts.service import AccountService, normalise_email, required_text
from mercato.accounts.tokens import hash_token

SIGN_UP_LIFETIME = timedelta(days=1)
MAX_OPEN_SIGN_UPS = 3
ASK_AGAIN = "Sign up again to get a new link."


def slug_of(name: str) -> str:
    """``Acme Europe GmbH`` → ``acme-europe-gmbh``: a readable start for an organisation's slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-")
    return slug or "organisation"


class SignUpService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.repository = self.accounts.repository

    def sign_up(
        self,
        email: str,
        name: str,
        password: str,
        organisation_name: str | None,
        now: datetime,
        base_url: str,
    ) -> None:
        """Check the form's rules, then queue the confirmation (or, for a known address, the notice).
        Either way the caller answers the same."""
        address = normalise_email(email)
        person = required_text(name, "name")
        password_hash = hash_password(password)
        organisation = required_text(organisation_name, "organisation's name") if organisation_name else None
        user = self.repository.user_by_email(address)
        if user is not None:
            emails.queue_sign_up_notice(
                self.session,
                address,
                name=user.name,
                sign_in_url=link(base_url, "/sign-in"),
                reset_url=link(base_url, "/password-reset"),
            )
            return
        if self.repository.open_sign_ups(address, now) >= MAX_OPEN_SIGN_UPS:
            return  # the form cannot be used to flood a mailbox
        token, token_hash = new_link_token()
        record = SignUp(
            email=address,
            name=person,
            password_hash=password_hash,
            organisation_name=organisation,
            token_hash=token_hash,
            created_at=now,
            expires_at=now + SIGN_UP_LIFETIME,
        )
        self.repository.add(record)
        emails.queue_sign_up_confirmation(
            self.session,
            address,
            name=person,
            url=link(base_url, f"/sign-up/{token}"),
            expires=moment(record.expires_at),
        )

    def open(self, token: str, now: datetime) -> SignUp:
        """The sign-up behind a link that still works (``LinkNotFound``, ``LinkUsed``, ``LinkExpired``)."""
        record = self.repository.sign_up_by_hash(hash_token(token)) if len(token) <= 100 else None
        if record is None:
            raise LinkNotFound(f"This sign-up link is not valid. {ASK_AGAIN}")
        again = "Sign in with your e-mail address." if record.completed_at else ASK_AGAIN
        check_open(record.completed_at, record.expires_at, now, "sign-up", again)
        return record

    def confirm(self, token: str, now: datetime) -> tuple[User, Organisation | None]:
        """Make the account of a sign-up whose link still works, once."""
        record = self.open(token, now)
        if self.repository.user_by_email(record.email) is not None:
            # Confirmed through another sign-up, or invited meanwhile: the address has its account.
            raise LinkUsed("This e-mail address has an account already. Sign in, or reset your password.")
        if not self.repository.complete_sign_up(record.id, now):
            raise LinkUsed("This sign-up link was used already, just now. Sign in.")
        user = User(email=record.email, name=record.name, password_hash=record.password_hash)
        self.repository.add_unique(user, EmailTaken(f"{record.email} has an account already. Sign in."))
        organisation = None
        if record.organisation_name:
            organisation = self._new_organisation(record.organisation_name, record.email)
            self.accounts.grant(user, Role.CUSTOMER_ADMIN, organisation=organisation)
        return user, organisation

    def _new_organisation(self, name: str, email: str) -> Organisation:
        """The organisation, with a slug made from its name (a few random letters appended if it is taken)."""
        base = slug_of(name)
        slug = base
        for _ in range(5):
            try:
                return self.accounts.create_organisation(slug, name, email)
            except SlugTaken:
                slug = f"{base}-{secrets.token_hex(2)}"
        return self.accounts.create_organisation(f"{base}-{secrets.token_hex(4)}", name, email)
