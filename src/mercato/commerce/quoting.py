"""Quoting: items priced by the pricing core for one host instance in one channel, kept for 30 days.

Buyers' quotes (``Quoting.create``) and the billing run's cloud renewals (``Quoting.renewal_quotes``) are built
by the same code, so a renewal invoice's lines read exactly like a bought quote's.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from mercato import pricing
from mercato.accounts.access import Principal
from mercato.accounts.models import HostInstance
from mercato.catalog.domain import pricing_listing, tier_label, tier_users
from mercato.catalog.models import Listing
from mercato.catalog.repository import CatalogRepository
from mercato.clock import Clock
from mercato.commerce import schemas
from mercato.commerce.errors import (
    AlreadyLicensed,
    AlreadyOnMarketplace,
    CoTermTargetMissing,
    HostInstanceNotFound,
    LicenseClosedForChanges,
    LicenseInOtherChannel,
    LicenseNotOnInstance,
    MigrationPending,
    MixedCurrencies,
    NotABuyer,
    NothingToCoTerm,
    NothingToMigrate,
    NotMigratable,
    TierRequired,
    at_item,
)
from mercato.commerce.evaluations import Evaluations
from mercato.commerce.idempotency import Answer, Idempotency, request_fingerprint
from mercato.commerce.models import LineAction, Quote, QuoteLine, QuoteStatus
from mercato.commerce.repository import CommerceRepository
from mercato.database import new_id
from mercato.keys.models import OPERATOR_ISSUER, vendor_issuer
from mercato.licenses.models import License, LicenseState
from mercato.preview import schemas as preview
from mercato.preview.service import ItemRefused, PreviewService, PricedItem
from mercato.problems import InvalidInput
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


def _bought(request: schemas.QuoteRequest) -> list[str]:
    """The products a quote request buys new (each licensed once per host instance)."""
    return [item.product_key for item in request.items if isinstance(item, schemas.NewQuoteItem)]


class Quoting:
    def __init__(self, repo: CommerceRepository, services: Services) -> None:
        self.repo = repo
        self.session = repo.session
        self.catalog = CatalogRepository(repo.session)
        self.clock: Clock = services.clock
        self.evaluations = Evaluations(repo)
        self._holdings: dict[uuid.UUID, dict[str, tuple[str, str | None]]] = {}
        """What host instances hold of the products bought, read with the instances, by host instance id."""

    def host_instance_for_buyer(
        self, principal: Principal, host_instance_id: uuid.UUID, buying: Iterable[str] = ()
    ) -> HostInstance:
        """The host instance, if the principal may buy for it; read with its host product and what it holds of
        the products it is ``buying`` (for the quote's once-per-host check)."""
        keys = set(buying)
        found = self.repo.host_instance_with_holdings(host_instance_id, keys)
        instance = found[0] if found is not None else None
        if instance is None or not principal.can_read_organisation(instance.organisation_id):
            raise HostInstanceNotFound(f"There is no host instance {host_instance_id} that you can see.")
        assert found is not None
        if keys:
            self._holdings[instance.id] = found[2]
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
        return Idempotency(self.repo, self.clock).run(
            f"{principal.user_id}:create-quote",
            idempotency_key,
            request_fingerprint(request.model_dump(mode="json")),
            "for another quote request",
            lambda: Answer(201, present(self.create(principal, request))),
        )

    def create(self, principal: Principal, request: schemas.QuoteRequest) -> Quote:
        instance = self.host_instance_for_buyer(principal, request.host_instance_id, _bought(request))
        return self.quote_instance(instance, request, principal.user_id)

    def quote_instance(
        self, instance: HostInstance, request: schemas.QuoteRequest, created_by: uuid.UUID | None = None
    ) -> Quote:
        """The quote of ``request`` for ``instance``, whoever asks (the caller checked who may): a buyer's, or one
        Mercato makes for the customer (a batch migration, a transition's announcement)."""
        today = self.clock.today()
        # Read with the instance by a buyer's quote: the session's identity map answers without a query.
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
            host_product,
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
            instance, request.channel, seller, currency, lines, request.po_number, created_by
        )

    def renewal_quotes(
        self, renewals: Sequence[tuple[HostInstance, str, Sequence[QuoteLine]]]
    ) -> list[Quote]:
        """The billing run's quotes for cloud sites' next cycles (``(site, currency, lines)`` each), accepted at
        once by the run. Numbered together and added to the session unflushed, so that a run's batch of sites
        is written in one statement per table."""
        numbers = self._new_quote_numbers(len(renewals))
        quotes = [
            self._quote(
                number, site, pricing.Channel.MARKETPLACE, OPERATOR_ISSUER, currency, lines, None, None
            )
            for number, (site, currency, lines) in zip(numbers, renewals, strict=True)
        ]
        self.repo.session.add_all(quotes)
        return quotes

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
        # The number is drawn and the quote's row inserted in one statement, which writes nothing when another
        # quote carries the number (its unique constraint decides; there is no check before): then draw again.
        while True:
            quote = self._quote(
                self._draw_quote_number(), instance, channel, seller, currency, lines, po_number, created_by
            )
            if self.repo.insert_quote_unless_number_taken(quote):
                break
        self.session.flush()  # the lines
        return quote

    def _quote(
        self,
        number: str,
        instance: HostInstance,
        channel: pricing.Channel,
        seller: str,
        currency: str,
        lines: Sequence[QuoteLine],
        po_number: str | None,
        created_by: uuid.UUID | None,
    ) -> Quote:
        today = self.clock.today()
        return Quote(
            id=new_id(),  # known before the flush: the order of an accepted quote names it
            number=number,
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
            created_at=self.clock.now(),
            accepted_at=None,
            lines=list(lines),
        )

    def _preview_items(
        self, instance: HostInstance, request: schemas.QuoteRequest
    ) -> tuple[list[preview.Item], list[License | None]]:
        """The quote's items as the pricing engine's items, with the license each one changes."""
        items: list[preview.Item] = []
        licenses: list[License | None] = []
        evaluations: Counter[str] = Counter()
        bought: set[str] = set()
        # What the instance holds of every product bought here, read once for the whole quote (with the instance,
        # when the buyer's request read it).
        held = self._holdings.pop(instance.id, None)
        if held is None:
            held = self.repo.holdings(instance.id, _bought(request))
        for index, item in enumerate(request.items):
            match item:
                case schemas.NewQuoteItem():
                    self.check_not_licensed(instance, item.product_key, index, bought, held)
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
                            to_tier=self._renewal_tier(instance, license, item, request.channel, index),
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
                case schemas.MigrationQuoteItem():
                    for license in self._migration_licenses(instance, item, request.channel, index):
                        if license in licenses:
                            raise MigrationPending(
                                f"Item {index + 1}: license {license.entitlement_number} is already migrated by "
                                "another item of this quote; name it once.",
                                license=license.entitlement_number,
                                **at_item(index),
                            )
                        items.append(
                            preview.MigrationItem(
                                action="migration",
                                product_key=license.product_key,
                                tier=tier_label(license.tier_users),
                                to_tier=item.tier,
                                license_type=license.license_type,
                                maintenance_end=license.paid_until,
                            )
                        )
                        licenses.append(license)
        return items, licenses

    def check_not_licensed(
        self,
        instance: HostInstance,
        product_key: str,
        index: int,
        bought: set[str] | None = None,
        held: Mapping[str, tuple[str, str | None]] | None = None,
    ) -> None:
        """An app is licensed once per host instance (DESIGN §4): buying it again is refused, with the license
        to renew or upgrade instead. ``held`` is what the instance holds, when the caller read it already."""
        where = f"Item {index + 1}: {instance.name or instance.server_id} "
        if bought and product_key in bought:
            raise AlreadyLicensed(
                where + f"has {product_key} twice in this quote; buy it once.",
                product_key=product_key,
                **at_item(index),
            )
        holding = held.get(product_key) if held is not None else self.repo.holding(instance.id, product_key)
        if holding is None:
            return
        kind, number = holding
        if kind == "license":
            existing = self.repo.license_by_entitlement(number) if number else None
            moves = (
                existing is not None
                and existing.channel == pricing.Channel.DIRECT
                and existing.hosting != pricing.Hosting.CLOUD
            )
            raise AlreadyLicensed(
                where + f"already has license {number} of {product_key}. Renew it for more maintenance, "
                "or upgrade it to a higher tier, instead of buying it again."
                + (
                    " It is a direct license: it can also move to the marketplace (quote its migration)."
                    if moves
                    else ""
                ),
                product_key=product_key,
                license=number,
                way_out=["renewal", "upgrade", "migration"] if moves else ["renewal", "upgrade"],
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
            if item.years != 1:
                raise InvalidInput(
                    f"Item {index + 1}: a cloud subscription renews with its site, a billing cycle at a time; "
                    "leave out `years` (or send 1).",
                    **at_item(index),
                )
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
            action="new",
            product_key=item.product_key,
            tier=item.tier,
            license_type=item.license_type,
            years=item.years,
        )

    def _renewal_tier(
        self,
        instance: HostInstance,
        license: License,
        item: schemas.RenewalQuoteItem,
        channel: pricing.Channel,
        index: int,
    ) -> str | None:
        """The larger tier a renewal is quoted at, or None for the license's own: the tier the buyer names,
        or, where the channel requires the app tier to cover the host and the host has grown past the
        license, the smallest tier sold that covers it (a renewed key of the old tier would not be VALID)."""
        if item.tier is None and instance.user_tier is None:
            return None
        listing = self.catalog.listing(license.product_key, instance.hosting)
        if listing is None:
            return None  # the preview names the missing listing
        name = listing.app.name if listing.app is not None else listing.host_product.name
        today = self.clock.today()
        host_tier = instance.user_tier
        host = pricing.HostContext(
            hosting=pricing.Hosting(instance.hosting),
            license_type=instance.host_license_type,
            tier=pricing.Tier.parse(tier_label(host_tier)) if host_tier is not None else None,
            cloud_users=instance.cloud_users,
            billing_cycle=instance.billing_cycle,
            product_name=listing.host_product.name,
        )
        current = pricing.Tier.parse(tier_label(license.tier_users))
        try:
            tier = pricing.renewal_tier(
                pricing_listing(listing, name, today),
                current,
                channel,
                host,
                requested=pricing.Tier.parse(item.tier) if item.tier is not None else None,
                license_type=license.license_type,
            )
        except pricing.PricingError as error:
            raise ItemRefused(index, license.product_key, error) from error
        return None if tier == current else tier_label(tier_users(tier))

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

    def _migration_licenses(
        self,
        instance: HostInstance,
        item: schemas.MigrationQuoteItem,
        channel: pricing.Channel,
        index: int,
    ) -> list[License]:
        """The direct license named, or every direct server and Data Center app license of the instance that can
        move (a batch)."""
        if channel is not pricing.Channel.MARKETPLACE:
            raise NotMigratable(
                f"Item {index + 1}: a migration moves a license to the marketplace; ask for a marketplace quote.",
                **at_item(index),
            )
        if item.license is not None:
            license = self.repo.license_by_entitlement(item.license)
            if license is None or license.host_instance_id != instance.id:
                raise LicenseNotOnInstance(
                    f"Item {index + 1}: license {item.license} is not a license of this host instance.",
                    **at_item(index),
                )
            self.check_migratable(license, index)
            return [license]
        chosen = [
            license
            for license in self.repo.app_licenses_of_instance(instance.id)
            if license.channel == pricing.Channel.DIRECT
            and license.hosting != pricing.Hosting.CLOUD
            and not license.evaluation
            and not license.status.is_closed
            and self.repo.migration_waiting(license.id) is None
        ]
        if not chosen:
            raise NothingToMigrate(
                f"Item {index + 1}: this host instance has no direct server or Data Center app license to move "
                "to the marketplace.",
                **at_item(index),
            )
        return chosen

    def check_migratable(self, license: License, index: int | None = None) -> None:
        """A direct, open, bought server or Data Center app license, not already being migrated, may move to the
        marketplace. Checked when quoting and again when the quote is accepted."""
        where = f"Item {index + 1}: license" if index is not None else "License"
        item = at_item(index) if index is not None else {}
        entitlement = license.entitlement_number
        if license.status.is_closed:
            raise LicenseClosedForChanges(f"{where} {entitlement} is {license.status}.", **item)
        if license.channel == pricing.Channel.MARKETPLACE:
            raise AlreadyOnMarketplace(
                f"{where} {entitlement} already is a marketplace license; it renews and upgrades there.",
                license=entitlement,
                **item,
            )
        if license.evaluation:
            raise NotMigratable(
                f"{where} {entitlement} is an evaluation; buy the app on the marketplace instead.", **item
            )
        if license.hosting == pricing.Hosting.CLOUD:
            raise NotMigratable(
                f"{where} {entitlement} is a cloud license: cloud customers move to the marketplace with their "
                "vendor's cloud transition, which credits the prepaid term.",
                **item,
            )
        waiting = self.repo.migration_waiting(license.id)
        if waiting is not None:
            raise MigrationPending(
                f"{where} {entitlement} is already moving to the marketplace on invoice {waiting}, which waits "
                "for payment. Pay that invoice, or ask for it to be cancelled.",
                license=entitlement,
                invoice=waiting,
                **item,
            )

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

    def _draw_quote_number(self) -> str:
        return f"Q-{self.clock.today():%Y%m%d}-{secrets.token_hex(3).upper()}"

    def _new_quote_numbers(self, count: int) -> list[str]:
        """``count`` quote numbers of today that no quote carries, told apart in one query per draw."""
        numbers: list[str] = []
        while len(numbers) < count:
            drawn = {self._draw_quote_number() for _ in range(count - len(numbers))}
            numbers.extend(drawn - self.repo.quote_numbers_taken(drawn) - set(numbers))
        return numbers

    # -- a migration offered to a customer who did not ask (a vendor's transition campaign) --------------------

    def migration_offer(self, license: License) -> tuple[HostInstance, PricedItem]:
        """What moving ``license`` to the marketplace costs today on its host instance, priced exactly as the
        customer's own migration quote would be. Raises what quoting it would (``check_migratable``, pricing)."""
        instance = self.repo.host_instance(license.host_instance_id) if license.host_instance_id else None
        if instance is None:
            raise HostInstanceNotFound(f"License {license.entitlement_number} is bound to no host instance.")
        self.check_migratable(license)
        host_product = self.catalog.host_product_by_id(instance.host_product_id)
        assert host_product is not None
        today = self.clock.today()
        item = preview.MigrationItem(
            action="migration",
            product_key=license.product_key,
            tier=tier_label(license.tier_users),
            license_type=license.license_type,
            maintenance_end=license.paid_until,
        )
        request = preview.PreviewRequest(
            channel=pricing.Channel.MARKETPLACE,
            date=today,
            host=self._host_in(instance, host_product.key),
            items=[item],
        )
        [priced] = PreviewService(self.session).price_items(request, today)
        return instance, priced

    def migration_quote(self, license: License) -> Quote:
        """The customer's marketplace quote moving ``license``, made without a signed-in buyer (as
        ``renewal_quotes`` are): the customer accepts it like any quote of theirs."""
        instance, priced = self.migration_offer(license)
        line = quote_line(1, LineAction.MIGRATION, priced.listing, priced.line, priced.split, license)
        return self.new_quote(
            instance, pricing.Channel.MARKETPLACE, OPERATOR_ISSUER, priced.line.currency, [line], None, None
        )
