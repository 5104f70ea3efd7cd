"""License imports API: a vendor's members (and operator staff) import a CSV file of licenses sold elsewhere
into the vendor's direct channel, or check it with `dry_run=true`, and list the vendor's imports. Another vendor
answers 404, exactly like a missing one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from mercato.accounts.access import Forbidden, NotAuthenticated
from mercato.accounts.dependencies import Reader, Writer
from mercato.accounts.errors import VendorNotFound
from mercato.catalog.vendors import VendorService
from mercato.fields import Text
from mercato.imports.errors import DirectStoreClosed, ImportCollided, ImportRefused, ImportTooLarge
from mercato.imports.rows import COLUMNS, MAX_FILE_BYTES
from mercato.imports.service import ImportService, ImportSummary
from mercato.paging import InvalidCursor, PageOut, page_fields
from mercato.web.dependencies import ServicesDep, SessionDep
from mercato.web.paging import PageParams
from mercato.web.responses import problem_responses
from mercato.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["vendors"], route_class=UnitOfWorkRoute)

VendorPath = Annotated[Text, Path(max_length=64, description="The vendor's slug, e.g. example-mockups.")]
_SIGNED_IN = (NotAuthenticated, Forbidden)
EXAMPLE_FILE = (
    ",".join(COLUMNS[:11]) + ",host_tier\n"
    "Initech,it@initech.example,wiki,server,INITECH-WIKI-1,50,commercial,2026-03-01,2027-03-01,"
    "MOCK-0001,com.example.mockups.wiki,100\n"
)


class ImportedLineOut(BaseModel):
    line: int = Field(description="The row's line in the file (the header is line 1).")
    reference: str
    entitlement_number: str | None = Field(description="The license it became (null in a dry run).")
    skipped: bool = Field(description="Imported before with the same terms: nothing was written for it now.")


class ImportOut(BaseModel):
    id: uuid.UUID | None = Field(description="The import (null in a dry run).")
    vendor: str
    sha256: str = Field(description="The file's SHA-256: the same file is imported once.")
    dry_run: bool
    repeated: bool = Field(description="The same file was imported before: this is that import, unchanged.")
    created_at: datetime | None
    rows: int
    licenses_created: int = Field(description="In a dry run: the licenses it would create.")
    rows_skipped: int = Field(description="Rows whose reference was imported before with the same terms.")
    organisations_created: int
    host_instances_created: int
    invitations_sent: int = Field(description="Contacts invited as their organisation's admin.")
    lines: list[ImportedLineOut] = Field(description="Each row with its license, in file order.")


class ImportPage(PageOut):
    vendor: str
    items: list[ImportOut] = Field(description="Newest first; without their lines.")


def import_out(summary: ImportSummary) -> ImportOut:
    return ImportOut(
        id=summary.import_id,
        vendor=summary.vendor,
        sha256=summary.sha256,
        dry_run=summary.dry_run,
        repeated=summary.repeated,
        created_at=summary.created_at,
        rows=summary.rows,
        licenses_created=summary.licenses_created,
        rows_skipped=summary.rows_skipped,
        organisations_created=summary.organisations_created,
        host_instances_created=summary.host_instances_created,
        invitations_sent=summary.invitations_sent,
        lines=[
            ImportedLineOut(
                line=line.line,
                reference=line.reference,
                entitlement_number=line.entitlement_number,
                skipped=line.skipped,
            )
            for line in summary.lines
        ],
    )


async def csv_body(request: Request) -> bytes:
    """The request body, read up to the limit: a larger file is refused before it is all in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ImportTooLarge:
    return ImportTooLarge(
        f"An import file may have at most {MAX_FILE_BYTES // (1024 * 1024)} MB. Split it into smaller files; "
        "references imported already are skipped."
    )


CsvBody = Annotated[bytes, Depends(csv_body)]
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The CSV file (UTF-8, a header row, comma-separated); docs/importing.md lists its columns.",
        "content": {
            "text/csv": {
                "schema": {"type": "string", "maxLength": MAX_FILE_BYTES},
                "examples": {"one license": {"value": EXAMPLE_FILE}},
            }
        },
    }
}


@router.post(
    "/vendors/{slug}/license-imports",
    response_model=ImportOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import licenses sold elsewhere",
    openapi_extra=_REQUEST_BODY,
    responses={
        200: {
            "model": ImportOut,
            "description": "A dry run (nothing written), or the same file imported before (its import).",
        },
        **problem_responses(
            *_SIGNED_IN, VendorNotFound, ImportRefused, ImportTooLarge, DirectStoreClosed, ImportCollided
        ),
    },
)
def import_licenses(
    slug: VendorPath,
    principal: Writer,
    session: SessionDep,
    services: ServicesDep,
    data: CsvBody,
    response: Response,
    dry_run: Annotated[
        bool, Query(description="Check the file and say what it would make; write nothing.")
    ] = False,
) -> ImportOut:
    """Brings licenses the vendor sold elsewhere into its direct channel, from a CSV file sent as the body
    (`Content-Type: text/csv`): each row makes (or finds) the customer organisation and its host instance,
    invites the contact as the organisation's admin, and issues a direct license signed with the vendor's keys;
    the customers' admins get their keys by e-mail. All rows or none: a file with problems answers 422
    `import-refused` listing every problem by line and column, and writes nothing. Safe to send again: the same
    file answers its first import (200), and a reference imported before with the same terms is skipped. For
    the vendor's members and operator staff."""
    vendor = VendorService(session, services.secret_key, services.clock).vendor_for(principal, slug)
    summary = ImportService(session, services).run(
        vendor, data, dry_run=dry_run, imported_by=principal.user_id
    )
    if summary.dry_run or summary.repeated:
        response.status_code = status.HTTP_200_OK
    return import_out(summary)


@router.get(
    "/vendors/{slug}/license-imports",
    response_model=ImportPage,
    summary="List a vendor's license imports",
    responses=problem_responses(*_SIGNED_IN, VendorNotFound, InvalidCursor),
)
def list_imports(
    slug: VendorPath,
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    page: PageParams,
) -> ImportPage:
    """The vendor's imports, newest first, with what each made. For its members and operator staff. Counted
    only with `include=total`."""
    vendor = VendorService(session, services.secret_key, services.clock).vendor_for(principal, slug)
    imports = ImportService(session, services).imports_of(vendor, page)
    return ImportPage(
        vendor=vendor.slug, items=[import_out(s) for s in imports.rows], **page_fields(imports, page)
    )
