"""OpenID Connect single sign-on through Authlib's Flask client.

Authlib does the protocol: discovery, the authorization code flow with PKCE
(S256), state and nonce kept in the session, and the ID token's checks (issuer,
audience, expiry with two minutes' leeway, nonce, and the signature against the
provider's JWKS, fetched again when a token names a key it has not seen: key
rotation). This module maps what can go wrong to a reason the person reads and
the audit log keeps, and hands the verified claims to `signin.complete`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from joserfc.errors import JoseError

from reviews import access, security
from reviews.auth.views import safe_next
from reviews.identity.admission import Claims
from reviews.identity.settings import Provider
from reviews.identity.signin import complete, provider_or_404, refuse_now

bp = Blueprint("oidc", __name__, url_prefix="/auth/sso")

_TIMEOUT = 10  # seconds for each call to the provider (discovery, token, JWKS, userinfo)


def init_app(app: Flask) -> None:
    """One Authlib registry per app, with every OpenID Connect provider configured."""
    oauth = OAuth(app)
    for provider in (app.config.get("SSO_PROVIDER_MAP") or {}).values():
        if provider.protocol != "oidc":
            continue
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "timeout": _TIMEOUT,
            },
        )
    app.extensions["reviews_oidc"] = oauth


def _provider(name: str) -> tuple[Provider, Any]:
    provider = provider_or_404(name, "oidc")
    client = current_app.extensions["reviews_oidc"].create_client(name)
    return provider, client


@bp.get("/<name>/start")
@access.public
def start(name: str) -> Any:
    """Send the browser to the provider; the answer comes back to `callback`."""
    provider, client = _provider(name)
    session["sso_next"] = safe_next(request.args.get("next")) or ""
    try:
        return client.authorize_redirect(url_for("oidc.callback", name=name, _external=True))
    except (requests.RequestException, OAuthError, ValueError) as exc:
        return refuse_now(provider, "unreachable", detail=type(exc).__name__, status=502)


def _flag(value: Any) -> bool:
    """email_verified: a JSON true, or the string some providers send."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


@bp.get("/<name>/callback")
@access.public
@security.rate_limited("sign-in", methods=("GET",))  # the password form's budget per address
def callback(name: str) -> Any:
    provider, client = _provider(name)
    if "error" in request.args:
        # The provider said no (the person cancelled, or is not assigned to the app).
        error = request.args.get("error", "")[:60]
        return refuse_now(provider, "provider_error", detail=error)
    next_url = session.pop("sso_next", None)
    try:
        token = client.authorize_access_token()
    except MismatchingStateError:
        return refuse_now(provider, "state_mismatch", status=400)
    except OAuthError as exc:
        return refuse_now(provider, "provider_error", detail=str(exc.error or "")[:60])
    except JoseError as exc:
        return refuse_now(provider, "token_invalid", detail=type(exc).__name__)
    except (requests.RequestException, ValueError) as exc:
        return refuse_now(provider, "unreachable", detail=type(exc).__name__, status=502)
    id_claims = token.get("userinfo")
    if not id_claims or not id_claims.get("sub"):
        return refuse_now(provider, "token_invalid", detail="no ID token")
    claims = dict(id_claims)
    mapping = provider.claims
    if not claims.get(mapping["email"]):
        # Some providers put the email only in the userinfo answer; it must be
        # about the same subject as the checked ID token.
        try:
            extra = client.userinfo(token=token)
        except (requests.RequestException, OAuthError, ValueError) as exc:
            return refuse_now(provider, "unreachable", detail=type(exc).__name__, status=502)
        if extra.get("sub") == claims["sub"]:
            claims = {**dict(extra), **claims}
    email = claims.get(mapping["email"])
    name_claim = claims.get(mapping["name"])
    return complete(
        provider,
        Claims(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=_flag(claims.get(mapping["email_verified"])),
            name=name_claim if isinstance(name_claim, str) else None,
        ),
        next_url,
    )


@bp.get("/<name>/signed-out")
@access.public
def signed_out(name: str) -> Any:
    """After signing out of Reviews: offer to sign out of the provider too, if it can."""
    provider, client = _provider(name)
    try:
        endpoint = client.load_server_metadata().get("end_session_endpoint")
    except (requests.RequestException, ValueError):
        endpoint = None
    if not endpoint or not provider.end_session:
        return redirect(url_for("auth.login"))
    query = urlencode(
        {
            "client_id": provider.client_id,
            "post_logout_redirect_uri": url_for("auth.login", _external=True),
        }
    )
    return render_template(
        "auth/sso_signed_out.html", provider=provider, end_session=f"{endpoint}?{query}"
    )
