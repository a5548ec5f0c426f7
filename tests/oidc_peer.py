"""The real OpenID Provider the OIDC tests sign in at (tests/oidc/provider.mjs, the npm
`oidc-provider` package on loopback, run by Node.js), and a driver for its sign-in form."""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "reviews-tests"
CLIENT_SECRET = "a client secret only the tests know, long enough"
NAME = "testop"
LABEL = "Test OP"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_jwk(kid: str) -> dict[str, str]:
    """A fresh RSA signing key as a private JWK (the provider signs ID tokens with it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = key.private_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": _b64(n.public_numbers.n),
        "e": _b64(n.public_numbers.e),
        "d": _b64(n.d),
        "p": _b64(n.p),
        "q": _b64(n.q),
        "dp": _b64(n.dmp1),
        "dq": _b64(n.dmq1),
        "qi": _b64(n.iqmp),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Peer:
    issuer: str
    process: subprocess.Popen[str]

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def misbehave(self, mode: str) -> None:
        requests.post(f"{self.issuer}/__test__/misbehave", json={"mode": mode}, timeout=5)

    def accounts(self, accounts: dict[str, dict[str, Any]]) -> None:
        requests.post(f"{self.issuer}/__test__/accounts", json={"accounts": accounts}, timeout=5)

    def provider(self, **settings: Any) -> dict[str, Any]:
        """The SSO_PROVIDERS entry for this peer (settings override the defaults)."""
        return {
            "name": NAME,
            "protocol": "oidc",
            "label": LABEL,
            "discovery_url": self.discovery_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **settings,
        }


@contextmanager
def running_provider(
    tmp: Path, redirect_uris: list[str], *, port: int = 0, keys: list[dict[str, str]] | None = None
) -> Iterator[Peer]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.fail("the OpenID Provider needs Node.js and `npm install oidc-provider` (.ci/run)")
    settings = {
        "port": port,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": [
            u.replace("/auth/sso/testop/callback", "/auth/login") for u in redirect_uris
        ],
        "jwks": {"keys": keys or [private_jwk("key-1")]},
    }
    path = tmp / f"op-{port}-{len(redirect_uris)}.json"
    path.write_text(json.dumps(settings))
    process = subprocess.Popen(  # our own script, our own arguments
        [node, str(SCRIPT), str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    issuer = process.stdout.readline().strip()
    if not issuer.startswith("http://"):
        process.kill()
        pytest.fail(
            f"the OpenID Provider did not start: {process.stderr.read() if process.stderr else ''}"
        )
    try:
        yield Peer(issuer, process)
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def sign_in_at_provider(authorize_url: str, login: str, back_to: str) -> str:
    """Fill the provider's sign-in form as `login`; the URL it sends the browser back to.

    `back_to` is the start of Reviews' own URLs: redirects are followed until one
    points there, and that URL is returned (the test client then opens it)."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    action = _ACTION.search(page.text)
    assert action, page.text[:500]
    answer = browser.post(
        urljoin(page.url, action.group(1)),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    for _ in range(10):
        location = answer.headers.get("Location", "")
        target = urljoin(answer.url, location)
        if target.startswith(back_to):
            return target
        assert answer.status_code in (302, 303), answer.text[:500]
        answer = browser.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")
