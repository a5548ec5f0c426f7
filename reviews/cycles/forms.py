from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from reviews.cycles.models import ParticipantMode


class CycleForm(FlaskForm):
    version = HiddenField()
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=120)],
        description="For example “2026 H2 performance review”.",
    )
    period_start = DateField("Period starts", validators=[DataRequired("Enter a date.")])
    period_end = DateField("Period ends", validators=[DataRequired("Enter a date.")])
    participant_mode = RadioField(
        "Who takes part",
        choices=[
            SelectChoice(ParticipantMode.ALL.value, "Everyone active in the org"),
            SelectChoice(ParticipantMode.DEPARTMENTS.value, "Chosen departments"),
            SelectChoice(ParticipantMode.LIST.value, "A list of people"),
        ],
        default=ParticipantMode.ALL.value,
    )
    department_ids = SelectMultipleField("Departments", coerce=int, validators=[Optional()])
    participant_emails = TextAreaField(
        "People (one email per line)", validators=[Optional(), Length(max=200_000)]
    )
    self_review_due = DateField("Self-review and nominations due", validators=[Optional()])
    peer_feedback_due = DateField("Peer feedback due", validators=[Optional()])
    manager_review_due = DateField("Manager reviews due", validators=[Optional()])
    calibration_due = DateField("Calibration due", validators=[Optional()])
    peer_min = IntegerField(
        "Minimum peers",
        default=2,
        validators=[InputRequired("Enter a number."), NumberRange(0, 20)],
    )
    peer_max = IntegerField(
        "Maximum peers",
        default=5,
        validators=[InputRequired("Enter a number."), NumberRange(1, 20)],
    )
    peer_anonymous = BooleanField("Peer feedback is anonymous to the person reviewed", default=True)
    anonymity_threshold = IntegerField(
        "Anonymity threshold",
        default=3,
        validators=[InputRequired("Enter a number."), NumberRange(1, 20)],
        description="Peer feedback is shown to the person only when at least this many peers "
        "responded.",
    )
    peer_names_to_managers = BooleanField(
        "Managers and HR see who wrote each peer feedback", default=True
    )
    reviewer_load_cap = IntegerField(
        "Requests per reviewer before warning",
        default=5,
        validators=[InputRequired("Enter a number."), NumberRange(1, 50)],
    )
    upward_feedback = BooleanField(
        "Direct reports give their manager anonymous upward feedback",
        default=False,
        description="On People Management, Coaching and Mentorship, Communication and "
        "Listening and Emotional Intelligence; shown to managers in aggregate only, from the "
        "anonymity threshold up.",
    )
    guidance = StringField(
        "Guidance distribution (%)",
        default="5/20/50/20/5",
        validators=[DataRequired(), Length(max=40)],
        description="Share of final ratings 1 to 5 expected in calibration, e.g. 5/20/50/20/5.",
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why you decline", validators=[DataRequired("Say briefly why."), Length(max=1000)]
    )


class NominateForm(FlaskForm):
    email = StringField(
        "Colleague's email", validators=[DataRequired("Enter an email."), Length(max=254)]
    )
