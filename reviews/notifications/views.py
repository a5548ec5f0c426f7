from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select, update

from reviews import access
from reviews.db import utcnow
from reviews.extensions import db
from reviews.notifications.models import Notification

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@access.signed_in
def outbox() -> Any:
    """Everything Reviews has sent (or would mail) to the signed-in person."""
    messages = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == current_user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(100)
        )
    )
    unread = [m.id for m in messages if m.read_at is None]
    page = render_template("notifications/outbox.html", messages=messages, unread=set(unread))
    if unread:
        db.session.execute(
            update(Notification).where(Notification.id.in_(unread)).values(read_at=utcnow())
        )
    return page
