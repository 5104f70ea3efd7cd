"""Renewal reminders, a step of ``mercato billing run``.

A server license's maintenance end, or a Data Center license's term end, gets up to four e-mails to its
customer's billing contacts: 90, 30 and 7 days before it, and 7 days after it if it was not renewed. Cloud
subscriptions renew by themselves with their site and get none; nor do evaluations, licenses without a
customer, and cancelled or superseded ones.

Each reminder goes once: a ``RenewalReminder`` row (unique per license, reminder and end date) is written in
the same transaction as the e-mail's outbox message, one license per transaction, so a run that is repeated,
interrupted or racing another sends nothing twice. A run that missed the day sends the latest reminder due (the
30-day one on day 25, not the 90-day one as well); renewing moves the end date, which starts the series again.

A billing contact opts out with the link in each reminder: a token signed with the deployment's secret, naming
the organisation and the address, so that no one can opt anyone else out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from mercato.accounts.models import Membership, Organisation, Role, User
from mercato.catalog.models import App, Listing
from mercato.clock import Clock
from mercato.database import transaction
from mercato.licenses.models import License, LicenseState
from mercato.mail.templates import render_email
from mercato.outbox.service import enqueue_rendered_email
from mercato.pricing import Hosting
from mercato.problems import InvalidInput
from mercato.reminders.models import ReminderOptOut, RenewalReminder

TEMPLATE = "renewal-reminder"
OPT_OUT_PATH = "/api/v1/renewal-reminders/opt-out"


@dataclass(frozen=True)
class Reminder:
    name: str
    offset_days: int
    """Days from the end date: negative before it."""


REMINDERS = (
    Reminder("90_days_before", -90),
    Reminder("30_days_before", -30),
    Reminder("7_days_before", -7),
    Reminder("7_days_after", 7),
)
LATE_WINDOW = timedelta(days=30)
"""How long after its day the last reminder (7 days after the end) is still sent by a run that missed it."""


def reminder_due(end: date, today: date) -> Reminder | None:
    """The reminder that is due ``today`` for a license ending on ``end``: the latest whose day has come, while
    the next one's day has not, and the end has not for the ones before it (the last one: for 30 days)."""
    for index, reminder in reversed(list(enumerate(REMINDERS))):
        starts = end + timedelta(days=reminder.offset_days)
        if index + 1 < len(REMINDERS):
            ends = end + timedelta(days=REMINDERS[index + 1].offset_days)
        else:
            ends = starts + LATE_WINDOW
        if reminder.offset_days < 0:
            ends = min(ends, end)  # "ends in N days" is never sent once it has ended
        if starts <= today < ends:
            return reminder
    return None


def reminder_windows(today: date) -> dict[Reminder, tuple[date, date]]:
    """For each reminder, the end dates (first, last) for which it is the one due ``today`` (``reminder_due``
    read backwards); the property tests hold the two to the same answers."""
    windows: dict[Reminder, tuple[date, date]] = {}
    for index, reminder in enumerate(REMINDERS):
        # Due while starts <= today < ends, with starts = end + offset: so end <= today - offset, and end >
        # today - (the next reminder's offset, or the late window's end; never past the end for the ones before).
        if index + 1 < len(REMINDERS):
            stops = REMINDERS[index + 1].offset_days
        else:
            stops = reminder.offset_days + LATE_WINDOW.days
        if reminder.offset_days < 0:
            stops = min(stops, 0)
        latest = today - timedelta(days=reminder.offset_days)
        earliest = today - timedelta(days=stops) + timedelta(days=1)
        windows[reminder] = (earliest, latest)
    return windows


class InvalidOptOutToken(InvalidInput):
    """The opt-out link is not one Mercato made: it was cut short or changed. Open the link from the reminder
    e-mail itself, whole."""

    type = "invalid-opt-out-token"
    title = "Invalid opt-out link"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret_key: str, claim: bytes) -> bytes:
    return hmac.new(f"renewal-reminders|{secret_key}".encode(), claim, hashlib.sha256).digest()


def opt_out_token(secret_key: str, organisation_id: uuid.UUID, email: str) -> str:
    """A token that opts ``email`` out of ``organisation_id``'s reminders, signed with the deployment's secret."""
    claim = f"{organisation_id}|{email.lower()}".encode()
    return f"{_b64(claim)}.{_b64(_mac(secret_key, claim))}"


def read_opt_out_token(secret_key: str, token: str) -> tuple[uuid.UUID, str]:
    try:
        claim_part, mac_part = token.strip().split(".")
        claim = _unb64(claim_part)
        if not hmac.compare_digest(_unb64(mac_part), _mac(secret_key, claim)):
            raise ValueError("signature")
        organisation, email = claim.decode().split("|", 1)
        return uuid.UUID(organisation), email
    except (ValueError, UnicodeDecodeError):
        raise InvalidOptOutToken("This opt-out link is not valid.", field="token") from None


@dataclass
class ReminderReport:
    sent: list[str]
    """``<entitlement number>:<reminder>`` for each reminder sent."""

    @property
    def count(self) -> int:
        return len(self.sent)


@dataclass(frozen=True)
class OptedOut:
    organisation: str
    email: str
    created: bool


class RenewalReminders:
    def __init__(self, session: Session, clock: Clock, secret_key: str, base_url: str = "") -> None:
        self.session = session
        self.clock = clock
        self.secret_key = secret_key
        self.base_url = base_url.rstrip("/")

    def due(self) -> list[uuid.UUID]:
        """Licenses with a reminder due today that was not sent (reads only; ``send`` checks each again). One
        indexed query per reminder and kind of end date: the ends for which that reminder is the one due today,
        leaving out licenses that have it already, so a run's cost follows what it sends, not how many
        licenses there are."""
        today = self.clock.today()
        found: list[tuple[str, uuid.UUID]] = []
        for reminder, (earliest, latest) in reminder_windows(today).items():
            for hosting, end in (
                (Hosting.SERVER, License.maintenance_end),
                (Hosting.DATACENTER, License.term_end),
            ):
                sent = select(RenewalReminder.id).where(
                    RenewalReminder.license_id == License.id,
                    RenewalReminder.reminder == reminder.name,
                    RenewalReminder.end_date == end,
                )
                found.extend(
                    (number, license_id)
                    for number, license_id in self.session.execute(
                        select(License.entitlement_number, License.id).where(
                            License.hosting == hosting,
                            end >= earliest,
                            end <= latest,
                            License.organisation_id.is_not(None),
                            License.evaluation.is_(False),
                            License.status.in_([LicenseState.ACTIVE, LicenseState.EXPIRED]),
                            ~sent.exists(),
                        )
                    )
                )
        return [license_id for _, license_id in sorted(found)]

    def send(self, license_id: uuid.UUID) -> str | None:
        """Send the reminder due today for the license, unless it was sent already; in the caller's
        transaction. Returns ``<entitlement number>:<reminder>`` when it sent one."""
        license = self.session.get(License, license_id)
        if license is None or license.organisation_id is None:
            return None
        end = license.maintenance_end if license.hosting == Hosting.SERVER else license.term_end
        today = self.clock.today()
        reminder = reminder_due(end, today) if end is not None else None
        if end is None or reminder is None:
            return None
        sent = self.session.scalar(
            select(RenewalReminder.id).where(
                RenewalReminder.license_id == license.id,
                RenewalReminder.reminder == reminder.name,
                RenewalReminder.end_date == end,
            )
        )
        if sent is not None:
            return None
        organisation = self.session.get(Organisation, license.organisation_id)
        assert organisation is not None
        recipients = self.recipients(organisation)
        row = RenewalReminder(
            license_id=license.id,
            reminder=reminder.name,
            end_date=end,
            sent_on=today,
            recipients=len(recipients),
        )
        self.session.add(row)
        self.session.flush()  # the unique key refuses a reminder another run has just sent
        if recipients:
            # One e-mail per address: each carries its own opt-out link.
            for address in recipients:
                context = self._context(license, organisation, end, reminder, address)
                message = enqueue_rendered_email(self.session, [address], render_email(TEMPLATE, context))
                row.outbox_message_id = row.outbox_message_id or message.id
        return f"{license.entitlement_number}:{reminder.name}"

    def recipients(self, organisation: Organisation) -> list[str]:
        """The organisation's billing contacts (its billing address if it has none), less those who opted out."""
        contacts = list(
            self.session.scalars(
                select(User.email)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organisation_id == organisation.id, Membership.role == Role.BILLING_CONTACT)
                .order_by(User.email)
            )
        ) or [organisation.billing_email]
        opted_out = set(
            self.session.scalars(
                select(ReminderOptOut.email).where(ReminderOptOut.organisation_id == organisation.id)
            )
        )
        return [address for address in contacts if address.lower() not in opted_out]

    def _context(
        self, license: License, organisation: Organisation, end: date, reminder: Reminder, address: str
    ) -> dict[str, object]:
        app = self.session.scalar(
            select(App.name).join(Listing, Listing.app_id == App.id).where(Listing.id == license.listing_id)
        )
        token = opt_out_token(self.secret_key, organisation.id, address)
        return {
            "organisation": organisation.name,
            "app": app or license.product_key,
            "entitlement_number": license.entitlement_number,
            "hosting": license.hosting.value,
            "what": "maintenance" if license.hosting == Hosting.SERVER else "subscription term",
            "end": end.isoformat(),
            "days": abs(reminder.offset_days),
            "after": reminder.offset_days > 0,
            "opt_out_url": f"{self.base_url}{OPT_OUT_PATH}?token={token}",
        }

    def send_all(self) -> list[str]:
        """Every reminder due today in this one session (the dry run's way; the run commits license by
        license with ``send_due_reminders``)."""
        return [sent for license_id in self.due() if (sent := self.send(license_id)) is not None]

    def opt_out(self, token: str) -> OptedOut:
        """Record the opt-out the token names (again: nothing changes)."""
        organisation_id, email = read_opt_out_token(self.secret_key, token)
        organisation = self.session.get(Organisation, organisation_id)
        if organisation is None:
            raise InvalidOptOutToken(
                "This opt-out link names a customer that no longer exists.", field="token"
            )
        existing = self.session.scalar(
            select(ReminderOptOut.id).where(
                ReminderOptOut.organisation_id == organisation_id, ReminderOptOut.email == email
            )
        )
        if existing is None:
            self.session.add(ReminderOptOut(organisation_id=organisation_id, email=email))
            self.session.flush()
        return OptedOut(organisation.name, email, existing is None)


def send_due_reminders(
    session_factory: sessionmaker[Session], clock: Clock, secret_key: str, base_url: str = ""
) -> list[str]:
    """Send every reminder due today, one license per transaction (see the module's docstring)."""
    with transaction(session_factory) as session:
        due = RenewalReminders(session, clock, secret_key, base_url).due()
    sent = []
    for license_id in due:
        try:
            with transaction(session_factory) as session:
                outcome = RenewalReminders(session, clock, secret_key, base_url).send(license_id)
        except IntegrityError:  # another run sent it a moment ago
            continue
        if outcome is not None:
            sent.append(outcome)
    return sent
