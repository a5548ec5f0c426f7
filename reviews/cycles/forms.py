from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)

from reviews.cycles.inputs import DEFAULTS, MAX_GUIDANCE_TOLERANCE, MIN_ANONYMITY_THRESHOLD
from reviews.cycles.models import ParticipantMode
from reviews.formfields import MultiCheckboxField
from reviews.people.forms import PEOPLE_PICKER


class CycleForm(FlaskForm):
    """Renders the cycle's settings; `cycles.inputs.parse_cycle` decides what is valid
    (the same parser as the API), and its errors are put beside these fields."""

    version = HiddenField()
    name = StringField(
        "Name",
        render_kw={"required": True, "maxlength": 120},
        description="For example “2026 H2 performance review”.",
    )
    period_start = DateField("Period starts", render_kw={"required": True})
    period_end = DateField("Period ends", render_kw={"required": True})
    participant_mode = RadioField(
        "Who takes part",
        choices=[
            SelectChoice(ParticipantMode.ALL.value, "Everyone active in the org"),
            SelectChoice(ParticipantMode.DEPARTMENTS.value, "Chosen departments"),
            SelectChoice(ParticipantMode.LIST.value, "A list of people"),
        ],
        default=ParticipantMode.ALL.value,
        validate_choice=False,
    )
    department_ids = MultiCheckboxField("Departments", coerce=int, validate_choice=False)
    participant_emails = TextAreaField(
        "People (one per line: a full name or an email)",
        render_kw={"data-people-list": "", "rows": 6},
    )
    self_review_due = DateField("Self-review and nominations due")
    peer_feedback_due = DateField("Peer feedback due")
    manager_review_due = DateField("Manager reviews due")
    calibration_due = DateField("Calibration due")
    peer_min = IntegerField("Minimum peers", default=DEFAULTS["peer_min"])
    peer_max = IntegerField("Maximum peers", default=DEFAULTS["peer_max"])
    peer_anonymous = BooleanField(
        "Peer feedback is anonymous to the person reviewed", default=DEFAULTS["peer_anonymous"]
    )
    anonymity_threshold = IntegerField(
        "Anonymity threshold",
        default=DEFAULTS["anonymity_threshold"],
        description=f"Peer feedback is shown to the person only when at least this many peers "
        f"responded (at least {MIN_ANONYMITY_THRESHOLD} when feedback is anonymous).",
    )
    peer_names_to_managers = BooleanField(
        "Managers and HR see who wrote each peer feedback",
        default=DEFAULTS["peer_names_to_managers"],
        description="When not ticked, managers and HR read peer feedback without names too, "
        "all at once when the peer-feedback phase ends.",
    )
    reviewer_load_cap = IntegerField(
        "Requests per reviewer before warning", default=DEFAULTS["reviewer_load_cap"]
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
        render_kw={"maxlength": 40},
        description="Share of final ratings 1 to 5 expected in calibration, e.g. 5/20/50/20/5.",
    )
    guidance_tolerance = IntegerField(
        "Tolerance around the guidance (± points)",
        default=DEFAULTS["guidance_tolerance"],
        render_kw={"min": 0, "max": MAX_GUIDANCE_TOLERANCE},
        description="Calibration flags a rating whose share of people is more than this many "
        f"percentage points above or below its guidance share (0 to {MAX_GUIDANCE_TOLERANCE}).",
    )

    self_template = SelectField("Self-review questions", choices=[], validate_choice=False)
    peer_template = SelectField("Peer feedback questions", choices=[], validate_choice=False)
    manager_template = SelectField("Manager review questions", choices=[], validate_choice=False)
    upward_template = SelectField("Upward feedback questions", choices=[], validate_choice=False)


class DeclineForm(FlaskForm):
    """Renders the decline form; `cycles.inputs.parse_decline` decides."""

    reason = TextAreaField("Why you decline", render_kw={"required": True, "maxlength": 1000})


class NominateForm(FlaskForm):
    """Renders the nomination form; `cycles.inputs.parse_nomination` decides."""

    email = StringField("Colleague", render_kw=PEOPLE_PICKER)
