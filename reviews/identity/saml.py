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

import base64
import calendar
import logging
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadData, URLSafeTimedSerializer

with warnings.catch_warnings():
    # pysaml2 7.5 names cryptography's CFB mode at import (deprecated in cryptography
    # 47, unused for SAML here): silence that one warning, from that one module.
    warnings.filterwarnings(
        "ignore", message="CFB has been moved", module=r"saml2\.cryptography\.symmetric"
    )
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.mdstore import locations
    from saml2.metadata import create_metadata_string
    from saml2.response import StatusError, UnsolicitedResponse
    from saml2.s_utils import UnsupportedBinding, sid
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT, NameID
    from saml2.sigver import (
        RESP_ORDER,
        SIGNER_ALGS,
        extract_rsa_key_from_x509_cert,
        pem_format,
    )
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from sqlalchemy import select

from reviews import access, security
from reviews.audit.operations import record
from reviews.auth.views import safe_next
from reviews.extensions import csrf, db
from reviews.identity.admission import Claims, first_use, providers
from reviews.identity.models import ExternalIdentity
from reviews.identity.settings import Provider
from reviews.identity.signin import complete, refuse_now
from reviews.people.models import Person

bp = Blueprint("saml", __name__, url_prefix="/auth/saml")
csrf.exempt(bp)  # the IdP's POST cannot carry our CSRF token; RelayState does that job

log = logging.getLogger(__name__)

RELAY_MAX_AGE = 15 * 60  # seconds from the AuthnRequest to the Response (MFA included)
CLOCK_SKEW = 60  # seconds either way between the IdP's clock and ours
MAX_RESPONSE = 512 * 1024  # a base64 SAMLResponse larger than this is not a sign-in
METADATA_TIMEOUT = 10  # seconds to fetch idp_metadata_url
_LOGOUT_KEEP = timedelta(seconds=RELAY_MAX_AGE + CLOCK_SKEW)  # a LogoutResponse's id, kept
_BUILD_LOCK = threading.Lock()
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# The session key for what a LogoutRequest needs: {"provider", "name_id", "session_index"}.
LOGOUT_KEY = "saml_logout"
_NAME_ID_PARTS = ("format", "name_qualifier", "sp_name_qualifier", "sp_provided_id")


class MetadataUnavailable(Exception):
    """The IdP's metadata could not be read (file, URL or content)."""


class Untrusted(Exception):
    """The response is refused for `reason` (a key of admission.REASONS)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ServiceProvider:
    """pysaml2's client for one provider, and the one IdP its metadata names."""

    client: Any  # saml2.client.Saml2Client (untyped)
    idp_entity_id: str
    entity_id: str
    acs_url: str
    sls_url: str


# ---------------------------------------------------------------- configuration


def _provider(name: str) -> Provider:
    provider = providers().get(name)
    if provider is None or provider.protocol != "saml":
        abort(404)
    return provider


def _base(provider: Provider) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{bp.url_prefix}/{provider.name}"


def _urls(provider: Provider) -> tuple[str, str]:
    """This service's entity id and ACS URL, from PUBLIC_URL (never from the request)."""
    base = _base(provider)
    return provider.entity_id or f"{base}/metadata", f"{base}/acs"


def _sls_url(provider: Provider) -> str:
    return f"{_base(provider)}/sls"


def _settings(provider: Provider, *, with_idp: bool) -> dict[str, Any]:
    entity_id, acs_url = _urls(provider)
    sls_url = _sls_url(provider)
    signing = bool(provider.sp_key_file)
    settings: dict[str, Any] = {
        "entityid": entity_id,
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "accepted_time_diff": CLOCK_SKEW,
        "allow_unknown_attributes": True,
        "http_client_timeout": METADATA_TIMEOUT,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (sls_url, BINDING_HTTP_REDIRECT),
                        (sls_url, BINDING_HTTP_POST),
                    ],
                },
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "authn_requests_signed": signing,
                "logout_requests_signed": signing,
                # Published in the metadata as a hint; not forced in the AuthnRequest, so
                # an IdP configured for persistent ids plus an email attribute works too.
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            }
        },
    }
    if signing:
        settings["key_file"] = provider.sp_key_file
        settings["cert_file"] = provider.sp_cert_file
        # The same pair decrypts assertions for IdPs that encrypt to the published key.
        settings["encryption_keypairs"] = [
            {"key_file": provider.sp_key_file, "cert_file": provider.sp_cert_file}
        ]
    if with_idp:
        if provider.idp_metadata_file:
            settings["metadata"] = {"local": [provider.idp_metadata_file]}
        else:
            settings["metadata"] = {"remote": [{"url": provider.idp_metadata_url}]}
    return settings


def _cache() -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = current_app.extensions.setdefault("saml", {})
    return found


def _cache_key(kind: str, provider: Provider) -> tuple[str, ...]:
    return (kind, provider.name, *_urls(provider))


def service_provider(provider: Provider) -> ServiceProvider:
    """The provider's SAML client with the IdP's metadata, built once per process."""
    key = _cache_key("client", provider)
    cache = _cache()
    if key in cache:
        found: ServiceProvider = cache[key]
        return found
    with _BUILD_LOCK:
        if key not in cache:
            cache[key] = _build(provider)
        built: ServiceProvider = cache[key]
        return built


def _build(provider: Provider) -> ServiceProvider:
    source = provider.idp_metadata_file or provider.idp_metadata_url
    url = urlsplit(provider.idp_metadata_url)
    if provider.idp_metadata_url and url.scheme != "https" and url.hostname not in _LOOPBACK:
        # Unsigned metadata names the keys we trust: over plain HTTP anyone could swap them.
        log.error("SAML provider %s: idp_metadata_url must use https", provider.name)
        raise MetadataUnavailable("idp_metadata_url is not https")
    try:
        config = SPConfig().load(_settings(provider, with_idp=True))
        client = Saml2Client(config=config)
        # pysaml2 reads these per role ("_sp_signing_algorithm") where its config sets
        # them globally, so it would sign AuthnRequests with SHA-1: set them here.
        client.signing_algorithm = SIG_RSA_SHA256
        client.digest_algorithm = DIGEST_SHA256
        idps = list(client.metadata.with_descriptor("idpsso"))
    except Exception as exc:  # pysaml2 reports a bad file, URL or document many ways
        log.error(
            "SAML provider %s: IdP metadata from %s not loaded: %r", provider.name, source, exc
        )
        raise MetadataUnavailable(type(exc).__name__) from None
    if len(idps) != 1:
        log.error("SAML provider %s: %s names %d IdPs, not one", provider.name, source, len(idps))
        raise MetadataUnavailable(f"{len(idps)} IdPs in metadata")
    entity_id, acs_url = _urls(provider)
    return ServiceProvider(client, idps[0], entity_id, acs_url, _sls_url(provider))


def sp_metadata(provider: Provider) -> str:
    """This service's metadata for the IdP's admin: needs nothing from the IdP."""
    key = _cache_key("metadata", provider)
    cache = _cache()
    if key not in cache:
        config = SPConfig().load(_settings(provider, with_idp=False))
        cache[key] = create_metadata_string(None, config=config)
    text = cache[key]
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


def _relay_serializer(provider: Provider) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"saml-relay-state:{provider.name}"
    )


def _logout_relay_serializer(provider: Provider) -> URLSafeTimedSerializer:
    """Another salt than sign-in's: neither RelayState passes for the other."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"saml-logout-state:{provider.name}"
    )


def _slo_location(sp: ServiceProvider) -> str | None:
    """The IdP's SingleLogoutService for HTTP-Redirect, from its metadata; or None."""
    try:
        services = sp.client.metadata.single_logout_service(
            sp.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )
    except UnsupportedBinding:  # no SingleLogoutService for HTTP-Redirect
        return None
    return next(locations(services or []), None)


def offers_logout(provider: Provider) -> bool:
    """Whether the IdP's metadata offers single logout that Reviews can send."""
    try:
        return _slo_location(service_provider(provider)) is not None
    except MetadataUnavailable:
        return False


# ---------------------------------------------------------------- reading a response


def _describe(exc: BaseException) -> str:
    """A short line for the audit log: the error's kind, never XML or the response."""
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    if "<" in text or "PHNhbWw" in text:
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _attribute(response: Any, wanted: str) -> str | None:
    """The first value of the attribute named `wanted` (its Name or FriendlyName)."""
    for statement in response.assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            if wanted in (attribute.name, attribute.friendly_name):
                for value in attribute.attribute_value or []:
                    if value.text and value.text.strip():
                        return str(value.text).strip()
    values = (response.ava or {}).get(wanted) or []  # pysaml2's friendly names (mail, ...)
    return str(values[0]).strip() if values and str(values[0]).strip() else None


def _weak_signature(signature: Any) -> bool:
    """SHA-1 and MD5 signatures can be forged with money; every current IdP offers SHA-256."""
    if signature is None or signature.signed_info is None:
        return True
    info = signature.signed_info
    algorithms = [info.signature_method.algorithm if info.signature_method else ""]
    algorithms += [ref.digest_method.algorithm for ref in info.reference if ref.digest_method]
    return any(a.rsplit("#", 1)[-1].split("-")[-1] in ("sha1", "md5", "") for a in algorithms)


def _seconds_left(not_on_or_after: str | None) -> float:
    if not not_on_or_after:
        return 0.0
    try:
        moment = calendar.timegm(time.strptime(not_on_or_after[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0
    return moment - time.time()


def _logout_values(provider: Provider, response: Any) -> dict[str, Any]:
    """What a LogoutRequest for this sign-in needs: the NameID as sent, the SessionIndex."""
    name_id = response.name_id
    session_index = next(
        (
            str(statement.session_index)
            for statement in response.assertion.authn_statement or []
            if statement.session_index
        ),
        None,
    )
    return {
        "provider": provider.name,
        "name_id": {
            "text": (name_id.text or "").strip(),
            **{part: getattr(name_id, part) for part in _NAME_ID_PARTS if getattr(name_id, part)},
        },
        "session_index": session_index,
    }


def read_response(
    sp: ServiceProvider, provider: Provider, saml_response: str, request_id: str
) -> tuple[Claims, str, timedelta, dict[str, Any]]:
    """The claims, the assertion's id, how long to remember it, and what single logout
    will need (`_logout_values`); or Untrusted."""
    if not saml_response:
        raise Untrusted("token_invalid", "no SAMLResponse")
    if len(saml_response) > MAX_RESPONSE:
        raise Untrusted("token_invalid", "SAMLResponse too large")
    try:
        response = sp.client.parse_authn_request_response(
            saml_response,
            BINDING_HTTP_POST,
            outstanding={request_id: request_id},
            # pysaml2 checks SubjectConfirmationData/@Recipient only when given some
            # conversation info; without an "entity_id" in it the ACS URL must match.
            conv_info={"acs_url": sp.acs_url},
        )
    except UnsolicitedResponse:
        raise Untrusted("state_mismatch", "InResponseTo is not this sign-in's request") from None
    except StatusError as exc:
        raise Untrusted("provider_error", _describe(exc)) from None
    except Exception as exc:  # signature, audience, time, XML: pysaml2 raises many kinds
        raise Untrusted("token_invalid", _describe(exc)) from None
    if response is None or response.assertion is None or response.name_id is None:
        raise Untrusted("token_invalid", "no valid assertion in the response")
    assertion = response.assertion
    issuer = (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""
    if issuer != sp.idp_entity_id:
        raise Untrusted("token_invalid", "assertion issued by another entity")
    conditions = assertion.conditions
    audiences = [
        (audience.text or "").strip()
        for restriction in (conditions.audience_restriction if conditions else None) or []
        for audience in restriction.audience or []
    ]
    if sp.entity_id not in audiences:  # pysaml2 lets an assertion with no audience pass
        raise Untrusted("token_invalid", "assertion not restricted to this service")
    if not assertion.id:
        raise Untrusted("token_invalid", "assertion without an ID")
    if _weak_signature(assertion.signature):
        raise Untrusted("token_invalid", "assertion signed with SHA-1 or MD5")

    name_id = response.name_id
    value = (name_id.text or "").strip()
    email = _attribute(response, provider.attributes["email"])
    if not email and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        email = value
    # A transient NameID changes at every sign-in: the email is the stable subject then.
    subject = (email or value) if name_id.format == NAMEID_FORMAT_TRANSIENT else value
    claims = Claims(
        subject=subject,
        email=email,
        email_verified=True,  # the IdP asserts the address (see the module's docstring)
        name=_attribute(response, provider.attributes["name"]),
    )
    lifetimes = [_seconds_left(conditions.not_on_or_after if conditions else None)]
    for confirmation in assertion.subject.subject_confirmation or []:
        data = confirmation.subject_confirmation_data
        lifetimes.append(_seconds_left(data.not_on_or_after if data is not None else None))
    # RelayState bounds a replay too: remember the id while either could still pass.
    keep = max([*lifetimes, RELAY_MAX_AGE]) + CLOCK_SKEW
    return claims, str(assertion.id), timedelta(seconds=keep), _logout_values(provider, response)


def read_logout_response(
    sp: ServiceProvider, binding: str, message: dict[str, str], request_id: str
) -> bool:
    """Check the IdP's LogoutResponse (the request's fields); whether it was signed.
    Untrusted when it is not a successful answer from the IdP to `request_id`."""
    saml_response = message.get("SAMLResponse", "")
    if not saml_response:
        raise Untrusted("token_invalid", "no SAMLResponse")
    if len(saml_response) > MAX_RESPONSE:
        raise Untrusted("token_invalid", "SAMLResponse too large")
    try:
        # pysaml2 checks an XML signature against the metadata's keys when there is one.
        response = sp.client.parse_logout_request_response(saml_response, binding)
    except StatusError as exc:
        raise Untrusted("provider_error", _describe(exc)) from None
    except Exception as exc:  # signature, XML, base64: pysaml2 raises many kinds
        raise Untrusted("token_invalid", _describe(exc)) from None
    if response is None or response.response is None:
        raise Untrusted("token_invalid", "no LogoutResponse")
    answer = response.response
    signed = answer.signature is not None
    if binding == BINDING_HTTP_REDIRECT and ("Signature" in message or "SigAlg" in message):
        _check_redirect_signature(sp, message)
        signed = True
    issuer = (answer.issuer.text or "").strip() if answer.issuer is not None else ""
    if issuer != sp.idp_entity_id:
        raise Untrusted("token_invalid", "LogoutResponse issued by another entity")
    if answer.in_response_to != request_id:
        raise Untrusted("state_mismatch", "InResponseTo is not this sign-out's request")
    if answer.destination != sp.sls_url:  # pysaml2 checks it only when present
        raise Untrusted("token_invalid", "LogoutResponse addressed to another URL")
    try:
        # The version, the IssueInstant (within a day) and the status: Success or raise.
        if not response.verify():
            raise Untrusted("token_invalid", "LogoutResponse not valid")
    except StatusError as exc:
        raise Untrusted("provider_error", _describe(exc)) from None
    except Untrusted:
        raise
    except Exception as exc:
        raise Untrusted("token_invalid", _describe(exc)) from None
    return signed


def _check_redirect_signature(sp: ServiceProvider, message: dict[str, str]) -> None:
    """HTTP-Redirect signs the query string (SAMLResponse, RelayState, SigAlg). Checked
    here with the metadata's keys: pysaml2 checks it for requests only, and its helper
    for it shares one signer object per algorithm between threads."""
    algorithm = message.get("SigAlg", "")
    if not algorithm or not message.get("Signature"):
        raise Untrusted("token_invalid", "Signature or SigAlg missing")
    if algorithm.rsplit("#", 1)[-1].split("-")[-1] in ("sha1", "md5"):
        raise Untrusted("token_invalid", "LogoutResponse signed with SHA-1 or MD5")
    signer = SIGNER_ALGS.get(algorithm)
    if signer is None:
        raise Untrusted("token_invalid", "LogoutResponse signed with an unknown algorithm")
    signed = "&".join(urlencode({key: message[key]}) for key in RESP_ORDER if key in message)
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
        keys = [
            extract_rsa_key_from_x509_cert(pem_format(cert))
            for _name, cert in sp.client.metadata.certs(sp.idp_entity_id, "idpsso", "signing")
        ]
    except Exception as exc:  # bad base64, or a certificate that does not load
        raise Untrusted("token_invalid", _describe(exc)) from None
    if not any(signer.verify(signed.encode("ascii"), signature, key) for key in keys):
        raise Untrusted("token_invalid", "Signature of the LogoutResponse does not verify")


# ---------------------------------------------------------------- views


@bp.get("/<name>/metadata")
@access.public
def metadata(name: str) -> Any:
    provider = _provider(name)
    return Response(sp_metadata(provider), mimetype="application/samlmetadata+xml")


@bp.get("/<name>/login")
@access.public
def login(name: str) -> Any:
    provider = _provider(name)
    try:
        sp = service_provider(provider)
    except MetadataUnavailable as exc:
        return refuse_now(provider, "unreachable", detail=str(exc), status=503)
    request_id = sid()
    next_url = safe_next(request.args.get("next")) or ""
    relay_state = _relay_serializer(provider).dumps([request_id, next_url])
    try:
        _sent_id, info = sp.client.prepare_for_authenticate(
            entityid=sp.idp_entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            message_id=request_id,
        )
    except Exception as exc:  # e.g. the IdP's metadata offers no HTTP-Redirect endpoint
        log.error("SAML provider %s: no AuthnRequest: %r", provider.name, exc)
        return refuse_now(provider, "provider_error", detail=_describe(exc), status=502)
    return redirect(dict(info["headers"])["Location"])


@bp.post("/<name>/acs")
@access.public
@security.rate_limited("sign-in")  # the password form's budget per address (xmlsec1 runs)
def acs(name: str) -> Any:
    provider = _provider(name)
    try:
        sp = service_provider(provider)
    except MetadataUnavailable as exc:
        return refuse_now(provider, "unreachable", detail=str(exc), status=503)
    try:
        request_id, next_url = _relay_serializer(provider).loads(
            request.form.get("RelayState", ""), max_age=RELAY_MAX_AGE
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
    provider = _provider(name)
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
    provider = _provider(name)
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
    destination = _slo_location(sp)
    if destination is None:
        return redirect(url_for("auth.login"))
    name_id = NameID(
        text=str(stored_name_id["text"]),
        **{part: str(stored_name_id[part]) for part in _NAME_ID_PARTS if stored_name_id.get(part)},
    )
    person = _person_named_by(provider, stored_name_id)
    request_id = sid()
    relay_state = _logout_relay_serializer(provider).dumps(
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
        flash(f"Signing out of {provider.label} did not start. Sign out there yourself.", "error")
        return redirect(url_for("auth.login"))
    return redirect(dict(info["headers"])["Location"])


@bp.route("/<name>/sls", methods=["GET", "POST"])
@access.public
@security.rate_limited("sign-in", methods=("GET", "POST"))  # xmlsec1 runs for a POST
def sls(name: str) -> Any:
    """The IdP's LogoutResponse. A GET (HTTP-Redirect) brings the SameSite=Lax session
    cookie, a cross-site POST does not: everything needed comes in RelayState."""
    provider = _provider(name)
    binding = BINDING_HTTP_POST if request.method == "POST" else BINDING_HTTP_REDIRECT
    fields = request.form if request.method == "POST" else request.args
    message = {key: str(fields[key]) for key in fields}
    not_confirmed = (
        f"{provider.label} did not confirm that you are signed out there. You are signed "
        f"out of Reviews; on a shared computer, sign out at {provider.label} yourself."
    )
    if "SAMLRequest" in message and "SAMLResponse" not in message:
        # A logout started at the IdP (or at another of its applications): not supported.
        log.info("SAML provider %s: LogoutRequest from the IdP ignored", provider.name)
        flash(
            f"Reviews does not take part in signing out at {provider.label}: to end "
            "your Reviews session, use Sign out in Reviews.",
            "info",
        )
        return redirect(url_for("auth.login"))
    try:
        request_id, person_id = _logout_relay_serializer(provider).loads(
            message.get("RelayState", ""), max_age=RELAY_MAX_AGE
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
    if not first_use(f"saml-logout:{provider.name}:{request_id}", _LOGOUT_KEEP):
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
    flash(f"You are signed out of {provider.label} too.", "success")
    return redirect(url_for("auth.login"))
