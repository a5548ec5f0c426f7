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

STATUS_LABELS = {
    GoalStatus.NOT_STARTED.value: "Not started",
    GoalStatus.ON_TRACK.value: "On track",
    GoalStatus.AT_RISK.value: "At risk",
    GoalStatus.DONE.value: "Done",
    GoalStatus.DROPPED.value: "Dropped",
}
CONFIDENCE_LABELS = {
    1: "1: very unlikely",
    2: "2: unlikely",
    3: "3: could go either way",
    4: "4: likely",
    5: "5: certain",
}


class GoalForm(FlaskForm):
    """Renders a goal; `goals.inputs.parse_goal` decides what is valid."""

    version = HiddenField()
    seed = HiddenField()
    title = StringField("Goal", render_kw={"required": True, "maxlength": 200})
    outcome = TextAreaField(
        "Measurable outcome",
        render_kw={"required": True, "maxlength": 4000},
        description="What will be true when the goal is reached, in terms someone can check.",
    )
    competencies = MultiCheckboxField("Competencies it grows", validate_choice=False)
    period_start = DateField("Period starts", render_kw={"required": True})
    period_end = DateField("Period ends", render_kw={"required": True})
    due_date = DateField("Due", render_kw={"required": True})
    status = SelectField(
        "Status",
        choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default=GoalStatus.NOT_STARTED.value,
        validate_choice=False,
    )
    progress = IntegerField("Progress (%)", default=0, render_kw={"min": 0, "max": 100})
    checkin_every_days = IntegerField(
        "Check in every (days)",
        default=14,
        render_kw={"min": 1, "max": 365},
        description="You get a reminder when a check-in is due.",
    )


class CheckInForm(FlaskForm):
    """Renders a check-in; `goals.inputs.parse_checkin` decides."""

    # Explicit ids: the goal page also holds the edit form, with its own `progress`.
    note = TextAreaField(
        "Progress note", id="checkin-note", render_kw={"required": True, "maxlength": 4000}
    )
    confidence = RadioField(
        "How confident are you of reaching the goal?",
        id="checkin-confidence",
        choices=[SelectChoice(str(k), v) for k, v in CONFIDENCE_LABELS.items()],
        validate_choice=False,
    )
    progress = IntegerField(
        "Progress now (%)", id="checkin-progress", render_kw={"min": 0, "max": 100}
    )


class CommentForm(FlaskForm):
    """Renders a comment; `goals.inputs.parse_comment` decides."""

    checkin_id = HiddenField()
    body = TextAreaField("Comment", render_kw={"required": True, "maxlength": 4000})
