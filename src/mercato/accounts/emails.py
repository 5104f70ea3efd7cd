"""The e-mails of accounts: an invitation, a password-reset link, a sign-up confirmation, and the notice to an
address that already has an account. All go through the outbox, in the transaction of the change that causes
them: a rolled-back change sends nothing. Wording lives in ``templates/email/``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email


def queue_invitation(
    session: Session, to: str, *, organisation: str, inviter: str, role: str, url: str, expires: str
) -> None:
    context = {"organisation": organisation, "inviter": inviter, "role": role, "url": url, "expires": expires}
    enqueue_rendered_email(session, [to], render_email("invitation", context))


def queue_password_reset(session: Session, to: str, *, name: str, url: str, minutes: int) -> None:
    context = {"name": name, "url": url, "minutes": minutes}
    enqueue_rendered_email(session, [to], render_email("password-reset", context))


def queue_sign_up_confirmation(session: Session, to: str, *, name: str, url: str, expires: str) -> None:
    context = {"name": name, "url": url, "expires": expires}
    enqueue_rendered_email(session, [to], render_email("sign-up-confirm", context))


def queue_sign_up_notice(session: Session, to: str, *, name: str, sign_in_url: str, reset_url: str) -> None:
    """To an address that has an account already, instead of a confirmation: the sign-up form answered as
    for any address, and only the mailbox's owner learns that the account exists."""
    context = {"name": name, "sign_in_url": sign_in_url, "reset_url": reset_url}
    enqueue_rendered_email(session, [to], render_email("sign-up-existing", context))
