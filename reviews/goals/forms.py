from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from reviews.formfields import MultiCheckboxField
from reviews.goals.models import GoalStatus
from reviews.languages import lazy_gettext

STATUS_LABELS = {
    GoalStatus.NOT_STARTED.value: lazy_gettext("Not started"),
    GoalStatus.ON_TRACK.value: lazy_gettext("On track"),
    GoalStatus.AT_RISK.value: lazy_gettext("At risk"),
    GoalStatus.DONE.value: lazy_gettext("Done"),
    GoalStatus.DROPPED.value: lazy_gettext("Dropped"),
}
CONFIDENCE_LABELS = {
    1: lazy_gettext("1: very unlikely"),
    2: lazy_gettext("2: unlikely"),
    3: lazy_gettext("3: could go either way"),
    4: lazy_gettext("4: likely"),
    5: lazy_gettext("5: certain"),
}


class GoalForm(FlaskForm):
    """Renders a goal; `goals.inputs.parse_goal` decides what is valid."""

    version = HiddenField()
    seed = HiddenField()
    title = StringField(lazy_gettext("Goal"), render_kw={"required": True, "maxlength": 200})
    outcome = TextAreaField(
        lazy_gettext("Measurable outcome"),
        render_kw={"required": True, "maxlength": 4000},
        description=lazy_gettext(
            "What will be true when the goal is reached, in terms someone can check."
        ),
    )
    competencies = MultiCheckboxField(lazy_gettext("Competencies it grows"), validate_choice=False)
    period_start = DateField(lazy_gettext("Period starts"), render_kw={"required": True})
    period_end = DateField(lazy_gettext("Period ends"), render_kw={"required": True})
    due_date = DateField(lazy_gettext("Due"), render_kw={"required": True})
    status = SelectField(
        lazy_gettext("Status"),
        choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default=GoalStatus.NOT_STARTED.value,
        validate_choice=False,
    )
    progress = IntegerField(
        lazy_gettext("Progress (%)"), default=0, render_kw={"min": 0, "max": 100}
    )
    checkin_every_days = IntegerField(
        lazy_gettext("Check in every (days)"),
        default=14,
        render_kw={"min": 1, "max": 365},
        description=lazy_gettext("You get a reminder when a check-in is due."),
    )


class CheckInForm(FlaskForm):
    """Renders a check-in; `goals.inputs.parse_checkin` decides."""

    # Explicit ids: the goal page also holds the edit form, with its own `progress`.
    note = TextAreaField(
        lazy_gettext("Progress note"),
        id="checkin-note",
        render_kw={"required": True, "maxlength": 4000},
    )
    confidence = RadioField(
        lazy_gettext("How confident are you of reaching the goal?"),
        id="checkin-confidence",
        choices=[SelectChoice(str(k), v) for k, v in CONFIDENCE_LABELS.items()],
        validate_choice=False,
    )
    progress = IntegerField(
        lazy_gettext("Progress now (%)"), id="checkin-progress", render_kw={"min": 0, "max": 100}
    )


class CommentForm(FlaskForm):
    """Renders a comment; `goals.inputs.parse_comment` decides."""

    checkin_id = HiddenField()
    body = TextAreaField(lazy_gettext("Comment"), render_kw={"required": True, "maxlength": 4000})
