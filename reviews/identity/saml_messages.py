"""SAML: reading the identity provider's answers (sign-in Responses, LogoutResponses).

Every check a Response must pass before anyone is admitted, and a LogoutResponse
before its sign-out is confirmed, as reviews/identity/saml.py describes; anything
short of that is `Untrusted`, with a reason from admission.REASONS.
"""

from __future__ import annotations

import base64
import calendar
import time
import warnings
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

with warnings.catch_warnings():
    # pysaml2 7.5 names cryptography's CFB mode at import (deprecated in cryptography
    # 47, unused for SAML here): silence that one warning, from that one module.
    warnings.filterwarnings(
        "ignore", message="CFB has been moved", module=r"saml2\.cryptography\.symmetric"
    )
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.response import StatusError, UnsolicitedResponse
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT
    from saml2.sigver import (
        RESP_ORDER,
        SIGNER_ALGS,
        extract_rsa_key_from_x509_cert,
        pem_format,
    )

from reviews.identity.admission import Claims
from reviews.identity.saml_sp import (
    CLOCK_SKEW,
    MAX_RESPONSE,
    NAME_ID_PARTS,
    RELAY_MAX_AGE,
    ServiceProvider,
)
from reviews.identity.settings import Provider


class Untrusted(Exception):
    """The response is refused for `reason` (a key of admission.REASONS)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------- reading a response


def describe(exc: BaseException) -> str:
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
            **{part: getattr(name_id, part) for part in NAME_ID_PARTS if getattr(name_id, part)},
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
        raise Untrusted("provider_error", describe(exc)) from None
    except Exception as exc:  # signature, audience, time, XML: pysaml2 raises many kinds
        raise Untrusted("token_invalid", describe(exc)) from None
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
        raise Untrusted("provider_error", describe(exc)) from None
    except Exception as exc:  # signature, XML, base64: pysaml2 raises many kinds
        raise Untrusted("token_invalid", describe(exc)) from None
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
        raise Untrusted("provider_error", describe(exc)) from None
    except Untrusted:
        raise
    except Exception as exc:
        raise Untrusted("token_invalid", describe(exc)) from None
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
        raise Untrusted("token_invalid", describe(exc)) from None
    if not any(signer.verify(signed.encode("ascii"), signature, key) for key in keys):
        raise Untrusted("token_invalid", "Signature of the LogoutResponse does not verify")
