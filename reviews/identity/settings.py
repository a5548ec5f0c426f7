"""The identity providers this deployment trusts, read once at start-up.

Pure: no Flask, no database. `SSO_PROVIDERS` (instance/config.py, or JSON in the
environment variable of that name) is a list of providers; every problem in it
is reported at once, in one line, and stops start-up (ConfigError).

    SSO_PROVIDERS = [
        {"name": "okta", "protocol": "oidc", "label": "Okta",
         "discovery_url": "https://example.okta.com/.well-known/openid-configuration",
         "client_id": "...", "client_secret": "..."},
        {"name": "entra", "protocol": "saml", "label": "Microsoft Entra ID",
         "idp_metadata_url": "https://login.microsoftonline.com/.../federationmetadata.xml"},
    ]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROTOCOLS = ("oidc", "saml")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")

# Which claim (OIDC) or attribute (SAML) carries what Reviews needs; each may be changed.
OIDC_CLAIMS = {"email": "email", "email_verified": "email_verified", "name": "name"}
SAML_ATTRIBUTES = {
    "email": "email",  # besides the NameID when it is an email address
    "name": "displayName",
}
_COMMON = {"name", "protocol", "label", "allowed_domains", "create_people"}
_OIDC_KEYS = _COMMON | {
    "discovery_url",
    "client_id",
    "client_secret",
    "scopes",
    "claims",
    "trust_unverified_email",
    "end_session",
}
_SAML_KEYS = _COMMON | {
    "idp_metadata_file",
    "idp_metadata_url",
    "sp_key_file",
    "sp_cert_file",
    "attributes",
    "entity_id",
}


class SettingsError(ValueError):
    """What is wrong with SSO_PROVIDERS, every problem in one line."""


@dataclass(frozen=True)
class Provider:
    name: str  # in URLs and the audit log: /auth/sso/<name>/...
    protocol: str  # "oidc" or "saml"
    label: str  # "Sign in with <label>"
    allowed_domains: tuple[str, ...] = ()  # empty: any domain
    create_people: bool = False  # just-in-time creation of unknown people
    # OpenID Connect
    discovery_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid email profile"
    claims: Mapping[str, str] = field(default_factory=lambda: dict(OIDC_CLAIMS))
    trust_unverified_email: bool = False  # only for providers that never send email_verified
    end_session: bool = True  # offer the provider's sign-out when it has one
    # SAML 2.0
    idp_metadata_file: str = ""
    idp_metadata_url: str = ""
    sp_key_file: str = ""
    sp_cert_file: str = ""
    attributes: Mapping[str, str] = field(default_factory=lambda: dict(SAML_ATTRIBUTES))
    entity_id: str = ""  # this service's entity id; default: its metadata URL

    def domain_allowed(self, email: str) -> bool:
        if not self.allowed_domains:
            return True
        domain = email.rpartition("@")[2].lower()
        return domain in self.allowed_domains


def _text(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}: {key} must be text")
        return ""
    return value.strip()


def _flag(
    entry: Mapping[str, Any], key: str, default: bool, where: str, problems: list[str]
) -> bool:
    value = entry.get(key, default)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key} must be true or false")
        return default
    return value


def _mapping(
    entry: Mapping[str, Any], key: str, defaults: Mapping[str, str], where: str, problems: list[str]
) -> dict[str, str]:
    given = entry.get(key, {})
    if not isinstance(given, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in given.items()
    ):
        problems.append(f"{where}: {key} must map names to non-empty text")
        return dict(defaults)
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        problems.append(f"{where}: {key} has unknown entries {', '.join(unknown)}")
    return {**defaults, **{k: v.strip() for k, v in given.items()}}


def _provider(entry: Any, index: int, problems: list[str]) -> Provider | None:
    where = f"SSO_PROVIDERS[{index}]"
    if not isinstance(entry, Mapping):
        problems.append(f"{where} must be a mapping of settings")
        return None
    name = _text(entry, "name", where, problems)
    if not _NAME.match(name):
        problems.append(f"{where}: name must be 1-50 lowercase letters, digits or dashes")
    else:
        where = f"SSO provider {name!r}"
    protocol = _text(entry, "protocol", where, problems)
    if protocol not in PROTOCOLS:
        problems.append(f"{where}: protocol must be oidc or saml")
        return None
    unknown = sorted(set(entry) - (_OIDC_KEYS if protocol == "oidc" else _SAML_KEYS))
    if unknown:
        problems.append(f"{where}: unknown settings {', '.join(unknown)}")
    domains = entry.get("allowed_domains", [])
    if isinstance(domains, str) or not isinstance(domains, Sequence):
        problems.append(f"{where}: allowed_domains must be a list of domains")
        domains = []
    cleaned = tuple(str(d).strip().lower().lstrip("@") for d in domains)
    bad = [d for d in cleaned if not _DOMAIN.match(d)]
    if bad:
        problems.append(f"{where}: allowed_domains has what is not a domain: {', '.join(bad)}")
    common: dict[str, Any] = {
        "name": name,
        "protocol": protocol,
        "label": _text(entry, "label", where, problems) or name,
        "allowed_domains": cleaned,
        "create_people": _flag(entry, "create_people", False, where, problems),
    }
    if protocol == "oidc":
        oidc: dict[str, Any] = {
            key: _text(entry, key, where, problems)
            for key in ("discovery_url", "client_id", "client_secret")
        }
        for key, value in oidc.items():
            if not value:
                problems.append(f"{where}: {key} is required")
        if oidc["discovery_url"] and not oidc["discovery_url"].startswith(("https://", "http://")):
            problems.append(f"{where}: discovery_url must be an http(s) URL")
        scopes = _text(entry, "scopes", where, problems) or "openid email profile"
        if "openid" not in scopes.split():
            problems.append(f"{where}: scopes must include openid")
        return Provider(
            **common,
            **oidc,
            scopes=scopes,
            claims=_mapping(entry, "claims", OIDC_CLAIMS, where, problems),
            trust_unverified_email=_flag(entry, "trust_unverified_email", False, where, problems),
            end_session=_flag(entry, "end_session", True, where, problems),
        )
    saml: dict[str, Any] = {
        key: _text(entry, key, where, problems)
        for key in ("idp_metadata_file", "idp_metadata_url", "sp_key_file", "sp_cert_file")
    }
    if bool(saml["idp_metadata_file"]) == bool(saml["idp_metadata_url"]):
        problems.append(f"{where}: give one of idp_metadata_file and idp_metadata_url")
    if bool(saml["sp_key_file"]) != bool(saml["sp_cert_file"]):
        problems.append(f"{where}: sp_key_file and sp_cert_file go together")
    return Provider(
        **common,
        **saml,
        attributes=_mapping(entry, "attributes", SAML_ATTRIBUTES, where, problems),
        entity_id=_text(entry, "entity_id", where, problems),
    )


def parse_providers(raw: Any) -> dict[str, Provider]:
    """The providers by name, or SettingsError naming every problem."""
    if raw in (None, "", []):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise SettingsError(f"SSO_PROVIDERS is not valid JSON: {exc}") from None
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise SettingsError("SSO_PROVIDERS must be a list of providers")
    problems: list[str] = []
    providers: dict[str, Provider] = {}
    for index, entry in enumerate(raw):
        provider = _provider(entry, index, problems)
        if provider is None:
            continue
        if provider.name in providers:
            problems.append(f"SSO provider {provider.name!r} is given twice")
        providers[provider.name] = provider
    if problems:
        raise SettingsError("; ".join(problems))
    return providers


def parse_emails(raw: Any, setting: str) -> frozenset[str]:
    """A list (or comma-separated text) of email addresses, lowercased."""
    if raw in (None, ""):
        return frozenset()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, Sequence):
        raise SettingsError(f"{setting} must be a list of email addresses")
    emails = [str(e).strip().lower() for e in items if str(e).strip()]
    bad = [e for e in emails if "@" not in e]
    if bad:
        raise SettingsError(f"{setting} has what is not an email address: {', '.join(bad)}")
    return frozenset(emails)
