"""What every page shares: the request's transaction, security headers, error pages
(domain refusals included), health and template helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from reviews import access
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.languages import force_locale, get_locale, gettext, lazy_gettext

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# (title, message) of each status's error page; lazy, so each is read in the page's language
ERROR_TEXT: dict[int, tuple[Any, Any]] = {
    400: (
        lazy_gettext("Bad request"),
        lazy_gettext("The request could not be understood. Go back and try again."),
    ),
    403: (
        lazy_gettext("Not allowed"),
        lazy_gettext("You do not have access to this page. If you think you should, ask HR."),
    ),
    404: (
        lazy_gettext("Not found"),
        lazy_gettext("There is nothing at this address. It may have moved or never existed."),
    ),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page cannot be used that way.")),
    409: (
        lazy_gettext("Conflict"),
        lazy_gettext("Someone else changed this at the same time. Reload and try again."),
    ),
    413: (
        lazy_gettext("Too large"),
        lazy_gettext("That upload is larger than Reviews accepts (5 MB)."),
    ),
    429: (
        lazy_gettext("Too many requests"),
        lazy_gettext("Slow down a little and try again in a minute."),
    ),
    500: (
        lazy_gettext("Something went wrong"),
        lazy_gettext(
            "The error has been logged. Try again; if it keeps happening, tell your administrator."
        ),
    ),
}


def error_page(code: int, title: Any, message: Any) -> str:
    """The app's own error page, in the request's language, with a way back; plain HTML if
    even that cannot render. `title` and `message` may be lazy (ERROR_TEXT's)."""
    try:
        chosen = get_locale()
    except Exception:  # the person's choice could not be read (e.g. the database is down)
        db.session.rollback()
        chosen = None
    locale = str(chosen or current_app.config["LANGUAGE"])
    with force_locale(locale):
        return _error_page(code, str(title), str(message), locale)


def _error_page(code: int, title: str, message: str, locale: str) -> str:
    referrer = request.referrer or ""
    back = referrer if referrer.startswith(request.host_url) and referrer != request.url else None
    # a page refused for its query parameters can be opened without them
    plain = request.path if code == 400 and request.method == "GET" and request.args else None
    try:
        return render_template(
            "errors/error.html", code=code, title=title, message=message, back=back, plain=plain
        )
    except Exception:  # e.g. the database is down: the page's menu cannot be built
        current_app.logger.exception("error page %s could not render", code)
        db.session.rollback()
        return FALLBACK.format(
            lang=escape(locale.replace("_", "-")),
            title=escape(title),
            message=escape(message),
            error=escape(gettext("Error %(code)s", code=code)),
            home=escape(gettext("Go to your home page")),
        )


FALLBACK = (
    '<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} · Reviews'
    '</title><link rel="stylesheet" href="/static/app.css"></head><body><main id="main" '
    'class="page"><section class="error-page"><p class="error-code">{error}</p><h1>{title}</h1>'
    '<p>{message}</p><p><a class="button" href="/">{home}</a></p></section>'
    "</main></body></html>"
)


def keep_when_refused() -> None:
    """Commit this request's writes even though it answers with an error: a failed
    sign-in must count towards throttling. Used for security records only."""
    g.keep_when_refused = True


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the request's transaction is committed (hand a job to a
    worker only when the worker can read it); never if it is rolled back."""
    g.setdefault("after_commit", []).append(callback)


def failure(exc: DomainError, back: str) -> Any:
    """A refused form post on a page: nothing it did is kept, the reason is shown
    on the page it came from (`back`). A reason that needs a lead ("Not declined:
    ...") is one message of its own, so a translation can order it."""
    db.session.rollback()
    g.refused = True
    flash(exc.message, "error")
    return redirect(back)


def register(app: Flask) -> None:
    app.view_functions["static"].access_rule = "public"  # type: ignore[attr-defined]

    @app.after_request
    def end_transaction(response: Response) -> Response:
        """One commit or rollback per request: what a refused or failed request
        wrote is never kept (a redirect after `failure` included)."""
        refused = response.status_code >= 400 or g.get("refused", False)
        if refused and not g.get("keep_when_refused", False):
            db.session.rollback()
            return response
        db.session.commit()
        for callback in g.pop("after_commit", []):
            callback()
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        """A refusal no view turned into a form error: the API's JSON, else the error page."""
        db.session.rollback()
        if request.path.startswith("/api/"):
            from reviews.api.core import error_body

            return error_body(exc)
        title = ERROR_TEXT.get(exc.status, (lazy_gettext("Not possible"), ""))[0]
        return error_page(exc.status, title, exc.message), exc.status

    @app.before_request
    def refuse_nul_bytes() -> None:
        # PostgreSQL cannot store NUL in text, and no person types one: refuse it
        # everywhere up front instead of failing deep inside a query.
        values = [
            *request.args.values(),
            *request.form.values(),
            *(str(v) for v in (request.view_args or {}).values()),
        ]
        if any("\x00" in value for value in values):
            abort(400)

    @app.after_request
    def security_headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["REVIEWS_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # People data must not linger in shared caches or the back button of a kiosk
            # (send_file's own "no-cache" on downloads would still let them be stored).
            h["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        if request.path.startswith("/api/"):
            return jsonify(
                error={
                    "code": "csrf_failed",
                    "message": gettext(
                        "A write with the sign-in cookie needs the page's CSRF token "
                        "in the X-CSRFToken header; scripts should use a bearer token instead."
                    ),
                    "fields": {},
                }
            ), 400
        return error_page(
            400,
            lazy_gettext("Form expired"),
            lazy_gettext(
                "This form was open too long or came from elsewhere. "
                "Reload the page and submit it again."
            ),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        if code >= 500:
            db.session.rollback()
        if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz"):
            return jsonify(
                error={
                    "code": exc.name.lower().replace(" ", "_"),
                    "message": exc.description,
                    "fields": {},
                }
            ), code
        title, message = ERROR_TEXT.get(code, (exc.name, exc.description))
        return error_page(code, title, message), code

    @app.get("/healthz")
    @access.public
    def healthz() -> Any:
        """The database answers and is at the latest migration (503 otherwise)."""
        from reviews.readiness import health

        body, status = health()
        if body["database"] != "ok":
            app.logger.error("health check failed: the database is unreachable")
        return jsonify(body), status

    @app.get("/readyz")
    @access.public
    def readyz() -> Any:
        """Healthy, and Redis answers when background jobs use it (503 otherwise)."""
        from reviews.readiness import readiness

        body, status = readiness(app)
        return jsonify(body), status

    @app.context_processor
    def helpers() -> dict[str, Any]:
        unread = 0
        if current_user.is_authenticated:
            from reviews.notifications.models import Notification

            unread = (
                db.session.scalar(
                    select(func.count()).where(
                        Notification.recipient_id == current_user.id, Notification.read_at.is_(None)
                    )
                )
                or 0
            )
        return {"access": access, "me": current_user, "unread_notifications": unread}

    from reviews.links import url_of

    app.add_template_global(url_of)

    from reviews.framework.wording import say

    # a text HR wrote (the live framework, the catalogue, a plan's item) in the reader's
    # language; a cycle's frozen framework and questions come translated already
    app.add_template_filter(say, "wording")

    @app.template_filter("upto")
    def up_to_the_limit(count: int) -> str:
        """A count made up to COUNT_LIMIT + 1 (reviews.paging): "more than 1,000" above."""
        from reviews.languages import number
        from reviews.paging import COUNT_LIMIT

        if count > COUNT_LIMIT:
            return str(gettext("more than %(n)s", n=number(COUNT_LIMIT)))
        return number(count)

    @app.template_filter("date")
    def format_date(value: Any) -> str:
        if isinstance(value, str):  # ISO dates kept in JSON
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        from reviews.dates import long_date

        return long_date(value) if value else ""
