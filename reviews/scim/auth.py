"""The identity provider's provisioning token: issued, revoked and checked here.

It is not a person's API token: it acts for nobody, so no page or /api/v1 call
accepts it, and /scim/v2 accepts nothing else.  Only its SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.extensions import db
from reviews.identity.models import ProvisioningToken

PREFIX = "rvscim_"
# last_used_at is written at most this often, not on every call of a busy sync
USE_GRANULARITY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token() -> str:
    """A new provisioning token; every older one is revoked. Returns the secret, never kept."""
    now = utcnow()
    revoked = revoke_tokens()
    secret = PREFIX + secrets.token_urlsafe(32)
    db.session.add(ProvisioningToken(token_hash=_hash(secret), prefix=secret[:12], created_at=now))
    db.session.flush()
    record("scim.token_created", actor=None, token=secret[:12], revoked=revoked)
    return secret


def revoke_tokens() -> int:
    """Revoke every live provisioning token; returns how many were live."""
    result = db.session.execute(
        update(ProvisioningToken)
        .where(ProvisioningToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ProvisioningToken.id)
    )
    count = len(result.all())
    if count:
        record("scim.token_revoked", actor=None, tokens=count)
    return count


def check_token(secret: str | None) -> bool:
    """Whether `secret` is the live provisioning token (and note that it was used)."""
    if not secret or not secret.startswith(PREFIX):
        return False
    wanted = _hash(secret)
    token = db.session.scalar(
        select(ProvisioningToken).where(
            ProvisioningToken.token_hash == wanted, ProvisioningToken.revoked_at.is_(None)
        )
    )
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return False
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > USE_GRANULARITY:
        token.last_used_at = now
    return True
