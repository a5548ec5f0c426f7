"""Sign-in, passwords and one-time password links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from reviews.audit.operations import record
from reviews.auth.models import LinkPurpose, LoginFailure, PasswordLink
from reviews.auth.throttle import retry_after
from reviews.db import utcnow
from reviews.errors import Invalid, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext, ngettext
from reviews.people.models import Person

MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Checked against when the email is unknown, so that a miss costs the same time.
_DUMMY_HASH = generate_password_hash("no such person, no such password")


class SignInFailed(Exception):
    pass


class SignInThrottled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


def hash_password(password: str) -> str:
    return generate_password_hash(
        password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )


def password_problem(password: str, person: Person) -> str | None:
    if len(password) < MIN_PASSWORD:
        return str(
            ngettext(
                "Use at least %(num)d character.", "Use at least %(num)d characters.", MIN_PASSWORD
            )
        )
    if len(password) > MAX_PASSWORD:
        return str(
            ngettext(
                "Use at most %(num)d character.", "Use at most %(num)d characters.", MAX_PASSWORD
            )
        )
    if password.strip().lower() in {person.email.lower(), person.name.lower()}:
        return str(gettext("Your password cannot be your email address or your name."))
    return None


def _throttle_wait(email: str, ip: str, now: datetime) -> int | None:
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    since = now - window
    by_email = db.session.scalars(
        select(LoginFailure.at).where(LoginFailure.email == email, LoginFailure.at > since)
    ).all()
    by_ip = db.session.scalars(
        select(LoginFailure.at).where(LoginFailure.ip == ip, LoginFailure.at > since)
    ).all()
    waits = [
        retry_after(by_email, now, config["LOGIN_MAX_FAILURES"], window),
        retry_after(by_ip, now, config["LOGIN_MAX_FAILURES_PER_IP"], window),
    ]
    return max((w for w in waits if w is not None), default=None)


def authenticate(email: str, password: str, ip: str) -> Person:
    """The person these credentials belong to, or SignInFailed / SignInThrottled.

    Failures are committed by the caller like any other change, so the count
    holds across workers.  Unknown emails, wrong passwords, deactivated people
    and people without a password all fail alike.
    """
    email = email.strip().lower()
    now = utcnow()
    wait = _throttle_wait(email, ip, now)
    if wait is not None:
        raise SignInThrottled(wait)
    person: Person | None = db.session.scalar(select(Person).where(Person.email == email))
    stored = person.password_hash if person is not None and person.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password) and person is not None and person.active
    if not ok or person is None:
        db.session.add(LoginFailure(email=email[:254], ip=ip[:64], at=now))
        horizon = now - timedelta(seconds=4 * current_app.config["LOGIN_WINDOW_SECONDS"])
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < horizon))
        if person is not None:
            record("auth.sign_in_failed", actor=None, subject=person, ip=ip)
        raise SignInFailed
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    record("auth.signed_in", actor=person, subject=person, ip=ip)
    return person


def sign_out_everywhere(person: Person) -> None:
    person.session_version += 1
    db.session.flush()


def set_password(person: Person, password: str, *, actor: Person | None) -> None:
    problem = password_problem(password, person)
    if problem:
        raise Invalid(problem, "password")
    person.password_hash = hash_password(password)
    person.session_version += 1
    db.session.flush()
    record("auth.password_set", actor=actor, subject=person)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(actor: Person | None, person: Person, purpose: LinkPurpose) -> str:
    """A new one-time token (returned once, kept only hashed); older links die."""
    if not person.active:
        raise PhaseClosed(
            gettext("%(name)s is deactivated; reactivate them first", name=person.name)
        )
    from reviews.identity.admission import passwords_allowed

    if not passwords_allowed(person.email):
        raise PhaseClosed(
            gettext(
                "passwords are turned off (%(setting)s): %(name)s signs in with the identity "
                "provider",
                setting="SSO_ONLY",
                name=person.name,
            )
        )
    now = utcnow()
    db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.person_id == person.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_LINK_HOURS"]
    db.session.add(
        PasswordLink(
            person_id=person.id,
            token_hash=_token_hash(token),
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.flush()
    record(f"auth.{purpose.value}_link_issued", actor=actor, subject=person)
    return token


def find_password_link(token: str) -> PasswordLink | None:
    """The link for this token while it is unused, unexpired and its person active."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        select(PasswordLink).where(PasswordLink.token_hash == _token_hash(token))
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.person.active:
        return None
    return link


def redeem_password_link(link: PasswordLink, password: str) -> Person:
    set_password(link.person, password, actor=link.person)
    link.used_at = utcnow()
    db.session.flush()
    return link.person
