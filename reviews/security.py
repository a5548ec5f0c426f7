"""Rate limits, and CSRF for API writes made from a signed-in browser.

A rate limit is a named scope with a budget of hits per fixed window
(``RATE_LIMITS`` in the config).  Counters live in Redis when ``REDIS_URL`` is
set, so every gunicorn worker shares them; otherwise in this process's memory
(enough for ``make run``, not for several workers).  A refused request gets 429
with ``Retry-After``, as the app's own error page, or JSON under ``/api/``.

Use from a view::

    @bp.post("/things")
    @access.signed_in
    @security.rate_limited("thing-writes", key=security.by_user)
    def create_thing(): ...

or call ``security.enforce(scope, key)`` anywhere a request is being handled.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, Protocol, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

F = TypeVar("F", bound=Callable[..., Any])

# scope -> (hits allowed, window in seconds)
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    # Sign-in POSTs per address: the database throttle (5 failures per account,
    # 50 per address in 15 minutes) stops guessing; this stops hashing floods.
    "sign-in": (30, 60),
    # Opening or using a one-time password link, per address.
    "password-link": (20, 60),
    # HR issuing password links, per target person (each one mails them).
    "password-link-issue": (5, 3600),
    # API calls per token, and calls with a wrong token per address.
    "api-token": (600, 60),
    "api-token-failure": (20, 60),
}


class Storage(Protocol):
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit on `key` in its current window: (hits so far, seconds left)."""


class MemoryStorage:
    """Fixed windows in this process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            ends, count = self._counts.get(key, (0.0, 0))
            if now >= ends:
                ends, count = now + window, 0
                if len(self._counts) > 100_000:  # forget finished windows now and then
                    self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
            count += 1
            self._counts[key] = (ends, count)
        return count, max(1, int(ends - now + 0.999))


class RedisStorage:
    """Fixed windows shared by every process, one INCR per hit."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def hit(self, key: str, window: int) -> tuple[int, int]:
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
        return int(count), max(1, int(ttl))


def _storage() -> Storage:
    storage: Storage = current_app.extensions["rate_limit_storage"]
    return storage


def _limit(scope: str) -> tuple[int, int]:
    limits: dict[str, tuple[int, int]] = current_app.config["RATE_LIMITS"]
    return limits[scope]


def hit(scope: str, key: str) -> int | None:
    """Count one hit; the seconds to wait when the budget is spent, else None."""
    if not current_app.config["RATE_LIMIT_ENABLED"]:
        return None
    allowed, window = _limit(scope)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no raw tokens or emails in Redis
    name = f"{current_app.config['RATE_LIMIT_KEY_PREFIX']}{scope}:{digest}"
    try:
        count, seconds_left = _storage().hit(name, window)
    except (OSError, RedisError):
        # Redis away: let requests through rather than lock everyone out (sign-in
        # keeps its lock-out in the database), and say so in the log.
        current_app.logger.warning("rate limit storage unreachable; %s not counted", scope)
        return None
    return seconds_left if count > allowed else None


def refuse(retry_after: int) -> NoReturn:
    g.rate_limit_retry_after = retry_after
    raise TooManyRequests(retry_after=retry_after)


def enforce(scope: str, key: str) -> None:
    """Count one hit and answer 429 when the budget of `scope` for `key` is spent."""
    wait = hit(scope, key)
    if wait is not None:
        refuse(wait)


def by_address() -> str:
    return request.remote_addr or "unknown"


def by_user() -> str:
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return f"address:{by_address()}"


def rate_limited(
    scope: str, key: Callable[[], str] = by_address, methods: tuple[str, ...] = ("POST",)
) -> Callable[[F], F]:
    """Limit a view: each request with one of `methods` counts against `key()`'s budget."""

    def decorate(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                enforce(scope, key())
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


def bearer_token() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def register(app: Flask) -> None:
    app.config.setdefault("RATE_LIMIT_ENABLED", True)
    app.config.setdefault("RATE_LIMIT_KEY_PREFIX", "reviews:rl:")
    app.config["RATE_LIMITS"] = {**DEFAULT_LIMITS, **app.config.get("RATE_LIMITS", {})}
    url = app.config.get("RATE_LIMIT_STORAGE_URL") or app.config.get("REDIS_URL")
    storage: Storage = (
        RedisStorage(url) if url and url.startswith(("redis://", "rediss://")) else MemoryStorage()
    )
    app.extensions["rate_limit_storage"] = storage

    @app.before_request
    def limit_api_tokens() -> None:
        if request.path.startswith("/api/") and (token := bearer_token()):
            enforce("api-token", "token:" + token)

    @app.after_request
    def retry_after_header(response: Response) -> Response:
        wait = g.get("rate_limit_retry_after")
        if wait is not None:
            response.headers["Retry-After"] = str(wait)
        elif response.status_code == 429:  # every 429 says when to come back
            response.headers.setdefault("Retry-After", "60")
        return response
