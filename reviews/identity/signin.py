"""The end every single sign-on shares: admit, start the session, or show the refusal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, redirect, render_template, session, url_for
from flask_login import login_user

from reviews.auth.views import safe_next
from reviews.identity.admission import Claims, Refused, admit, providers, refuse
from reviews.identity.settings import Provider
from reviews.security import by_address
from reviews.web import keep_when_refused


def provider_or_404(name: str, protocol: str) -> Provider:
    """The configured provider of that name and protocol; any other name is not a page."""
    provider = providers().get(name)
    if provider is None or provider.protocol != protocol:
        abort(404)
    return provider


def complete(
    provider: Provider,
    claims: Claims,
    next_url: str | None,
    keep: Mapping[str, Any] | None = None,
) -> Any:
    """Sign the person in (a fresh session) and go on to `next_url`, or show why not.
    `keep`: values the new session holds for the protocol (SAML's, for single logout)."""
    try:
        person = admit(provider, claims, by_address())
    except Refused as refused:
        return refused_page(provider, refused)
    session.clear()  # no state from before the sign-in survives it
    login_user(person)
    session.permanent = True
    session["sso_provider"] = provider.name
    session.update(keep or {})
    return redirect(safe_next(next_url) or url_for("home.index"))


def refused_page(provider: Provider, refused: Refused, status: int = 403) -> Any:
    """The clear page for a refusal; the audit event is kept, nothing else is."""
    keep_when_refused()
    return render_template(
        "auth/sso_refused.html", provider=provider, message=refused.message
    ), status


def refuse_now(provider: Provider, reason: str, *, detail: str = "", status: int = 403) -> Any:
    """Record a refusal found before any claims were read (state, signature, time)."""
    return refused_page(provider, refuse(provider, reason, by_address(), detail=detail), status)
