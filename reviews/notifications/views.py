from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select, update
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from reviews import access
from reviews.db import utcnow
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.languages import gettext, lazy_gettext
from reviews.notifications.dispatch import max_age
from reviews.notifications.kinds import KINDS
from reviews.notifications.models import (
    Channel,
    ChatHook,
    Delivery,
    DeliveryState,
    Notification,
    Preference,
    Timing,
)
from reviews.notifications.operations import Settings, save_settings
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
    hooks = set(
        db.session.scalars(select(ChatHook.channel).where(ChatHook.person_id == current_user.id))
    )
    page = render_template(
        "notifications/outbox.html",
        messages=messages,
        unread=set(unread),
        hooks=hooks,
        mail_on=bool(current_app.config.get("SMTP_HOST")),
    )
    if unread:
        db.session.execute(
            update(Notification).where(Notification.id.in_(unread)).values(read_at=utcnow())
        )
    return page


TIMING_CHOICES = [
    SelectChoice(Timing.IMMEDIATELY.value, lazy_gettext("Right away")),
    SelectChoice(Timing.DAILY.value, lazy_gettext("Daily digest")),
    SelectChoice(Timing.APP_ONLY.value, lazy_gettext("App only")),
]


class SettingsForm(FlaskForm):
    mail = BooleanField(lazy_gettext("Email me"))
    slack_url = StringField(
        lazy_gettext("Slack incoming webhook"),
        validators=[Optional(), Length(max=500)],
        description=lazy_gettext(
            "Create an incoming webhook to a channel or your own DMs in Slack, "
            "and paste its address here. Leave empty to keep the one set."
        ),
    )
    remove_slack = BooleanField(lazy_gettext("Stop sending to Slack"))
    teams_url = StringField(
        lazy_gettext("Microsoft Teams webhook"),
        validators=[Optional(), Length(max=500)],
        description=lazy_gettext(
            "An incoming webhook or a Workflows address of a Teams channel or chat. "
            "Leave empty to keep the one set."
        ),
    )
    remove_teams = BooleanField(lazy_gettext("Stop sending to Teams"))


for _kind in KINDS:
    setattr(
        SettingsForm,
        f"timing_{_kind.key}",
        SelectField(_kind.label, choices=TIMING_CHOICES, default=Timing.IMMEDIATELY.value),
    )


def _settings_page(form: SettingsForm, status: int = 200) -> Any:
    hooks = {
        h.channel: h
        for h in db.session.scalars(select(ChatHook).where(ChatHook.person_id == current_user.id))
    }
    return render_template(
        "notifications/settings.html",
        form=form,
        kinds=KINDS,
        hooks=hooks,
        Channel=Channel,
        mail_on=bool(current_app.config.get("SMTP_HOST")),
        webhook_on=bool(current_app.config.get("WEBHOOK_URL")),
    ), status


@bp.get("/notifications/settings")
@access.signed_in
def settings() -> Any:
    """What the signed-in person gets outside the app, where, and when."""
    form = SettingsForm(mail=current_user.mail_notifications)
    timings = dict(
        db.session.execute(
            select(Preference.kind, Preference.timing).where(
                Preference.person_id == current_user.id
            )
        ).all()
    )
    for kind in KINDS:
        getattr(form, f"timing_{kind.key}").data = timings.get(kind.key, Timing.IMMEDIATELY).value
    return _settings_page(form)


@bp.post("/notifications/settings")
@access.signed_in
def save() -> Any:
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(form, 400)
    hooks: dict[Channel, str | None] = {}
    for channel, url, remove in (
        (Channel.SLACK, form.slack_url.data, form.remove_slack.data),
        (Channel.TEAMS, form.teams_url.data, form.remove_teams.data),
    ):
        hooks[channel] = "" if remove else ((url or "").strip() or None)
    chosen = Settings(
        mail=bool(form.mail.data),
        hooks=hooks,
        timings={k.key: Timing(getattr(form, f"timing_{k.key}").data) for k in KINDS},
    )
    try:
        save_settings(current_user, chosen)
    except Invalid as exc:
        db.session.rollback()
        for name, message in exc.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
        return _settings_page(form, 400)
    flash(gettext("Your notification settings are saved."), "success")
    return redirect(url_for("notifications.settings"))


@bp.get("/notifications/delivery")
@access.hr_only
def delivery() -> Any:
    """HR: how delivery stands, and every message that failed or waits for a retry
    (who, which channel, what kind, why; never the text, which is the recipient's)."""
    counts = dict(
        db.session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
    )
    # Not yet dispatched, and young enough still to be sent when a channel is there.
    waiting_dispatch = (
        db.session.scalar(
            select(func.count()).where(
                Notification.dispatched_at.is_(None),
                Notification.created_at >= utcnow() - max_age(),
            )
        )
        or 0
    )
    troubled = db.session.execute(
        select(Delivery, Notification.kind, Person.name, Person.email)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Person, Person.id == Delivery.recipient_id)
        .where(Delivery.state.in_([DeliveryState.FAILED, DeliveryState.RETRY]))
        .order_by(Delivery.id.desc())
        .limit(100)
    ).all()
    return render_template(
        "notifications/delivery.html",
        counts={state: counts.get(state, 0) for state in DeliveryState},
        waiting_dispatch=waiting_dispatch,
        troubled=troubled,
        mail_on=bool(current_app.config.get("SMTP_HOST")),
    )
