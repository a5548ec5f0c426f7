"""Configuration: defaults here, then instance/config.py, then the environment.

REVIEWS_ENV chooses the profile: ``development`` (default, what ``make run``
uses), ``production`` or ``testing``.  Outside development a missing
SECRET_KEY, a short or placeholder one, or debug mode stops start-up.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is one line for the operator."""


def normalise_database_url(url: str) -> str:
    """Let people paste the URLs their hosting gives them; we speak psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _development_secret(instance_path: Path) -> str:
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _count(name: str, default: str) -> int:
    raw = os.environ.get(name, default)
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {raw!r}")
    return int(raw)


def _positive(name: str, default: str) -> int:
    raw = os.environ.get(name, default)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)


def _seconds(name: str, default: str) -> float:
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise ConfigError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def _hours(name: str, default: str) -> int:
    value = _count(name, default)
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more hours, not {value}")
    return value


def _hour(raw: str) -> int:
    if not raw.isdigit() or int(raw) > 23:
        raise ConfigError(f"DIGEST_HOUR must be an hour from 0 to 23, not {raw!r}")
    return int(raw)


def _page_cost(raw: str) -> str:
    if raw == "":
        return raw
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1000:
        raise ConfigError(f"PG_RANDOM_PAGE_COST must be a number above 0, or empty, not {raw!r}")
    return str(value)


# What people paste from tutorials and templates; any key containing one is refused.
PLACEHOLDER_SECRETS = (
    "changeme",
    "change-me",
    "change_me",
    "change-this",
    "replace-me",
    "placeholder",
    "your-secret",
    "secret-key",
    "secretkey",
    "notsecret",
    "not-secret",
    "example",
    "password",
)
MIN_SECRET_BYTES = 32
_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"


def check_production_secret(secret: str) -> None:
    """Sessions, CSRF tokens and password links are signed with SECRET_KEY: in production
    it must be long and random, not a word from a template."""
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDER_SECRETS):
        raise ConfigError(f"SECRET_KEY looks like a placeholder; {_GENERATE}")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"SECRET_KEY is {len(secret.encode())} bytes; production needs at least "
            f"{MIN_SECRET_BYTES}: {_GENERATE}"
        )
    if len(set(secret)) < 8:
        raise ConfigError(f"SECRET_KEY repeats a few characters, it is not random; {_GENERATE}")


def build_config(instance_path: Path, overrides: dict[str, Any] | None) -> dict[str, Any]:
    overrides = overrides or {}
    env = overrides.get("REVIEWS_ENV") or os.environ.get("REVIEWS_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"REVIEWS_ENV must be development, production or testing, not {env!r}")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'reviews.db'}"
    config: dict[str, Any] = {
        "REVIEWS_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # The cookie is written only when the session changes: a background call
        # (autosave, the coach) answering after a form's redirect must not put
        # back the session as it was before, losing that redirect's message.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        "LOGIN_MAX_FAILURES_PER_IP": 50,
        "PASSWORD_LINK_HOURS": 72,
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Reverse proxies in front of Reviews whose X-Forwarded-* headers are believed
        # (0: none, so a client cannot pick the address the sign-in throttle sees).
        "TRUSTED_PROXIES": _count("TRUSTED_PROXIES", "0"),
        # PostgreSQL's planner cost of a random page read, set on each connection
        # (docs/admin.md); empty leaves the server's own setting.
        "PG_RANDOM_PAGE_COST": _page_cost(os.environ.get("PG_RANDOM_PAGE_COST", "1.1")),
        # Background jobs: RQ on Redis when REDIS_URL is set, else a thread in this process.
        "REDIS_URL": os.environ.get("REDIS_URL"),
        "JOBS_QUEUE": os.environ.get("JOBS_QUEUE", "reviews"),
        "PDF_WORKERS": _positive("PDF_WORKERS", "2"),
        # A bulk ZIP is split into shards of this many plans, each a job any worker takes;
        # parts and archives go to EXPORTS_DIR (default instance/exports), which every
        # host running workers must share.
        "JOB_SHARD_SIZE": _positive("JOB_SHARD_SIZE", "250"),
        "EXPORTS_DIR": os.environ.get("EXPORTS_DIR") or None,
        "JOBS_INLINE": False,
        # A running job writes a heartbeat this often; silent for 4.5 beats, it is failed.
        "JOB_HEARTBEAT_SECONDS": _seconds("JOB_HEARTBEAT_SECONDS", "10"),
        # How often `flask worker` looks for scheduled work due (reviews/schedule.py).
        "SCHEDULE_TICK_SECONDS": _seconds("SCHEDULE_TICK_SECONDS", "15"),
        # Mail: without SMTP_HOST notifications stay in the in-app outbox.
        "SMTP_HOST": os.environ.get("SMTP_HOST"),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": os.environ.get("SMTP_STARTTLS", "1") != "0",
        "MAIL_FROM": os.environ.get("MAIL_FROM", "reviews@localhost"),
        # A message that waited longer for a mail server stays in the app only.
        "MAIL_MAX_AGE_HOURS": _hours("MAIL_MAX_AGE_HOURS", "72"),
        # Temporary failures (4xx, dropped connections) before a message is failed.
        "MAIL_MAX_ATTEMPTS": _count("MAIL_MAX_ATTEMPTS", "8"),
        # The hour (UTC) daily digests go out.
        "DIGEST_HOUR": _hour(os.environ.get("DIGEST_HOUR", "8")),
        # Where people may point their Slack and Teams webhooks (comma-separated host
        # patterns): the vendors' own, plus e.g. a Mattermost server for Slack-style hooks.
        "SLACK_WEBHOOK_HOSTS": os.environ.get("SLACK_WEBHOOK_HOSTS", "hooks.slack.com"),
        "TEAMS_WEBHOOK_HOSTS": os.environ.get(
            "TEAMS_WEBHOOK_HOSTS", "*.webhook.office.com,*.logic.azure.com,*.powerplatform.com"
        ),
        # The company's own endpoint for every notification, signed with WEBHOOK_SECRET.
        "WEBHOOK_URL": os.environ.get("WEBHOOK_URL"),
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET"),
        # Single sign-on (reviews/identity/settings.py, docs/admin.md): the providers, as
        # JSON here or a list in instance/config.py; with SSO_ONLY on, passwords work only
        # for the break-glass accounts (emails, comma-separated).
        "SSO_PROVIDERS": os.environ.get("SSO_PROVIDERS", ""),
        "SSO_ONLY": os.environ.get("SSO_ONLY", "0") not in ("", "0", "false", "no"),
        "SSO_BREAK_GLASS": os.environ.get("SSO_BREAK_GLASS", ""),
        # Languages (reviews/languages.py): those offered (comma-separated; every compiled
        # catalog unless set), the default for people whose browser matches none, and the
        # pseudo-locale that shows unmarked text (on in the tests).
        "LANGUAGES": os.environ.get("REVIEWS_LANGUAGES", ""),
        "LANGUAGE": os.environ.get("REVIEWS_LANGUAGE", "en"),
        "PSEUDO_LOCALE": os.environ.get("REVIEWS_PSEUDO_LOCALE", "1" if env == "testing" else "0")
        not in ("", "0", "false", "no"),
    }
    if env == "testing":
        config["TESTING"] = True
    config_file = instance_path / "config.py"
    if config_file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(config_file.read_text(), str(config_file), "exec"), namespace)  # noqa: S102  # operator's own file
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    secret = os.environ.get("SECRET_KEY") or overrides.get("SECRET_KEY") or config.get("SECRET_KEY")
    if not secret:
        if env == "production":
            raise ConfigError(
                "SECRET_KEY is not set: set it in the environment to start Reviews in production"
            )
        secret = _development_secret(instance_path)
    elif env == "production":
        check_production_secret(secret)
    if bool(config.get("WEBHOOK_URL")) != bool(config.get("WEBHOOK_SECRET")):
        raise ConfigError("WEBHOOK_URL and WEBHOOK_SECRET go together: set both, or neither")
    config["SECRET_KEY"] = secret
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    _identity_settings(config)
    _language_settings(config)
    return config


def _language_settings(config: dict[str, Any]) -> None:
    from reviews.languages import check_languages

    wanted = config["LANGUAGES"]
    if isinstance(wanted, str):
        wanted = [c for c in wanted.split(",") if c.strip()]
    try:
        config["LANGUAGES"], config["LANGUAGE"] = check_languages(
            wanted, config["LANGUAGE"], bool(config["PSEUDO_LOCALE"])
        )
    except ValueError as exc:
        raise ConfigError(f"REVIEWS_LANGUAGES / REVIEWS_LANGUAGE: {exc}") from None


def _identity_settings(config: dict[str, Any]) -> None:
    """Parse the single sign-on settings once: SSO_PROVIDER_MAP holds them by name."""
    from reviews.identity.settings import SettingsError, parse_emails, parse_providers

    try:
        config["SSO_PROVIDER_MAP"] = parse_providers(config.get("SSO_PROVIDERS"))
        config["SSO_BREAK_GLASS"] = parse_emails(config.get("SSO_BREAK_GLASS"), "SSO_BREAK_GLASS")
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    if config.get("SSO_ONLY") and not config["SSO_PROVIDER_MAP"]:
        raise ConfigError("SSO_ONLY is on but SSO_PROVIDERS names no provider to sign in with")
