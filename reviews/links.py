"""Where a message or a task points, named by the domain, turned into a URL at the edge.

Operations and queries name a page as `Link("cycles.review", review_id)`: an
endpoint and the one id its route takes. They never build URLs, so they run the
same in a request, a CLI command or a job. The edge (a template, the outbox,
the mailer) calls `url_of`: `url_for` inside a request, else the URL map bound
to PUBLIC_URL, so a mailed link is absolute exactly once.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


class Link(NamedTuple):
    endpoint: str
    id: int | None = None


def _argument(endpoint: str) -> str | None:
    """The id argument of the endpoint's route (routes that notifications and tasks
    point to take one id, or none)."""
    rules = current_app.url_map._rules_by_endpoint.get(endpoint)
    if not rules:
        raise LookupError(f"no route for {endpoint!r}")
    arguments = sorted(rules[0].arguments)
    return arguments[0] if arguments else None


def url_of(link: Link, *, external: bool = False) -> str:
    name = _argument(link.endpoint)
    values: dict[str, Any] = {name: link.id} if name and link.id is not None else {}
    if has_request_context():
        return url_for(link.endpoint, _external=external, **values)
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(link.endpoint, values, force_external=external)


def link_for_path(path: str) -> Link | None:
    """The Link a stored path or URL points to (upgrading links kept as text)."""
    parts = urlsplit(path)
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, values = adapter.match(parts.path or "/", method="GET")
    except Exception:
        return None
    ids = [v for v in values.values() if isinstance(v, int)]
    return Link(str(endpoint), ids[0] if ids else None)
