"""Personal API tokens: created and revoked by their owner (or the CLI), used as bearer."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from reviews.api.models import ApiToken
from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.languages import gettext
from reviews.people.models import Person

PREFIX = "rvw_"


class TokenError(Invalid):
    """A token that cannot be created or revoked as asked."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    actor: Person | None, person: Person, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for `person`; returns the row and the token, which is never kept."""
    name = name.strip() or "API token"
    if len(name) > 100:
        raise TokenError(gettext("Keep the token's name under 100 characters."))
    if days is not None and not 1 <= days <= 3650:
        raise TokenError(gettext("A token lives from 1 to 3650 days."))
    if not person.active:
        raise TokenError(gettext("%(name)s is deactivated.", name=person.name))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        person_id=person.id,
        name=name,
        token_hash=_hash(secret),
        prefix=secret[:10],
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    record("api.token_created", actor=actor, subject=person, token=token.prefix)
    return token, secret


def revoke_token(actor: Person | None, token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise TokenError(gettext("This token is already revoked."))
    token.revoked_at = utcnow()
    db.session.flush()
    record("api.token_revoked", actor=actor, subject=token.person, token=token.prefix)


def person_for_token(secret: str) -> Person | None:
    """The active person a usable token belongs to, marking its use."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.usable or not token.person.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now  # written at most every few minutes, with the request
    return token.person
