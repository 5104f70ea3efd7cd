"""``mercato keys``: rotate, list, retire and export the signing keys of an issuer."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import Annotated

import typer

from mercato.cli_support import USAGE_ERROR, err_console, nothing_found, require_secret, unit_of_work
from mercato.keys.service import KeyService
from mercato.settings import get_settings
from mercato.webhooks.sealing import reseal_webhook_secrets

app = typer.Typer(
    help="Signing keys: one ring per issuer ('operator', or a vendor's slug).", no_args_is_help=True
)


class KeyFormat(StrEnum):
    JWKS = "jwks"
    PEM = "pem"


IssuerOption = Annotated[
    str, typer.Option("--issuer", help="'operator', or a vendor's slug (e.g. example-mockups).")
]


@app.callback()
def _strong_secret_first() -> None:
    """Every keys command seals or opens private keys: without a strong secret none runs."""
    require_secret(get_settings())


@app.command()
def reseal() -> None:
    """Move every sealed private key from the old secret (MERCATO_OLD_SECRET_KEY) to the current one
    (MERCATO_SECRET_KEY), all or nothing. Run it once after changing the secret, before serving again."""
    old_secret = os.environ.get("MERCATO_OLD_SECRET_KEY", "")
    if not old_secret:
        err_console.print(
            "[red]Set MERCATO_OLD_SECRET_KEY[/red] to the secret the keys are sealed with now, and "
            "MERCATO_SECRET_KEY to the new one; then run mercato keys reseal again."
        )
        raise typer.Exit(USAGE_ERROR)
    with unit_of_work() as (session, services):
        count = KeyService(session, services.secret_key, services.clock).reseal(old_secret)
        endpoints = reseal_webhook_secrets(session, old_secret, services.secret_key)
    err_console.print(
        f"Resealed {count} private key(s) and the secrets of {endpoints} webhook endpoint(s) under the new "
        "secret. Unset MERCATO_OLD_SECRET_KEY."
    )


@app.command()
def rotate(issuer: IssuerOption) -> None:
    """Make a new signing key. The previous one keeps verifying the keys it signed until you retire it."""
    with unit_of_work() as (session, services):
        service = KeyService(session, services.secret_key, services.clock)
        row = service.rotate(service.resolve_issuer(issuer))
        err_console.print(f"New signing key of {row.issuer}: [bold]{row.kid}[/bold]")
        typer.echo(row.kid)


@app.command("list")
def list_keys(issuer: IssuerOption) -> None:
    """Show the issuer's keys and their states (signing, verifying, retired)."""
    with unit_of_work() as (session, services):
        service = KeyService(session, services.secret_key, services.clock)
        rows = service.ring(service.resolve_issuer(issuer))
        # One line per key, the kid first and whole: it is what `keys retire` takes, and a table would cut it
        # on a narrow terminal. soft_wrap lets the terminal wrap a long line instead of Rich cropping it.
        if not rows:
            nothing_found(
                f"{service.resolve_issuer(issuer)} has no signing keys yet (made on its first sale)"
            )
        for row in rows:
            dates = [f"created {row.created_at:%Y-%m-%d %H:%M}"]
            dates += [f"rotated {row.rotated_at:%Y-%m-%d}"] if row.rotated_at else []
            dates += [f"retired {row.retired_at:%Y-%m-%d}"] if row.retired_at else []
            err_console.print(f"{row.kid}  [bold]{row.state}[/bold]  {', '.join(dates)}", soft_wrap=True)


@app.command()
def retire(kid: Annotated[str, typer.Argument(help="The key id to stop trusting.")]) -> None:
    """Stop trusting a rotated-out key: license keys it signed will fail with UNKNOWN_KEY."""
    with unit_of_work() as (session, services):
        row = KeyService(session, services.secret_key, services.clock).retire(kid)
        err_console.print(f"Retired {row.kid} of {row.issuer}.")


@app.command()
def export(
    issuer: IssuerOption,
    key_format: Annotated[KeyFormat, typer.Option("--format", help="jwks or pem")] = KeyFormat.JWKS,
) -> None:
    """Print the issuer's trusted public keys, to embed in an app that verifies keys offline."""
    with unit_of_work() as (session, services):
        service = KeyService(session, services.secret_key, services.clock)
        resolved = service.resolve_issuer(issuer)
        if not service.trusted_keys([resolved]):
            service.rotate(resolved)  # the first export of a new issuer creates its ring
        if key_format is KeyFormat.JWKS:
            typer.echo(json.dumps(service.export_jwks(resolved), indent=2))
        else:
            typer.echo(service.export_pem(resolved), nl=False)
