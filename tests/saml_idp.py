"""A real SAML 2.0 identity provider for the tests: pysaml2's `Server` behind a small WSGI app.

It is served on a loopback port in a thread (`serve_idp`) and speaks to Reviews as a
real IdP does: it publishes its metadata (written to a file for Reviews'
`idp_metadata_file`), reads the SP's AuthnRequest from the HTTP-Redirect binding,
shows its own sign-in form (username = email; only `users` exist), and answers with a
signed Response in an auto-submitting HTML form that POSTs to the SP's ACS URL.

Single logout: its metadata names a SingleLogoutService (`/slo`, HTTP-Redirect) unless
`slo` is False (then call `write_metadata` again, before the SP first reads it). A
LogoutRequest there (its query signature checked when `want_signed_requests`) is kept
in `logout_requests` and answered with a signed LogoutResponse: by HTTP-Redirect (the
query string signed), or by an auto-submitting HTTP-POST form (the XML signed) when
`logout_binding` is HTTP-POST; as `mode` says ("good", "wrong_key", "unsigned", "sha1" and
"wrong_destination" as above; "logout_refused": the IdP answers with a failure status).

Misbehaviours are switched per test through `mode`:
  "good"                 the assertion signed with the IdP's key (the one in its metadata)
  "wrong_key"            signed with another key than the metadata's
  "wrong_audience"       the assertion is addressed to another service provider
  "expired"              the IdP's clock is two hours behind: its assertion, valid for five
                         minutes from what it thinks is now, ran out long ago
  "unsigned"             nothing signed at all
  "response_signed_only" the Response signed, the assertion inside it not
  "sha1"                 signed with the right key, but with RSA-SHA1
  "wrong_recipient"      the assertion's SubjectConfirmationData names another ACS as Recipient
  "wrong_destination"    the Response's Destination names another ACS
and `name_id_format` ("email" or "persistent") / `send_email` shape what it asserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import struct_time
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

with warnings.catch_warnings():
    # pysaml2 7.5 names cryptography's deprecated CFB mode at import; only that is silenced.
    warnings.filterwarnings(
        "ignore", message="CFB has been moved", module=r"saml2\.cryptography\.symmetric"
    )
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, samlp, time_util
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.s_utils import error_status_factory
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT
    from saml2.server import Server
    from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

XMLSEC = "/usr/bin/xmlsec1"
# The claim name Microsoft Entra ID uses for the address; Reviews is told to read it.
EMAIL_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
ELSEWHERE = "https://elsewhere.example.com/saml/metadata"
ELSEWHERE_ACS = "https://elsewhere.example.com/saml/acs"
ELSEWHERE_SLS = "https://elsewhere.example.com/saml/sls"
MODES = (
    "good",
    "wrong_key",
    "wrong_audience",
    "expired",
    "unsigned",
    "response_signed_only",
    "sha1",
    "wrong_recipient",
    "wrong_destination",
    "logout_refused",
)


@dataclass(frozen=True)
class KeyPair:
    key_file: str
    cert_file: str


@dataclass(frozen=True)
class Keys:
    idp: KeyPair
    sp: KeyPair
    wrong: KeyPair  # a third party's key: what a forger would sign with


def _key_pair(directory: Path, stem: str, common_name: str) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file = directory / f"{stem}.key"
    cert_file = directory / f"{stem}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return KeyPair(str(key_file), str(cert_file))


def make_keys(directory: Path) -> Keys:
    """Fresh keys and self-signed certificates for the IdP, the SP and a forger."""
    directory.mkdir(parents=True, exist_ok=True)
    return Keys(
        idp=_key_pair(directory, "idp", "Test IdP"),
        sp=_key_pair(directory, "sp", "Reviews SP"),
        wrong=_key_pair(directory, "wrong", "Someone else"),
    )


_CLOCK = threading.Lock()
BEHIND = dt.timedelta(hours=2)


class _ShiftedTime:
    """The `time` module as seen by a clock `offset` away from ours."""

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset.total_seconds()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def time(self) -> float:
        return time.time() + self.offset

    def gmtime(self, seconds: float | None = None) -> struct_time:
        return time.gmtime(self.time() if seconds is None else seconds)


@contextmanager
def _clock(offset: dt.timedelta) -> Iterator[None]:
    """pysaml2 reads the time through saml2.time_util only: shift it while the IdP writes.
    (The SP in these tests waits for the IdP's answer, so it never reads a shifted clock.)"""
    if not offset:
        yield
        return

    class Shifted(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Any:
            return dt.datetime.now(tz) + offset

    with _CLOCK:
        saved = time_util.time, time_util.datetime
        time_util.time, time_util.datetime = _ShiftedTime(offset), Shifted
        try:
            yield
        finally:
            time_util.time, time_util.datetime = saved


class SamlIdP:
    """The IdP's state and its WSGI app; `serve_idp` gives it a URL."""

    def __init__(self, directory: Path, keys: Keys, users: dict[str, str]) -> None:
        self.directory = directory
        self.keys = keys
        self.users = dict(users)  # email -> display name
        self.url = ""
        self.mode = "good"
        self.name_id_format = "email"  # or "persistent": an opaque id, not the address
        self.send_email = True  # the email attribute (EMAIL_CLAIM)
        self.sp_metadata = ""
        self.answers: list[str] = []  # every SAMLResponse sent, base64, for replay tests
        self.slo = True  # publish a SingleLogoutService in the metadata
        self.want_signed_requests = False  # refuse a LogoutRequest whose query is not signed
        self.logout_binding = BINDING_HTTP_REDIRECT  # how the LogoutResponse goes back
        self.logout_requests: list[Any] = []  # each LogoutRequest received (parsed)
        self.logout_answers: list[str] = []  # each LogoutResponse's redirect URL
        self._servers: dict[tuple[str, bool, bool], Server] = {}

    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def metadata_file(self) -> Path:
        return self.directory / "idp-metadata.xml"

    def _config(self, pair: KeyPair) -> IdPConfig:
        endpoints: dict[str, Any] = {
            "single_sign_on_service": [(f"{self.url}/sso", BINDING_HTTP_REDIRECT)]
        }
        if self.slo:
            endpoints["single_logout_service"] = [(f"{self.url}/slo", BINDING_HTTP_REDIRECT)]
        settings: dict[str, Any] = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": pair.key_file,
            "cert_file": pair.cert_file,
            "service": {
                "idp": {
                    "endpoints": endpoints,
                    # pysaml2 reads this for every request it parses, logout ones too.
                    "want_authn_requests_signed": self.want_signed_requests,
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
        }
        if self.sp_metadata:
            settings["metadata"] = {"inline": [self.sp_metadata]}
        return IdPConfig().load(settings)

    def write_metadata(self) -> None:
        xml = create_metadata_string(None, config=self._config(self.keys.idp))
        self.metadata_file.write_bytes(xml if isinstance(xml, bytes) else xml.encode())

    def trust(self, sp_metadata: str) -> None:
        """Import the SP's metadata, as an admin does when adding the application."""
        self.sp_metadata = sp_metadata
        self._servers.clear()

    def _server(self) -> Server:
        pair = self.keys.wrong if self.mode == "wrong_key" else self.keys.idp
        sha1 = self.mode == "sha1"
        key = (pair.key_file, sha1, self.want_signed_requests)
        if key not in self._servers:
            server = Server(config=self._config(pair))
            # pysaml2 ignores signing_algorithm in an IdP's config (it looks it up per
            # role): set what a current IdP uses, or SHA-1 when told to misbehave.
            server.signing_algorithm = SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256
            server.digest_algorithm = DIGEST_SHA1 if sha1 else DIGEST_SHA256
            self._servers[key] = server
        return self._servers[key]

    # -------------------------------------------------------------- the web side

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/metadata":
            response = Response(self.metadata_file.read_bytes(), mimetype="text/xml")
        elif request.path == "/sso" and request.method == "GET":
            response = self._sign_in_form(
                request.args.get("SAMLRequest", ""), request.args.get("RelayState", ""), ""
            )
        elif request.path == "/sso/login" and request.method == "POST":
            response = self._answer(request)
        elif request.path == "/slo" and request.method == "GET" and self.slo:
            response = self._log_out(request)
        elif request.path == "/favicon.ico":
            response = Response(status=204)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    def _parse(self, saml_request: str) -> Any:
        return self._server().parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)

    def _sign_in_form(self, saml_request: str, relay_state: str, error: str) -> Response:
        try:
            self._parse(saml_request)
        except Exception as exc:
            return Response(f"Test IdP: bad AuthnRequest ({type(exc).__name__})", status=400)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (("SAMLRequest", saml_request), ("RelayState", relay_state))
        )
        problem = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test IdP</title></head>
<body><h1>Test IdP sign-in</h1>{problem}
<form method="post" action="/sso/login">{hidden}
<label>Username <input name="username" type="email" autocomplete="username"></label>
<button type="submit">Sign in</button></form></body></html>"""
        return Response(page, mimetype="text/html", status=401 if error else 200)

    def _answer(self, request: Request) -> Response:
        saml_request = request.form.get("SAMLRequest", "")
        relay_state = request.form.get("RelayState", "")
        username = request.form.get("username", "").strip()
        if username not in self.users:
            return self._sign_in_form(saml_request, relay_state, "No such user at the IdP.")
        try:
            parsed = self._parse(saml_request)
        except Exception as exc:
            return Response(f"Test IdP: bad AuthnRequest ({type(exc).__name__})", status=400)
        server = self._server()
        args = server.response_args(parsed.message, [BINDING_HTTP_POST])
        destination = args["destination"]
        identity: dict[str, list[str]] = {"displayName": [self.users[username]]}
        if self.send_email:
            identity[EMAIL_CLAIM] = [username]
        if self.name_id_format == "email":
            name_id = saml.NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=username)
        else:
            opaque = hashlib.sha256(username.encode()).hexdigest()[:32]
            name_id = saml.NameID(format=NAMEID_FORMAT_PERSISTENT, text=opaque)
        if self.mode == "wrong_audience":
            args["sp_entity_id"] = ELSEWHERE
        if self.mode == "wrong_destination":
            args["destination"] = ELSEWHERE_ACS
        if self.mode == "wrong_recipient":
            confirmation = {
                "method": saml.SCM_BEARER,
                "subject_confirmation_data": {
                    "in_response_to": args["in_response_to"],
                    "recipient": ELSEWHERE_ACS,
                },
            }
            args["farg"] = {"assertion": {"subject": {"subject_confirmation": confirmation}}}
        signed = self.mode not in ("unsigned", "response_signed_only")
        with _clock(-BEHIND if self.mode == "expired" else dt.timedelta(0)):
            answer = server.create_authn_response(
                identity,
                name_id=name_id,
                authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
                sign_assertion=signed,
                sign_response=self.mode == "response_signed_only",
                **args,
            )
        http = server.apply_binding(
            BINDING_HTTP_POST, str(answer), destination, relay_state, response=True
        )
        page = http["data"]
        saml_response = page.split('name="SAMLResponse" value="', 1)[1].split('"', 1)[0]
        self.answers.append(html.unescape(saml_response))
        return Response(page, mimetype="text/html")

    def _log_out(self, request: Request) -> Response:
        """Answer a LogoutRequest (HTTP-Redirect) with a LogoutResponse, by redirect too."""
        server = self._server()
        try:
            parsed = server.parse_logout_request(
                request.args.get("SAMLRequest", ""),
                BINDING_HTTP_REDIRECT,
                relay_state=request.args.get("RelayState"),
                sigalg=request.args.get("SigAlg"),
                signature=request.args.get("Signature"),
            )
        except Exception as exc:
            return Response(f"Test IdP: bad LogoutRequest ({type(exc).__name__})", status=400)
        self.logout_requests.append(parsed.message)
        status = None
        if self.mode == "logout_refused":
            status = error_status_factory((samlp.STATUS_RESPONDER, "Not signed out"))
        signed = self.mode != "unsigned"
        post = self.logout_binding == BINDING_HTTP_POST
        # HTTP-POST carries the signature in the XML, HTTP-Redirect in the query string.
        destination = server.response_args(parsed.message, [self.logout_binding])["destination"]
        answer = server.create_logout_response(
            parsed.message, [self.logout_binding], status=status, sign=signed and post
        )
        if self.mode == "wrong_destination" and not post:  # XML signed for POST: as is
            answer.destination = ELSEWHERE_SLS
        http = server.apply_binding(
            self.logout_binding,
            str(answer),
            destination,
            request.args.get("RelayState", ""),
            response=True,
            sign=signed and not post,
        )
        if post:
            return Response(http["data"], mimetype="text/html")
        location = dict(http["headers"])["Location"]
        self.logout_answers.append(location)
        return Response(status=302, headers={"Location": location})


@contextmanager
def serve_idp(directory: Path, keys: Keys, users: dict[str, str]) -> Iterator[SamlIdP]:
    """The IdP on a free loopback port, its metadata written, for as long as the block runs."""
    directory.mkdir(parents=True, exist_ok=True)
    idp = SamlIdP(directory, keys, users)
    server = make_server("127.0.0.1", 0, idp, threaded=True)
    idp.url = f"http://127.0.0.1:{server.server_port}"
    idp.write_metadata()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        thread.join(5)
