from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select, update
from wtforms import BooleanField

from reviews import access
from reviews.db import utcnow
from reviews.extensions import db
from reviews.notifications.models import MailState, Notification
from reviews.notifications.operations import set_mail_notifications
from reviews.people.models import Person

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
    form = MailForm(mail=current_user.mail_notifications)
    page = render_template(
        "notifications/outbox.html",
        messages=messages,
        unread=set(unread),
        form=form,
        mail_on=bool(current_app.config.get("SMTP_HOST")),
    )
    if unread:
        db.session.execute(
            update(Notification).where(Notification.id.in_(unread)).values(read_at=utcnow())
        )
    return page


class MailForm(FlaskForm):
    mail = BooleanField("Email me my notifications too")


@bp.post("/notifications/mail")
@access.signed_in
def mail_setting() -> Any:
    """The person's choice: notifications mailed as well, or kept in the app only."""
    form = MailForm()
    if not form.validate_on_submit():
        abort(400)
    set_mail_notifications(current_user, bool(form.mail.data))
    flash(
        "Your notifications will be mailed to you too."
        if form.mail.data
        else "Your notifications stay in the app; none will be mailed to you.",
        "success",
    )
    return redirect(url_for("notifications.outbox") + "#mail")


@bp.get("/notifications/delivery")
@access.hr_only
def delivery() -> Any:
    """HR: how mail delivery stands, and every message that failed or waits for a retry
    (who, what kind, why; never the text, which is the recipient's)."""
    counts = dict(
        db.session.execute(
            select(Notification.mail_state, func.count()).group_by(Notification.mail_state)
        ).all()
    )
    troubled = db.session.execute(
        select(Notification, Person.name, Person.email)
        .join(Person, Person.id == Notification.recipient_id)
        .where(Notification.mail_state.in_([MailState.FAILED, MailState.RETRY]))
        .order_by(Notification.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "notifications/delivery.html",
        counts={state: counts.get(state, 0) for state in MailState},
        troubled=troubled,
        mail_on=bool(current_app.config.get("SMTP_HOST")),
    )
