"""`flask scim ...`: the identity provider's provisioning token."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from reviews.scim.auth import issue_token, revoke_tokens

scim_cli = AppGroup("scim", help="SCIM 2.0 provisioning at /scim/v2.")


@scim_cli.command("token")
def token_command() -> None:
    """Create the provisioning token (revoking older ones) and print it once."""
    from reviews.cli import unit_of_work

    with unit_of_work():
        secret = issue_token()
    click.echo("Provisioning token for /scim/v2 (shown once; older tokens are revoked):")
    click.echo(secret)


@scim_cli.command("revoke")
def revoke_command() -> None:
    """Revoke the provisioning token: /scim/v2 answers 401 until a new one is made."""
    from reviews.cli import unit_of_work

    with unit_of_work():
        count = revoke_tokens()
    click.echo(f"Revoked {count} provisioning token(s).")


def register(app: Flask) -> None:
    """Add the scim command group to the app's CLI."""
    app.cli.add_command(scim_cli)
