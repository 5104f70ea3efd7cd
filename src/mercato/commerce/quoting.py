"""Quoting: items priced by the pricing core for one host instance in one channel, kept for 30 days.

Buyers' quotes (``Quoting.create``) and the billing run's cloud renewals (``Quoting.renewal_quote``) are built
by the same code, so a renewal invoice's lines read exactly like a bought quote's.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance
from mercato.catalog.domain import tier_label, tier_users
from mercato.catalog.models import Listing
from mercato.catalog.repository import CatalogRepository
from mercato.clock import Clock
from mercato.commerce import schemas
from mercato.commerce.errors import (
    AlreadyLicensed,
    CoTermTargetMissing,
    HostInstanceNotFound,
    LicenseClosedForChanges,
    LicenseInOtherChannel,
    LicenseNotOnInstance,
    MixedCurrencies,
    NotABuyer,
    NothingToCoTerm,
    TierRequired,
    at_item,
)
from mercato.commerce.evaluations import Evaluations
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.models import LineAction, Quote, QuoteLine, QuoteStatus
from mercato.commerce.repository import CommerceRepository
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.licenses.models import License, LicenseState
from mercato.preview import schemas as preview
from mercato.preview.service import PreviewService
from mercato.services import Services

QUOTE_VALID_DAYS = 30


def quote_line(
    position: int,
    action: LineAction,
    listing: Listing,
    line: pricing.PricedLine,
    split: pricing.RevenueSplit | None,
    license: License | None,
) -> QuoteLine:
    """A priced line as it is kept on a quote, in integer minor units with its revenue split."""
    currency = line.currency
    return QuoteLine(
        position=position,
        action=action,
        listing_id=listing.id,
        product_key=listing.product_key,
        vendor_id=listing.app.vendor_id if listing.app is not None else None,
        license=license,
        tier_users=tier_users(line.tier),
        users=line.users,
        license_type=line.license_type,
        period_start=line.period_start,
        period_end=line.period_end,
        amount_minor=pricing.to_minor_units(line.amount, currency),
        explanation=line.explanation,
        formula=dict(line.formula),
        vendor_share_rate=split.vendor_share_rate if split else None,
        vendor_amount_minor=pricing.to_minor_units(split.vendor_amount, currency) if split else None,
        operator_amount_minor=pricing.to_minor_units(split.operator_amount, currency) if split else None,
    )


class Quoting:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.session = repo.session
        self.catalog = CatalogRepository(repo.session)
        self.clock: Clock = services.clock
        self.evaluations = Evaluations(repo)

    def host_instance_for_buyer(self, principal: Principal, host_instance_id: uuid.UUID) -> HostInstance:
        instance = self.repo.host_instance(host_instance_id)
        if instance is None or not principal.can_read_organisation(instance.organisation_id):
            raise HostInstanceNotFound(f"There is no host instance {host_instance_id} that you can see.")
        if not principal.can_buy_for(instance.organisation_id):
            raise NotABuyer("Only the organisation's admins (or operator staff) can ask for quotes.")
        return instance

    def create_once(
        self,
        principal: Principal,
        request: schemas.QuoteRequest,
        idempotency_key: str | None,
        present: Callable[[Quote], dict[str, Any]],
    ) -> Answer:
        """``create``, once per ``Idempotency-Key``: a retry whose answer was lost gets the same quote."""
        return Idempotency(self.repo).run(
            f"{principal.user_id}:create-quote",
            idempotency_key,
            request_fingerprint(request.model_dump(mode="json")),
            "for another quote request",
            lambda: Answer(201, present(self.create(principal, request))),
        )

    def create(self, principal: Principal, request: schemas.QuoteRequest) -> Quote:
        today = self.clock.today()
        instance = self.host_instance_for_buyer(principal, request.host_instance_id)
        host_product = self.catalog.host_product_by_id(instance.host_product_id)
        assert host_product is not None
        items, licenses = self._preview_items(instance, request)
        priced = PreviewService(self.session).price_items(
            preview.PreviewRequest(
                channel=request.channel,
                date=today,
                host=self._host_in(instance, host_product.key),
                items=items,
            ),
            today,
        )
        currencies = {item.line.currency for item in priced}
        if len(currencies) != 1:
            raise MixedCurrencies(
                "A quote is in one currency; these items are priced in " + ", ".join(currencies)
            )
        currency = currencies.pop()
        lines = [
            quote_line(position, LineAction(item_in.action), item.listing, item.line, item.split, license)
            for position, (item_in, item, license) in enumerate(zip(items, priced, licenses, strict=True), 1)
        ]
        seller = self._seller(request.channel, [item.listing for item in priced])
        return self.new_quote(
            instance, request.channel, seller, currency, lines, request.po_number, principal.user_id
        )

    def renewal_quote(self, site: HostInstance, currency: str, lines: Sequence[QuoteLine]) -> Quote:
        """The billing run's quote for a cloud site's next cycle (accepted at once by the run)."""
        return self.new_quote(site, pricing.Channel.MARKETPLACE, OPERATOR_ISSUER, currency, lines, None, None)

    def new_quote(
        self,
        instance: HostInstance,
        channel: pricing.Channel,
        seller: str,
        currency: str,
        lines: Sequence[QuoteLine],
        po_number: str | None,
        created_by: uuid.UUID | None,
    ) -> Quote:
        today = self.clock.today()
        quote = Quote(
            number=self._new_quote_number(),
            organisation_id=instance.organisation_id,
            host_instance_id=instance.id,
            channel=channel,
            seller=seller,
            currency=currency,
            total_minor=sum(line.amount_minor for line in lines),
            status=QuoteStatus.OPEN,
            po_number=po_number,
            priced_on=today,
            valid_until=today + timedelta(days=QUOTE_VALID_DAYS),
            created_by_id=created_by,
            lines=list(lines),
        )
        self.repo.add(quote)
        return quote

    def _preview_items(
        self, instance: HostInstance, request: schemas.QuoteRequest
    ) -> tuple[list[preview.Item], list[License | None]]:
        """The quote's items as the pricing engine's items, with the license each one changes."""
        items: list[preview.Item] = []
        licenses: list[License | None] = []
        evaluations: Counter[str] = Counter()
        bought: set[str] = set()
        for index, item in enumerate(request.items):
            match item:
                case schemas.NewQuoteItem():
                    self.check_not_licensed(instance, item.product_key, index, bought)
                    bought.add(item.product_key)
                    items.append(self._new_item(instance, item, index))
                    licenses.append(None)
                case schemas.EvaluationQuoteItem():
                    self.evaluations.check_allowed(
                        instance.id, item.product_key, evaluations[item.product_key], index
                    )
                    evaluations[item.product_key] += 1
                    items.append(preview.EvaluationItem(action="evaluation", product_key=item.product_key))
                    licenses.append(None)
                case schemas.RenewalQuoteItem():
                    license = self._license_of_instance(instance, item.license, request.channel, index)
                    items.append(
                        preview.RenewalItem(
                            action="renewal",
                            product_key=license.product_key,
                            tier=tier_label(license.tier_users),
                            license_type=license.license_type,
                            maintenance_end=license.paid_until,
                            years=item.years,
                        )
                    )
                    licenses.append(license)
                case schemas.UpgradeQuoteItem():
                    license = self._license_of_instance(instance, item.license, request.channel, index)
                    items.append(
                        preview.UpgradeItem(
                            action="upgrade",
                            product_key=license.product_key,
                            from_tier=tier_label(license.tier_users),
                            tier=item.tier,
                            license_type=license.license_type,
                            maintenance_end=license.paid_until,
                        )
                    )
                    licenses.append(license)
                case schemas.CoTermQuoteItem():
                    target = item.target_date or instance.host_maintenance_end
                    if target is None:
                        raise CoTermTargetMissing(
                            f"Item {index + 1}: give a target_date; the host instance has no maintenance end.",
                            **at_item(index),
                        )
                    for license in self._co_term_licenses(instance, item, request.channel, target, index):
                        items.append(
                            preview.CoTermItem(
                                action="co_term",
                                product_key=license.product_key,
                                tier=tier_label(license.tier_users),
                                license_type=license.license_type,
                                maintenance_end=license.paid_until,
                                target_date=target,
                            )
                        )
                        licenses.append(license)
        return items, licenses

    def check_not_licensed(
        self, instance: HostInstance, product_key: str, index: int, bought: set[str] | None = None
    ) -> None:
        """An app is licensed once per host instance (DESIGN §4): buying it again is refused, with the license
        to renew or upgrade instead."""
        where = f"Item {index + 1}: {instance.name or instance.server_id} "
        if bought and product_key in bought:
            raise AlreadyLicensed(
                where + f"has {product_key} twice in this quote; buy it once.",
                product_key=product_key,
                **at_item(index),
            )
        holding = self.repo.holding(instance.id, product_key)
        if holding is None:
            return
        kind, number = holding
        if kind == "license":
            raise AlreadyLicensed(
                where + f"already has license {number} of {product_key}. Renew it for more maintenance, "
                "or upgrade it to a higher tier, instead of buying it again.",
                product_key=product_key,
                license=number,
                way_out=["renewal", "upgrade"],
                **at_item(index),
            )
        raise AlreadyLicensed(
            where + f"already has {product_key} on invoice {number}, which waits for payment. Pay that "
            "invoice (its license follows), or ask for it to be cancelled, instead of buying it again.",
            product_key=product_key,
            invoice=number,
            **at_item(index),
        )

    @staticmethod
    def _new_item(instance: HostInstance, item: schemas.NewQuoteItem, index: int) -> preview.Item:
        if instance.hosting == pricing.Hosting.CLOUD:
            return preview.CloudSubscriptionItem(
                action="cloud_subscription",
                product_key=item.product_key,
                tier=item.tier,
                license_type=item.license_type,
            )
        if item.tier is None:
            raise TierRequired(
                f"Item {index + 1}: a {instance.hosting} purchase needs a `tier`.", **at_item(index)
            )
        return preview.NewItem(
            action="new", product_key=item.product_key, tier=item.tier, license_type=item.license_type
        )

    def _co_term_licenses(
        self,
        instance: HostInstance,
        item: schemas.CoTermQuoteItem,
        channel: pricing.Channel,
        target: date,
        index: int,
    ) -> list[License]:
        """The license named, or every marketplace app license of the instance that ends before the target."""
        if item.license is not None:
            return [self._license_of_instance(instance, item.license, channel, index)]
        chosen = [
            license
            for license in self.repo.app_licenses_of_instance(instance.id)
            if license.channel == pricing.Channel.MARKETPLACE
            and license.status == LicenseState.ACTIVE
            and not license.evaluation
            and license.paid_until < target
        ]
        if not chosen:
            raise NothingToCoTerm(
                f"Item {index + 1}: no marketplace app license of this host instance ends before "
                f"{target}; there is nothing to co-term.",
                **at_item(index),
            )
        return chosen

    def _license_of_instance(
        self, instance: HostInstance, entitlement: str, channel: pricing.Channel, index: int
    ) -> License:
        license = self.repo.license_by_entitlement(entitlement)
        if license is None or license.host_instance_id != instance.id:
            raise LicenseNotOnInstance(
                f"Item {index + 1}: license {entitlement} is not a license of this host instance.",
                **at_item(index),
            )
        if license.status.is_closed:
            raise LicenseClosedForChanges(
                f"Item {index + 1}: license {entitlement} is {license.status}.", **at_item(index)
            )
        if license.channel != channel:
            raise LicenseInOtherChannel(
                f"Item {index + 1}: license {entitlement} was sold through the {license.channel} channel; it "
                f"renews and upgrades there until it migrates.",
                **at_item(index),
            )
        return license

    @staticmethod
    def _host_in(instance: HostInstance, host_product_key: str) -> preview.HostIn:
        return preview.HostIn(
            product=host_product_key,
            hosting=instance.hosting,
            user_tier=tier_label(instance.user_tier) if instance.user_tier is not None else None,
            users=instance.cloud_users,
            license_type=instance.host_license_type,
            maintenance_end=instance.host_maintenance_end,
            billing_cycle=instance.billing_cycle,
            next_billing_date=instance.next_billing_date,
        )

    def _seller(self, channel: pricing.Channel, listings: Sequence[Listing]) -> str:
        if channel is pricing.Channel.MARKETPLACE:
            return OPERATOR_ISSUER
        vendor_ids = {listing.app.vendor_id for listing in listings if listing.app is not None}
        vendor = self.catalog.vendor_by_id(vendor_ids.pop()) if len(vendor_ids) == 1 else None
        # The pricing checks refuse direct quotes of host products or of several vendors.
        assert vendor is not None
        return vendor_issuer(vendor.slug)

    def _new_quote_number(self) -> str:
        while True:
            number = f"Q-{self.clock.today():%Y%m%d}-{secrets.token_hex(3).upper()}"
            if not self.repo.quote_number_exists(number):
                return number
