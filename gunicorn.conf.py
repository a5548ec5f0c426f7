"""gunicorn settings for `make serve`; each one can be overridden from the environment.

PORT (default 8000) and BIND choose where it listens; WEB_CONCURRENCY the number
of worker processes (default: 2 x CPU cores + 1, gunicorn's own advice, on
PostgreSQL; 2 on SQLite).
"""

import multiprocessing
import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# On SQLite page views read side by side and only writes queue for its one
# write lock (reviews/db.py, STACK-NOTES): two workers there, the setting the
# benchmark measures; many on PostgreSQL.
_sqlite = not os.environ.get("DATABASE_URL", "").startswith("postgres")
workers = int(
    os.environ.get("WEB_CONCURRENCY") or (2 if _sqlite else multiprocessing.cpu_count() * 2 + 1)
)
worker_class = "sync"
# PDF pages and exports can take a while on a busy machine; bulk work goes to the job worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
# Restart workers now and then so a slow leak (WeasyPrint grows per document) stays bounded.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Forwarded headers are trusted by the app alone (ProxyFix, TRUSTED_PROXIES), never by gunicorn.
secure_scheme_headers: dict[str, str] = {}


def on_starting(server: object) -> None:
    """Refuse in the master, before any worker forks: a missing, short or placeholder
    SECRET_KEY, debug mode, or a database behind the latest migration stops gunicorn
    with one line (a worker that failed to boot would be started again and again)."""
    import sys

    from reviews import create_app
    from reviews.config import ConfigError
    from reviews.readiness import refuse_to_serve

    try:
        refuse_to_serve(create_app())
    except ConfigError as exc:
        print(f"Reviews cannot start: {exc}", file=sys.stderr)
        sys.exit(1)
