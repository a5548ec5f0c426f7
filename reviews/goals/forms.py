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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from reviews.feedback.forms import MultiCheckboxField
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
    version = HiddenField()
    seed = HiddenField()
    title = StringField("Goal", validators=[DataRequired("Name the goal."), Length(max=200)])
    outcome = TextAreaField(
        "Measurable outcome",
        validators=[DataRequired("Say how you will know it is reached."), Length(max=4000)],
        description="What will be true when the goal is reached, in terms someone can check.",
    )
    competencies = MultiCheckboxField("Competencies it grows", validators=[Optional()])
    period_start = DateField("Period starts", validators=[DataRequired("Enter a date.")])
    period_end = DateField("Period ends", validators=[DataRequired("Enter a date.")])
    due_date = DateField("Due", validators=[DataRequired("Enter a date.")])
    status = SelectField(
        "Status",
        choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default=GoalStatus.NOT_STARTED.value,
    )
    progress = IntegerField(
        "Progress (%)",
        default=0,
        validators=[InputRequired("Enter a number from 0 to 100."), NumberRange(0, 100)],
    )
    checkin_every_days = IntegerField(
        "Check in every (days)",
        default=14,
        validators=[InputRequired("Enter a number of days."), NumberRange(1, 365)],
        description="You get a reminder when a check-in is due.",
    )

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        start, end, due = self.period_start.data, self.period_end.data, self.due_date.data
        if start and end and start > end:
            self.period_end.errors = [*self.period_end.errors, "The period ends after it starts."]
            ok = False
        if start and end and due and not start <= due <= end:
            self.due_date.errors = [*self.due_date.errors, "The due date falls within the period."]
            ok = False
        return ok


class CheckInForm(FlaskForm):
    # Explicit ids: the goal page also holds the edit form, with its own `progress`.
    note = TextAreaField(
        "Progress note",
        id="checkin-note",
        validators=[DataRequired("Write what moved since the last check-in."), Length(max=4000)],
    )
    confidence = RadioField(
        "How confident are you of reaching the goal?",
        id="checkin-confidence",
        choices=[SelectChoice(str(k), v) for k, v in CONFIDENCE_LABELS.items()],
        validators=[DataRequired("Choose how confident you are.")],
    )
    progress = IntegerField(
        "Progress now (%)",
        id="checkin-progress",
        validators=[InputRequired("Enter a number from 0 to 100."), NumberRange(0, 100)],
    )


class CommentForm(FlaskForm):
    checkin_id = HiddenField()
    body = TextAreaField("Comment", validators=[DataRequired("Write a comment."), Length(max=4000)])
