"""SAML 2.0 single sign-on: Reviews is a SAML service provider (pysaml2, signing through xmlsec1).

Each SAML provider in SSO_PROVIDERS has these URLs under /auth/saml/<name>/:
`metadata` (what the identity provider's admin imports: entity id, ACS URL, SLO URL,
NameID format, signing key when configured), `login` (sends an AuthnRequest by
HTTP-Redirect) and `acs` (receives the signed Response by HTTP-POST); for single
logout, `signed-out` (after signing out of Reviews: offers the IdP's sign-out),
`logout` (sends a LogoutRequest by HTTP-Redirect) and `sls` (receives the IdP's
LogoutResponse, by HTTP-Redirect or HTTP-POST).

The session cookie is SameSite=Lax, so it does not come back with the IdP's cross-site
POST. The outstanding request therefore travels with the person: RelayState carries the
AuthnRequest's id and the page to go on to, signed with SECRET_KEY (salt per provider)
and good for RELAY_MAX_AGE. The response must answer exactly that request
(InResponseTo, on the Response and on the SubjectConfirmationData); IdP-initiated
(unsolicited) responses are refused, since nothing ties them to this browser.

Before anyone is admitted the response must carry one assertion that is signed by the
key in the IdP's metadata (a signed Response around an unsigned assertion is not
enough), issued by that IdP, restricted to this service's entity id, confirmed for
this ACS URL, inside its validity window (CLOCK_SKEW allowed), and never seen before.
Any doubt is a refusal with a clear page and an audit event, never an error page.

The IdP vouches for the addresses it asserts, so an email from the configured
attribute, or a NameID in the emailAddress format, counts as verified. A response
with neither (say, an opaque persistent NameID and no email attribute) has no
verified email and is refused as `email_missing`; a NameID of unspecified format is
not taken for an email even when it looks like one (a UPN is not a mailbox).

Single logout is SP-initiated only, and only offered when the IdP's metadata has a
SingleLogoutService for HTTP-Redirect. Sign-in keeps the assertion's NameID and
SessionIndex in the session (LOGOUT_KEY); signing out of Reviews carries them over
the session's end to the `signed-out` page, and `logout` spends them. The answer is
tied to its request as at sign-in: a signed RelayState (another salt) names the
LogoutRequest's id (and the person's id, for the audit event, since a cross-site POST
brings no session), and the LogoutResponse must answer it, come from the IdP, be
addressed to our SLO URL and say Success. Its signature, when the IdP signs (query
string or XML), must verify against the metadata's key; the audit event says whether
it was signed. Either way Reviews' own session has already ended: a refusal only
means the IdP's sign-out is not confirmed.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadData

with warnings.catch_warnings():
    # pysaml2 7.5 names cryptography's CFB mode at import (deprecated in cryptography
    # 47, unused for SAML here): silence that one warning, from that one module.
    warnings.filterwarnings(
        "ignore", message="CFB has been moved", module=r"saml2\.cryptography\.symmetric"
    )
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.s_utils import sid
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
    from saml2.xmldsig import SIG_RSA_SHA256
from sqlalchemy import select

from reviews import access, security
from reviews.audit.operations import record
from reviews.auth.views import safe_next
from reviews.extensions import csrf, db
from reviews.identity import saml_sp
from reviews.identity.admission import first_use
from reviews.identity.models import ExternalIdentity
from reviews.identity.saml_messages import (
    Untrusted,
    describe,
    read_logout_response,
    read_response,
)
from reviews.identity.saml_sp import (
    LOGOUT_KEEP,
    LOGOUT_KEY,
    NAME_ID_PARTS,
    PREFIX,
    MetadataUnavailable,
    logout_relay_serializer,
    offers_logout,
    relay_serializer,
    service_provider,
    slo_location,
    sp_metadata,
)
from reviews.identity.settings import Provider
from reviews.identity.signin import complete, provider_or_404, refuse_now
from reviews.languages import gettext
from reviews.people.models import Person

bp = Blueprint("saml", __name__, url_prefix=PREFIX)
csrf.exempt(bp)  # the IdP's POST cannot carry our CSRF token; RelayState does that job

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- views


@bp.get("/<name>/metadata")
@access.public
def metadata(name: str) -> Any:
    provider = provider_or_404(name, "saml")
    return Response(sp_metadata(provider), mimetype="application/samlmetadata+xml")


@bp.get("/<name>/login")
@access.public
def login(name: str) -> Any:
    provider = provider_or_404(name, "saml")
    try:
        sp = service_provider(provider)
    except MetadataUnavailable as exc:
        return refuse_now(provider, "unreachable", detail=str(exc), status=503)
    request_id = sid()
    next_url = safe_next(request.args.get("next")) or ""
    relay_state = relay_serializer(provider).dumps([request_id, next_url])
    try:
        _sent_id, info = sp.client.prepare_for_authenticate(
            entityid=sp.idp_entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            message_id=request_id,
        )
    except Exception as exc:  # e.g. the IdP's metadata offers no HTTP-Redirect endpoint
        log.error("SAML provider %s: no AuthnRequest: %r", provider.name, exc)
        return refuse_now(provider, "provider_error", detail=describe(exc), status=502)
    return redirect(dict(info["headers"])["Location"])


@bp.post("/<name>/acs")
@access.public
@security.rate_limited("sign-in")  # the password form's budget per address (xmlsec1 runs)
def acs(name: str) -> Any:
    provider = provider_or_404(name, "saml")
    try:
        sp = service_provider(provider)
    except MetadataUnavailable as exc:
        return refuse_now(provider, "unreachable", detail=str(exc), status=503)
    try:
        request_id, next_url = relay_serializer(provider).loads(
            request.form.get("RelayState", ""),
            max_age=saml_sp.RELAY_MAX_AGE,  # read when used: tests shorten it
        )
    except (BadData, ValueError, TypeError):
        return refuse_now(
            provider, "state_mismatch", detail="RelayState missing, altered or expired", status=400
        )
    try:
        claims, assertion_id, keep, logout = read_response(
            sp, provider, request.form.get("SAMLResponse", ""), str(request_id)
        )
    except Untrusted as untrusted:
        status = 400 if untrusted.reason == "state_mismatch" else 403
        return refuse_now(provider, untrusted.reason, detail=untrusted.detail, status=status)
    if not first_use(f"saml:{provider.name}:{assertion_id}", keep):
        return refuse_now(provider, "replayed", detail=f"assertion {assertion_id[:64]} seen before")
    return complete(provider, claims, str(next_url) or None, {LOGOUT_KEY: logout})


def _person_named_by(provider: Provider, name_id: dict[str, Any]) -> Person | None:
    """The person a stored NameID stands for: by email, or by the identity it is linked to."""
    value = str(name_id.get("text") or "").strip()
    if not value:
        return None
    if name_id.get("format") == NAMEID_FORMAT_EMAILADDRESS:
        person = db.session.scalar(select(Person).where(Person.email == value.lower()))
        if person is not None:
            return person
    link = db.session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.protocol == "saml",
            ExternalIdentity.provider == provider.name,
            ExternalIdentity.subject == value,
        )
    )
    return db.session.get(Person, link.person_id) if link is not None else None


@bp.get("/<name>/signed-out")
@access.public
def signed_out(name: str) -> Any:
    """After signing out of Reviews: offer to sign out of the IdP too, if it can."""
    provider = provider_or_404(name, "saml")
    stored = session.get(LOGOUT_KEY)
    if not isinstance(stored, dict) or stored.get("provider") != name:
        return redirect(url_for("auth.login"))
    if not offers_logout(provider):
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/sso_signed_out.html",
        provider=provider,
        end_session=url_for("saml.logout", name=name),
    )


@bp.get("/<name>/logout")
@access.public
def logout(name: str) -> Any:
    """Send the LogoutRequest for the sign-in kept by `signed_out`; spends what was kept."""
    provider = provider_or_404(name, "saml")
    stored = session.pop(LOGOUT_KEY, None)
    if not isinstance(stored, dict) or stored.get("provider") != name:
        return redirect(url_for("auth.login"))
    stored_name_id = stored.get("name_id") or {}
    if not isinstance(stored_name_id, dict) or not stored_name_id.get("text"):
        return redirect(url_for("auth.login"))
    try:
        sp = service_provider(provider)
    except MetadataUnavailable:
        return redirect(url_for("auth.login"))
    destination = slo_location(sp)
    if destination is None:
        return redirect(url_for("auth.login"))
    name_id = NameID(
        text=str(stored_name_id["text"]),
        **{part: str(stored_name_id[part]) for part in NAME_ID_PARTS if stored_name_id.get(part)},
    )
    person = _person_named_by(provider, stored_name_id)
    request_id = sid()
    relay_state = logout_relay_serializer(provider).dumps(
        [request_id, person.id if person is not None else None]
    )
    session_index = stored.get("session_index")
    try:
        _id, logout_request = sp.client.create_logout_request(
            destination,
            sp.idp_entity_id,
            name_id=name_id,
            message_id=request_id,
            session_indexes=[str(session_index)] if session_index else None,
            sign=False,  # HTTP-Redirect signs the query string, not the XML
        )
        info = sp.client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(logout_request),
            destination,
            relay_state,
            sign=bool(provider.sp_key_file),
            sigalg=SIG_RSA_SHA256,
        )
    except Exception as exc:  # pysaml2 or xmlsec1: Reviews' session is over regardless
        log.error("SAML provider %s: no LogoutRequest: %r", provider.name, exc)
        flash(
            gettext(
                "Signing out of %(provider)s did not start. Sign out there yourself.",
                provider=provider.label,
            ),
            "error",
        )
        return redirect(url_for("auth.login"))
    return redirect(dict(info["headers"])["Location"])


@bp.route("/<name>/sls", methods=["GET", "POST"])
@access.public
@security.rate_limited("sign-in", methods=("GET", "POST"))  # xmlsec1 runs for a POST
def sls(name: str) -> Any:
    """The IdP's LogoutResponse. A GET (HTTP-Redirect) brings the SameSite=Lax session
    cookie, a cross-site POST does not: everything needed comes in RelayState."""
    provider = provider_or_404(name, "saml")
    binding = BINDING_HTTP_POST if request.method == "POST" else BINDING_HTTP_REDIRECT
    fields = request.form if request.method == "POST" else request.args
    message = {key: str(fields[key]) for key in fields}
    not_confirmed = gettext(
        "%(provider)s did not confirm that you are signed out there. You are signed out of "
        "Reviews; on a shared computer, sign out at %(provider)s yourself.",
        provider=provider.label,
    )
    if "SAMLRequest" in message and "SAMLResponse" not in message:
        # A logout started at the IdP (or at another of its applications): not supported.
        log.info("SAML provider %s: LogoutRequest from the IdP ignored", provider.name)
        flash(
            gettext(
                "Reviews does not take part in signing out at %(provider)s: to end your "
                "Reviews session, use Sign out in Reviews.",
                provider=provider.label,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    try:
        request_id, person_id = logout_relay_serializer(provider).loads(
            message.get("RelayState", ""),
            max_age=saml_sp.RELAY_MAX_AGE,  # read when used: tests shorten it
        )
    except (BadData, ValueError, TypeError):
        log.warning("SAML provider %s: LogoutResponse with a bad RelayState", provider.name)
        flash(not_confirmed, "error")
        return redirect(url_for("auth.login"))
    try:
        signed = read_logout_response(
            sp=service_provider(provider),
            binding=binding,
            message=message,
            request_id=str(request_id),
        )
    except MetadataUnavailable:
        flash(not_confirmed, "error")
        return redirect(url_for("auth.login"))
    except Untrusted as untrusted:
        log.warning(
            "SAML provider %s: LogoutResponse refused (%s): %s",
            provider.name,
            untrusted.reason,
            untrusted.detail,
        )
        flash(not_confirmed, "error")
        return redirect(url_for("auth.login"))
    if not first_use(f"saml-logout:{provider.name}:{request_id}", LOGOUT_KEEP):
        log.warning("SAML provider %s: LogoutResponse seen before", provider.name)
        flash(not_confirmed, "error")
        return redirect(url_for("auth.login"))
    person = db.session.get(Person, int(person_id)) if isinstance(person_id, int) else None
    record(
        "auth.sso_signed_out",
        actor=None,
        subject=person,
        provider=provider.name,
        protocol="saml",
        signed=signed,
    )
    flash(gettext("You are signed out of %(provider)s too.", provider=provider.label), "success")
    return redirect(url_for("auth.login"))
