"""Who may come in through single sign-on: one rule for OpenID Connect and SAML.

A sign-in brings what the provider vouches for (`Claims`); `admit` decides.
Match by verified email, case-insensitively; an unknown email is refused unless
the provider creates people just in time; a domain outside the provider's list
is refused; deactivated people are refused whatever the provider says. The
provider's subject is linked to the person on first sign-in, and a subject
linked to someone else is refused. Every sign-in and refusal is audited with its
reason; nothing is created on a refusal (the caller keeps only the audit event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.extensions import db
from reviews.identity.models import ExternalIdentity, SeenAssertion
from reviews.identity.settings import Provider
from reviews.languages import lazy_gettext
from reviews.people.models import Person, Role, Source


class _Texts(dict[str, Any]):
    """Texts marked with lazy_gettext that come out as str, in the reader's language."""

    def __getitem__(self, key: str) -> str:
        return str(super().__getitem__(key))


# What each refusal tells the person (never a token, never a stack trace).
REASONS = _Texts(
    {
        "state_mismatch": lazy_gettext(
            "This sign-in did not start here, or it was already used. Start again."
        ),
        "provider_error": lazy_gettext("The identity provider did not sign you in."),
        "unreachable": lazy_gettext(
            "The identity provider could not be reached. Try again in a minute."
        ),
        "token_invalid": lazy_gettext(
            "The identity provider's answer could not be trusted (its signature, "
            "audience or validity did not check out)."
        ),
        "replayed": lazy_gettext("This sign-in answer was already used. Start again."),
        "email_missing": lazy_gettext("The identity provider did not tell us your email address."),
        "email_unverified": lazy_gettext(
            "Your email address is not verified at the identity provider."
        ),
        "domain_not_allowed": lazy_gettext("Your email address's domain may not sign in here."),
        "unknown_person": lazy_gettext(
            "There is no account for your email address in Reviews. Ask HR to add you."
        ),
        "deactivated": lazy_gettext(
            "Your account in Reviews is deactivated. Ask HR if this is a mistake."
        ),
        "identity_mismatch": lazy_gettext(
            "This identity-provider account is linked to someone else in Reviews."
        ),
        "passwords_off": lazy_gettext(
            "Passwords are turned off here: sign in with your identity provider."
        ),
    }
)


class Refused(Exception):
    """A sign-in refused for `reason` (a key of REASONS)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail  # for the audit log only

    @property
    def message(self) -> str:
        return REASONS[self.reason]


@dataclass(frozen=True)
class Claims:
    """What the provider vouched for, already checked for signature, audience and time."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None = None


def providers() -> dict[str, Provider]:
    found: dict[str, Provider] = current_app.config.get("SSO_PROVIDER_MAP") or {}
    return found


def passwords_allowed(email: str) -> bool:
    """With SSO_ONLY on, only the break-glass accounts may use a password."""
    if not current_app.config.get("SSO_ONLY"):
        return True
    return email.strip().lower() in current_app.config.get("SSO_BREAK_GLASS", frozenset())


def refuse(
    provider: Provider,
    reason: str,
    ip: str,
    *,
    email: str | None = None,
    detail: str = "",
    person: Person | None = None,
) -> Refused:
    """Record the refusal (the caller keeps it with keep_when_refused) and return it.

    The log names people by id: someone Reviews knows is the event's subject; only
    an address Reviews has no person for is kept as text (who tried to come in),
    and anonymising a person later made with it removes it (identity.privacy)."""
    if person is None and email:
        person = db.session.scalar(select(Person).where(Person.email == email))
    details: dict[str, Any] = {
        "provider": provider.name,
        "protocol": provider.protocol,
        "reason": reason,
        "ip": ip,
    }
    if email and person is None:
        details["email"] = email[:254]
    if detail:
        details["detail"] = detail[:300]
    record("auth.sso_refused", actor=None, subject=person, **details)
    return Refused(reason, detail)


def first_use(key: str, expires_in: timedelta) -> bool:
    """Remember `key` (an assertion's id) until it expires; False when it was seen already."""
    now = utcnow()
    db.session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now))
    try:
        with db.session.begin_nested():
            db.session.add(SeenAssertion(key=key[:300], expires_at=now + expires_in))
    except IntegrityError:
        return False
    return True


def admit(provider: Provider, claims: Claims, ip: str) -> Person:
    """The person this sign-in is for, or Refused (recorded). Flushes; the caller commits."""
    email = (claims.email or "").strip().lower()
    if not email or "@" not in email:
        raise refuse(provider, "email_missing", ip)
    if not claims.email_verified and not provider.trust_unverified_email:
        raise refuse(provider, "email_unverified", ip, email=email)
    if not provider.domain_allowed(email):
        raise refuse(provider, "domain_not_allowed", ip, email=email)
    person = db.session.scalar(select(Person).where(Person.email == email))
    link = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.protocol == provider.protocol,
            ExternalIdentity.provider == provider.name,
            ExternalIdentity.subject == claims.subject[:255],
        )
    )
    if link is not None and (person is None or link.person_id != person.id):
        raise refuse(provider, "identity_mismatch", ip, email=email, person=person)
    if person is None:
        if not provider.create_people:
            raise refuse(provider, "unknown_person", ip, email=email)
        person = _create(provider, email, claims.name)
    elif not person.active:
        raise refuse(provider, "deactivated", ip, email=email, person=person)
    now = utcnow()
    if link is None:
        # A person has one subject per provider: a new one (the account was made
        # again at the provider) replaces the old, and the change is audited.
        replaced = db.session.scalar(
            select(ExternalIdentity).where(
                ExternalIdentity.person_id == person.id,
                ExternalIdentity.protocol == provider.protocol,
                ExternalIdentity.provider == provider.name,
            )
        )
        if replaced is not None:
            db.session.delete(replaced)
            db.session.flush()  # its row goes before the new one takes the person's place
        link = ExternalIdentity(
            person_id=person.id,
            protocol=provider.protocol,
            provider=provider.name,
            subject=claims.subject[:255],
            created_at=now,
        )
        db.session.add(link)
        record(
            "auth.sso_linked",
            actor=person,
            subject=person,
            provider=provider.name,
            replaced=replaced is not None,
        )
    link.last_sign_in_at = now
    db.session.flush()
    record(
        "auth.sso_signed_in",
        actor=person,
        subject=person,
        provider=provider.name,
        protocol=provider.protocol,
        ip=ip,
    )
    return person


def _create(provider: Provider, email: str, name: str | None) -> Person:
    """Just-in-time: an employee with no manager, department or level until HR sets them."""
    name = " ".join((name or "").split())[:200] or email.partition("@")[0]
    person = Person(
        email=email,
        name=name,
        role=Role.EMPLOYEE,
        source=Source.SSO,
        provisioned_at=utcnow(),
    )
    db.session.add(person)
    db.session.flush()
    record("person.created", actor=None, subject=person, source=f"sso:{provider.name}")
    return person
