"""SAML 2.0 single sign-on: Reviews is a SAML service provider (pysaml2, signing through xmlsec1).

Each SAML provider in SSO_PROVIDERS has three URLs under /auth/saml/<name>/:
`metadata` (what the identity provider's admin imports: entity id, ACS URL, NameID
format, signing key when configured), `login` (sends an AuthnRequest by HTTP-Redirect)
and `acs` (receives the signed Response by HTTP-POST).

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
"""

from __future__ import annotations

import calendar
import logging
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, request
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
    from saml2.metadata import create_metadata_string
    from saml2.response import StatusError, UnsolicitedResponse
    from saml2.s_utils import sid
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from reviews import access, security
from reviews.auth.views import safe_next
from reviews.extensions import csrf
from reviews.identity.admission import Claims, first_use, providers
from reviews.identity.settings import Provider
from reviews.identity.signin import complete, refuse_now

bp = Blueprint("saml", __name__, url_prefix="/auth/saml")
csrf.exempt(bp)  # the IdP's POST cannot carry our CSRF token; RelayState does that job

log = logging.getLogger(__name__)

RELAY_MAX_AGE = 15 * 60  # seconds from the AuthnRequest to the Response (MFA included)
CLOCK_SKEW = 60  # seconds either way between the IdP's clock and ours
MAX_RESPONSE = 512 * 1024  # a base64 SAMLResponse larger than this is not a sign-in
METADATA_TIMEOUT = 10  # seconds to fetch idp_metadata_url
_BUILD_LOCK = threading.Lock()
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


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


# ---------------------------------------------------------------- configuration


def _provider(name: str) -> Provider:
    provider = providers().get(name)
    if provider is None or provider.protocol != "saml":
        abort(404)
    return provider


def _urls(provider: Provider) -> tuple[str, str]:
    """This service's entity id and ACS URL, from PUBLIC_URL (never from the request)."""
    base = f"{current_app.config['PUBLIC_URL'].rstrip('/')}{bp.url_prefix}/{provider.name}"
    return provider.entity_id or f"{base}/metadata", f"{base}/acs"


def _settings(provider: Provider, *, with_idp: bool) -> dict[str, Any]:
    entity_id, acs_url = _urls(provider)
    signing = bool(provider.sp_key_file)
    settings: dict[str, Any] = {
        "entityid": entity_id,
        "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
        "accepted_time_diff": CLOCK_SKEW,
        "allow_unknown_attributes": True,
        "http_client_timeout": METADATA_TIMEOUT,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]},
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "authn_requests_signed": signing,
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
    return ServiceProvider(client, idps[0], entity_id, acs_url)


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


def read_response(
    sp: ServiceProvider, provider: Provider, saml_response: str, request_id: str
) -> tuple[Claims, str, timedelta]:
    """The claims, the assertion's id and how long to remember it; or Untrusted."""
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
    return claims, str(assertion.id), timedelta(seconds=keep)


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
        claims, assertion_id, keep = read_response(
            sp, provider, request.form.get("SAMLResponse", ""), str(request_id)
        )
    except Untrusted as untrusted:
        status = 400 if untrusted.reason == "state_mismatch" else 403
        return refuse_now(provider, untrusted.reason, detail=untrusted.detail, status=status)
    if not first_use(f"saml:{provider.name}:{assertion_id}", keep):
        return refuse_now(provider, "replayed", detail=f"assertion {assertion_id[:64]} seen before")
    return complete(provider, claims, str(next_url) or None)
