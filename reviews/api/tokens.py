"""Token pages for people: list, create (shown once), revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from reviews import access
from reviews.api.models import ApiToken
from reviews.api.operations import create_token, revoke_token
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.languages import gettext
from reviews.web import failure

bp = Blueprint("tokens", __name__)


@bp.route("/account/tokens", methods=["GET", "POST"])
@access.signed_in
def tokens() -> Any:
    secret = None
    error = None
    if request.method == "POST":
        try:
            _token, secret = create_token(
                current_user, current_user, request.form.get("name", "")[:200]
            )
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    rows = list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.person_id == current_user.id)
            .order_by(ApiToken.created_at.desc())
        )
    )
    return render_template("api/tokens.html", tokens=rows, secret=secret, error=error), (
        400 if error else 200
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@access.signed_in
def revoke(token_id: int) -> Any:
    token = db.get_or_404(ApiToken, token_id)
    if token.person_id != current_user.id:
        abort(403)
    try:
        revoke_token(current_user, token)
    except DomainError as exc:
        return failure(exc, url_for("tokens.tokens"))
    flash(gettext("The token %(prefix)s… is revoked.", prefix=token.prefix), "success")
    return redirect(url_for("tokens.tokens"))


@bp.get("/developers/api")
@access.signed_in
def reference() -> Any:
    """The API reference for people, rendered from the same OpenAPI document."""
    from reviews.api.core import build_openapi

    spec = build_openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, methods in spec["paths"].items():
        group = path.strip("/").split("/")[0]
        for method, op in methods.items():
            groups.setdefault(group, []).append({"path": path, "method": method.upper(), **op})
    return render_template(
        "api/reference.html",
        spec=spec,
        groups=sorted(groups.items()),
        statuses=spec["components"]["responses"],
    )
