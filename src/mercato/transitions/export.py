"""A campaign as CSV, one line per license as the status table shows it, for the API and the vendor portal."""

from __future__ import annotations

import csv
import io

from mercato.catalog.domain import tier_label
from mercato.transitions.service import CampaignView, MemberView

CSV_FIELDS = (
    "entitlement_number",
    "app_key",
    "organisation",
    "host",
    "hosting",
    "tier",
    "status",
    "upgrade_to",
    "price",
    "currency",
    "quote_number",
    "emails",
    "note",
)


def member_row(member: MemberView) -> list[str]:
    license, offer = member.license, member.offer
    values = {
        "entitlement_number": license.entitlement_number,
        "app_key": license.product_key,
        "organisation": member.organisation,
        "host": member.host,
        "hosting": license.hosting.value,
        "tier": tier_label(license.tier_users),
        "status": offer.status.value,
        "upgrade_to": offer.to_tier,
        "price": offer.price,
        "currency": offer.currency,
        "quote_number": member.quote_number,
        "emails": " ".join(email.kind.value for email in member.emails),
        "note": offer.note,
    }
    return ["" if values[name] is None else str(values[name]) for name in CSV_FIELDS]


def campaign_csv(view: CampaignView) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    writer.writerows(member_row(member) for member in view.members)
    return buffer.getvalue()


def csv_filename(view: CampaignView) -> str:
    return f"{view.vendor.slug}-transition-{view.campaign.notice_date.isoformat()}.csv"
