"""Requests and answers of app management and listing review, and the presenters that fill the answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, field_validator

from mercato.catalog.listings import sale_refusal
from mercato.catalog.markdown import render_markdown
from mercato.catalog.models import App, AppVisibility, ListingRevision
from mercato.catalog.presenters import listing_out
from mercato.catalog.schemas import HostProductRef, ListingOut, VendorRef
from mercato.catalog.specs import AppLinks, AppSpec, ListingSpec, refuse_unsafe_markup
from mercato.fields import Day, Note, Text
from mercato.paging import PageOut

SERVER_PRICES_EXAMPLE: dict[str, JsonValue] = {
    "10": "10.00", "25": "250.00", "50": "500.00", "100": "900.00", "250": "1800.00", "500": "2800.00",
    "2000": "4800.00", "10000": "7800.00", "unlimited": "9800.00",
}  # fmt: skip

APP_EXAMPLE: dict[str, JsonValue] = {
    "key": "com.example.mockups.whiteboard.wiki",
    "name": "Whiteboards for Wiki",
    "host_product": "wiki",
    "summary": "Sketch on a shared whiteboard inside any wiki page.",
    "description": "## Whiteboards\n\nDraw together, right in the page. See the [guide](https://mockups.example/wb).",
    "links": {"documentation": "https://mockups.example/wb/docs", "support": "mailto:help@mockups.example"},
}


class AppIn(AppSpec):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [APP_EXAMPLE]})


class AppChangesIn(BaseModel):
    """The page texts to change; fields left out stay as they are. They publish at once."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"summary": "Sketch together on a whiteboard in any wiki page."}]},
    )

    name: Annotated[Text, StringConstraints(min_length=1, max_length=200)] | None = None
    summary: Annotated[Text, StringConstraints(max_length=300)] | None = None
    description: Annotated[Note, StringConstraints(max_length=20_000)] | None = Field(
        default=None, description="Markdown. HTML tags are not allowed; links must be http(s) or mailto."
    )
    links: AppLinks | None = None

    @field_validator("description", "summary")
    @classmethod
    def _safe(cls, text: str | None) -> str | None:
        return None if text is None else refuse_unsafe_markup(text)


class VisibilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"visibility": "hidden"}]})

    visibility: AppVisibility = Field(
        description="public: listed and sold; hidden: neither listed nor sold to new buyers; retired: for "
        "good (only operator staff can bring a retired app back). Licenses already sold keep working."
    )


class DraftIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "listing": {
                        "hosting": "server",
                        "currency": "USD",
                        "marketplace": {"sold": True, "licensed_users": False, "max_maintenance_months": 36},
                        "direct": {"sold": True, "max_maintenance_months": 12},
                        "license_types": ["academic", "community", "open_source"],
                        "prices": SERVER_PRICES_EXAMPLE,
                    }
                }
            ]
        },
    )

    listing: ListingSpec | None = Field(
        default=None,
        description="The whole listing. Left out, the draft starts from the published listing as it is today.",
    )
    prices_effective_from: Day | None = Field(
        default=None,
        description="For a public listing whose prices change: the day the new prices take effect, at least "
        "the notice period (30 days by default) after the approval.",
    )


class SubmitIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"prices_effective_from": "2027-01-15"}]}
    )

    prices_effective_from: Day | None = Field(
        default=None,
        description="The day new prices should take effect (a public listing's price change); left out, the "
        "draft's day, or else the end of the notice period after the approval.",
    )


class ApproveIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"note": "Prices and channels look right."}]}
    )

    note: Annotated[Note, StringConstraints(max_length=2000)] = Field(
        default="", description="The reviewer's note, shown to the vendor."
    )
    prices_effective_from: Day | None = Field(
        default=None,
        description="Keep or move the day the new prices take effect (not before the notice period ends).",
    )


class RejectIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "The 25-user price is above the 50-user price's half."}]},
    )

    note: Annotated[Note, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Why the revision is sent back: what the vendor should change."
    )

    @field_validator("note")
    @classmethod
    def _says_something(cls, note: str) -> str:
        if not note.strip():
            raise ValueError("say why the revision is sent back")
        return note.strip()


class ManagedListingOut(BaseModel):
    hosting: str
    published_at: datetime | None = Field(description="When it was first published; null: not yet.")
    on_sale: bool = Field(description="Whether new buyers can buy it now.")
    not_on_sale_because: str | None = None
    listing: ListingOut


class ManagedAppOut(BaseModel):
    key: str = Field(examples=["com.example.mockups.whiteboard.wiki"])
    name: str
    summary: str
    description: str = Field(description="Markdown, as the vendor wrote it.")
    description_html: str = Field(description="The description rendered as sanitised HTML.")
    links: dict[str, str]
    visibility: str = Field(examples=["public"])
    vendor: VendorRef
    host_product: HostProductRef
    listings: list[ManagedListingOut] = Field(description="Every listing, published or not.")


class RevisionOut(BaseModel):
    id: uuid.UUID
    app_key: str
    hosting: str
    status: str = Field(description="draft, submitted, approved, rejected or withdrawn.", examples=["draft"])
    listing: dict[str, Any] = Field(
        description="The listing as proposed (the shape of the draft's `listing`)."
    )
    prices_effective_from: date | None
    created_by: uuid.UUID | None = Field(description="The user who started the draft.")
    created_at: datetime
    submitted_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: uuid.UUID | None = Field(description="The operator staff member who decided.")
    reviewer_note: str


class RevisionPage(PageOut):
    items: list[RevisionOut]


def managed_app_out(app: App, today: date) -> ManagedAppOut:
    listings = []
    for listing in app.listings:
        reason = sale_refusal(listing, app, app.vendor)
        listings.append(
            ManagedListingOut(
                hosting=str(listing.hosting),
                published_at=listing.published_at,
                on_sale=reason is None,
                not_on_sale_because=reason,
                listing=listing_out(listing, today),
            )
        )
    return ManagedAppOut(
        key=app.key,
        name=app.name,
        summary=app.summary,
        description=app.description,
        description_html=render_markdown(app.description),
        links=dict(app.links or {}),
        visibility=str(app.visibility),
        vendor=VendorRef(slug=app.vendor.slug, name=app.vendor.name),
        host_product=HostProductRef(key=app.host_product.key, name=app.host_product.name),
        listings=listings,
    )


def revision_out(revision: ListingRevision, app_key: str) -> RevisionOut:
    return RevisionOut(
        id=revision.id,
        app_key=app_key,
        hosting=str(revision.hosting),
        status=str(revision.status),
        listing=revision.content,
        prices_effective_from=revision.prices_effective_from,
        created_by=revision.created_by,
        created_at=revision.created_at,
        submitted_at=revision.submitted_at,
        reviewed_at=revision.reviewed_at,
        reviewed_by=revision.reviewed_by,
        reviewer_note=revision.reviewer_note,
    )
