"""The app page's price calculator: the buyer's inputs turned into a pricing preview (the same service as
``POST /api/v1/pricing/preview``), and each refusal of the rules put next to the field it concerns.

A buyer without a registered host prices a described one, as the API does (``HostIn``): host product,
hosting and user tier. The calculator asks the preview for up to two items: the new license with the years of
maintenance chosen (one line, as the quote will have it: the first year at the new price, the others at the
renewal price), and a co-term to the chosen date. Which item a rule refused tells which field the refusal
belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from mercato import pricing
from mercato.catalog.listings_errors import ListingNotOnSale
from mercato.preview import schemas
from mercato.preview.service import ItemRefused, PreviewService
from mercato.pricing.periods import add_months
from mercato.problems import InvalidInput, Problem

MAX_YEARS = 10  # what a renewal item accepts; the channel's own cap is the rules' to tell
MAINTENANCE_MONTHS = 12  # a new server or Data Center license includes a year of maintenance

CHANNEL_NAMES = {"marketplace": "the marketplace", "direct": "the vendor's direct store"}

# A refused new license: the field to show the rule's sentence next to, by the rule's type.
_FIELD_OF_RULE = {
    "tier-mismatch": "tier",
    "tier-not-sold": "tier",
    "license-type-not-allowed": "tier",
    "channel-not-allowed": "channel",
    "hosting-mismatch": "hosting",
    "host-context-required": "host_tier",
    "invalid-user-count": "host_tier",
    "maintenance-cap-exceeded": "years",
    "invalid-renewal-years": "years",
    "co-term-not-offered": "co_term",
    "co-term-would-shorten": "co_term",
    "co-term-already-aligned": "co_term",
    "dates-out-of-order": "co_term",
}


@dataclass(frozen=True)
class PriceInputs:
    """What the buyer asked, as typed (re-shown in the form as it was sent)."""

    hosting: str
    host_tier: str
    tier: str
    channel: str
    years: str = "1"
    co_term: str = ""
    host: str = ""  # a registered host instance's id, when the buyer prices one of theirs


@dataclass
class PriceResult:
    """The preview's answer, or the errors by field (``_form`` for one that concerns no single field)."""

    inputs: PriceInputs
    preview: schemas.PreviewResponse | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.preview is not None and not self.errors


def _way_out(error: pricing.PricingError, channel: str, field: str) -> str:
    """The rule's sentence, with the way out in the buyer's terms where the rule speaks of renewals."""
    if error.type == "maintenance-cap-exceeded" and field == "co_term":
        return (
            f"{CHANNEL_NAMES.get(channel, channel).capitalize()} sells at most {error.details['cap_months']} "
            f"months of maintenance ahead, so it may run until {error.details['latest_end']} at the latest. "
            "Choose an earlier co-term date, or fewer years."
        )
    if error.type == "maintenance-cap-exceeded":
        months = int(str(error.details["cap_months"]))
        most = int(str(error.details["most_years_now"]))  # counted from today, the license's first year too
        years = "1 year" if most == 1 else f"{most} years"
        return (
            f"{CHANNEL_NAMES.get(channel, channel).capitalize()} sells at most {months} months of maintenance "
            f"ahead. Choose at most {years}."
        )
    if error.type == "channel-not-allowed":
        allowed = error.details.get("allowed_channels") or []
        if isinstance(allowed, list) and allowed:
            where = " or ".join(CHANNEL_NAMES.get(c, c) for c in allowed)
            return f"{error.detail} Choose {where}."
    return error.detail


class PriceCalculator:
    def __init__(self, session: Session) -> None:
        self.service = PreviewService(session)

    def price(self, host_product: str, app_key: str, inputs: PriceInputs, today: date) -> PriceResult:
        result = PriceResult(inputs)
        built = self._request(host_product, app_key, inputs, result, today)
        if built is None:
            return result
        request, fields = built
        try:
            result.preview = self.service.preview(request, today)
        except ItemRefused as refused:
            rule = refused.__cause__
            assert isinstance(rule, pricing.PricingError)
            name = self._field_of(refused, rule, fields)
            result.errors[name] = _way_out(rule, inputs.channel, name)
        except ListingNotOnSale as closed:
            result.errors["channel"] = closed.detail
        except InvalidInput as invalid:
            # The license item refused as invalid: the app is not sold for that hosting (the sentence names
            # the hostings it is sold for).
            name = "hosting" if invalid.extensions.get("item") == 1 else "_form"
            sentence = invalid.detail.split(": ", 1)[-1] if name == "hosting" else invalid.detail
            result.errors[name] = sentence[:1].upper() + sentence[1:]
        except Problem as problem:
            result.errors["_form"] = problem.detail
        return result

    @staticmethod
    def _field_of(refused: ItemRefused, rule: pricing.PricingError, fields: list[str | None]) -> str:
        """The field of the refused item: the years' renewal and the co-term have their own fields; the new
        license's refusal belongs to the field its rule concerns."""
        item = int(str(refused.extensions.get("item", 1)))
        own = fields[item - 1] if 0 < item <= len(fields) else None
        return own or _FIELD_OF_RULE.get(rule.type, "_form")

    def _request(
        self, host_product: str, app_key: str, inputs: PriceInputs, result: PriceResult, today: date
    ) -> tuple[schemas.PreviewRequest, list[str | None]] | None:
        """The preview request, and for each of its items the field it stands for (None: the license)."""
        years = self._years(inputs.years, result)
        co_term = self._date(inputs.co_term, result)
        if inputs.channel not in CHANNEL_NAMES:
            result.errors["channel"] = "Choose the marketplace or the vendor's direct store."
        if inputs.hosting not in {h.value for h in pricing.Hosting}:
            result.errors["hosting"] = "Choose server, Data Center or cloud."
        if result.errors or years is None:
            return None
        cloud = inputs.hosting == pricing.Hosting.CLOUD
        host: dict[str, Any] = {"product": host_product, "hosting": inputs.hosting}
        if cloud:
            if not inputs.host_tier.isdigit():
                result.errors["host_tier"] = "A cloud site is priced by its number of users: choose a number."
                return None
            host |= {"users": int(inputs.host_tier), "billing_cycle": "monthly"}
            items: list[dict[str, Any]] = [{"action": "cloud_subscription", "product_key": app_key}]
            fields: list[str | None] = [None]
        else:
            host["user_tier"] = inputs.host_tier
            items = [{"action": "new", "product_key": app_key, "tier": inputs.tier, "years": years}]
            fields = [None]
            end = add_months(today, MAINTENANCE_MONTHS + 12 * (years - 1))
            if co_term is not None:
                items.append(
                    {
                        "action": "co_term",
                        "product_key": app_key,
                        "tier": inputs.tier,
                        "maintenance_end": end.isoformat(),
                        "target_date": co_term.isoformat(),
                    }
                )
                fields.append("co_term")
        try:
            request = schemas.PreviewRequest.model_validate(
                {"channel": inputs.channel, "host": host, "items": items}
            )
        except ValidationError as invalid:
            for error in invalid.errors(include_url=False):
                where = [str(p) for p in error["loc"]]
                name = "host_tier" if "host" in where else "tier"
                result.errors.setdefault(name, "Choose a number of users or unlimited.")
            return None
        return request, fields

    @staticmethod
    def _years(text: str, result: PriceResult) -> int | None:
        if not text.strip().isdigit() or not 1 <= int(text) <= MAX_YEARS:
            result.errors["years"] = f"Choose between 1 and {MAX_YEARS} years of maintenance."
            return None
        return int(text)

    @staticmethod
    def _date(text: str, result: PriceResult) -> date | None:
        if not text.strip():
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            result.errors["co_term"] = (
                "Give the co-term date as a date, for example 2028-03-31, or leave it empty."
            )
            return None
