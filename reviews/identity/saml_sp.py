"""SAML: Reviews' service-provider configuration, built once per provider and process.

pysaml2's client for each SAML provider in SSO_PROVIDERS (its settings, the IdP's
metadata from a file or an https URL), this service's URLs (from PUBLIC_URL, never
from the request), its metadata, and the signed RelayStates that tie an answer to
its request (reviews/identity/saml.py explains why and how).
"""

from __future__ import annotations

import logging
import shutil
import threading
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

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
    from saml2.s_utils import UnsupportedBinding
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from reviews.identity.settings import Provider

log = logging.getLogger(__name__)

RELAY_MAX_AGE = 15 * 60  # seconds from the AuthnRequest to the Response (MFA included)
CLOCK_SKEW = 60  # seconds either way between the IdP's clock and ours
MAX_RESPONSE = 512 * 1024  # a base64 SAMLResponse larger than this is not a sign-in
METADATA_TIMEOUT = 10  # seconds to fetch idp_metadata_url
LOGOUT_KEEP = timedelta(seconds=RELAY_MAX_AGE + CLOCK_SKEW)  # a LogoutResponse's id, kept
_BUILD_LOCK = threading.Lock()
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# The session key for what a LogoutRequest needs: {"provider", "name_id", "session_index"}.
LOGOUT_KEY = "saml_logout"
NAME_ID_PARTS = ("format", "name_qualifier", "sp_name_qualifier", "sp_provided_id")


PREFIX = "/auth/saml"


class MetadataUnavailable(Exception):
    """The IdP's metadata could not be read (file, URL or content)."""


@dataclass(frozen=True)
class ServiceProvider:
    """pysaml2's client for one provider, and the one IdP its metadata names."""

    client: Any  # saml2.client.Saml2Client (untyped)
    idp_entity_id: str
    entity_id: str
    acs_url: str
    sls_url: str


# ---------------------------------------------------------------- configuration


def _base(provider: Provider) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{PREFIX}/{provider.name}"


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


def relay_serializer(provider: Provider) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"saml-relay-state:{provider.name}"
    )


def logout_relay_serializer(provider: Provider) -> URLSafeTimedSerializer:
    """Another salt than sign-in's: neither RelayState passes for the other."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"saml-logout-state:{provider.name}"
    )


def slo_location(sp: ServiceProvider) -> str | None:
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
        return slo_location(service_provider(provider)) is not None
    except MetadataUnavailable:
        return False
