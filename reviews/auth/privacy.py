"""Sign-in records: password links and failed sign-ins (kept by email)."""

from __future__ import annotations

from sqlalchemy import delete

from reviews.auth.models import LoginFailure, PasswordLink
from reviews.extensions import db
from reviews.privacy import Forgetting, holding


def _forget(f: Forgetting) -> None:
    db.session.execute(delete(PasswordLink).where(PasswordLink.person_id == f.person.id))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == f.email))


holding(
    "auth",
    columns=("password_link.person_id",),
    forget=_forget,
    keeps="Nothing: password links and failed sign-ins are deleted. Links are secrets, "
    "so they are not exported either.",
)
