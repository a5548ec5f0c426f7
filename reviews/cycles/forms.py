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
from reviews.languages import lazy_gettext
from reviews.people.forms import PEOPLE_PICKER


class CycleForm(FlaskForm):
    """Renders the cycle's settings; `cycles.inputs.parse_cycle` decides what is valid
    (the same parser as the API), and its errors are put beside these fields."""

    version = HiddenField()
    name = StringField(
        lazy_gettext("Name"),
        render_kw={"required": True, "maxlength": 120},
        description=lazy_gettext("For example “2026 H2 performance review”."),
    )
    period_start = DateField(lazy_gettext("Period starts"), render_kw={"required": True})
    period_end = DateField(lazy_gettext("Period ends"), render_kw={"required": True})
    participant_mode = RadioField(
        lazy_gettext("Who takes part"),
        choices=[
            SelectChoice(ParticipantMode.ALL.value, lazy_gettext("Everyone active in the org")),
            SelectChoice(ParticipantMode.DEPARTMENTS.value, lazy_gettext("Chosen departments")),
            SelectChoice(ParticipantMode.LIST.value, lazy_gettext("A list of people")),
        ],
        default=ParticipantMode.ALL.value,
        validate_choice=False,
    )
    department_ids = MultiCheckboxField(
        lazy_gettext("Departments"), coerce=int, validate_choice=False
    )
    participant_emails = TextAreaField(
        lazy_gettext("People (one per line: a full name or an email)"),
        render_kw={"data-people-list": "", "rows": 6},
    )
    self_review_due = DateField(lazy_gettext("Self-review and nominations due"))
    peer_feedback_due = DateField(lazy_gettext("Peer feedback due"))
    manager_review_due = DateField(lazy_gettext("Manager reviews due"))
    calibration_due = DateField(lazy_gettext("Calibration due"))
    peer_min = IntegerField(lazy_gettext("Minimum peers"), default=DEFAULTS["peer_min"])
    peer_max = IntegerField(lazy_gettext("Maximum peers"), default=DEFAULTS["peer_max"])
    peer_anonymous = BooleanField(
        lazy_gettext("Peer feedback is anonymous to the person reviewed"),
        default=DEFAULTS["peer_anonymous"],
    )
    anonymity_threshold = IntegerField(
        lazy_gettext("Anonymity threshold"),
        default=DEFAULTS["anonymity_threshold"],
        description=lazy_gettext(
            "Peer feedback is shown to the person only when at least this many peers "
            "responded (at least %(min)d when feedback is anonymous).",
            min=MIN_ANONYMITY_THRESHOLD,
        ),
    )
    peer_names_to_managers = BooleanField(
        lazy_gettext("Managers and HR see who wrote each peer feedback"),
        default=DEFAULTS["peer_names_to_managers"],
        description=lazy_gettext(
            "When not ticked, managers and HR read peer feedback without names too, "
            "all at once when the peer-feedback phase ends."
        ),
    )
    reviewer_load_cap = IntegerField(
        lazy_gettext("Requests per reviewer before warning"), default=DEFAULTS["reviewer_load_cap"]
    )
    upward_feedback = BooleanField(
        lazy_gettext("Direct reports give their manager anonymous upward feedback"),
        default=False,
        description=lazy_gettext(
            "On People Management, Coaching and Mentorship, Communication and "
            "Listening and Emotional Intelligence; shown to managers in aggregate only, from the "
            "anonymity threshold up."
        ),
    )
    guidance = StringField(
        lazy_gettext("Guidance distribution (%)"),
        default="5/20/50/20/5",
        render_kw={"maxlength": 40},
        description=lazy_gettext(
            "Share of final ratings 1 to 5 expected in calibration, e.g. 5/20/50/20/5."
        ),
    )
    guidance_tolerance = IntegerField(
        lazy_gettext("Tolerance around the guidance (± points)"),
        default=DEFAULTS["guidance_tolerance"],
        render_kw={"min": 0, "max": MAX_GUIDANCE_TOLERANCE},
        description=lazy_gettext(
            "Calibration flags a rating whose share of people is more than this many "
            "percentage points above or below its guidance share (0 to %(max)d).",
            max=MAX_GUIDANCE_TOLERANCE,
        ),
    )

    self_template = SelectField(
        lazy_gettext("Self-review questions"), choices=[], validate_choice=False
    )
    peer_template = SelectField(
        lazy_gettext("Peer feedback questions"), choices=[], validate_choice=False
    )
    manager_template = SelectField(
        lazy_gettext("Manager review questions"), choices=[], validate_choice=False
    )
    upward_template = SelectField(
        lazy_gettext("Upward feedback questions"), choices=[], validate_choice=False
    )


class DeclineForm(FlaskForm):
    """Renders the decline form; `cycles.inputs.parse_decline` decides."""

    reason = TextAreaField(
        lazy_gettext("Why you decline"), render_kw={"required": True, "maxlength": 1000}
    )


class NominateForm(FlaskForm):
    """Renders the nomination form; `cycles.inputs.parse_nomination` decides."""

    email = StringField(lazy_gettext("Colleague"), render_kw=PEOPLE_PICKER)
