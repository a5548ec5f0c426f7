from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField, TextAreaField

from reviews.feedback.inputs import MAX_BODY
from reviews.feedback.models import FeedbackKind, FeedbackVisibility
from reviews.formfields import MultiCheckboxField
from reviews.languages import lazy_gettext
from reviews.people.forms import PEOPLE_PICKER


class GiveFeedbackForm(FlaskForm):
    """Renders the form; `feedback.inputs.parse_feedback` decides (the API's parser too)."""

    email = StringField(lazy_gettext("Colleague"), render_kw=PEOPLE_PICKER)
    kind = RadioField(
        lazy_gettext("Kind"),
        choices=[
            SelectChoice(FeedbackKind.FEEDBACK.value, lazy_gettext("Feedback")),
            SelectChoice(FeedbackKind.PRAISE.value, lazy_gettext("Praise")),
        ],
        default=FeedbackKind.FEEDBACK.value,
    )
    body = TextAreaField(
        lazy_gettext("What you saw and why it mattered"),
        render_kw={"required": True, "maxlength": MAX_BODY},
        description=lazy_gettext("Describe a concrete situation, what they did, and its effect."),
    )
    competencies = MultiCheckboxField(
        lazy_gettext("Competencies it shows (optional)"), validate_choice=False
    )
    visibility = RadioField(
        lazy_gettext("Who sees it"),
        choices=[
            SelectChoice(
                FeedbackVisibility.MANAGERS.value, lazy_gettext("Your colleague and their managers")
            ),
            SelectChoice(FeedbackVisibility.RECIPIENT.value, lazy_gettext("Your colleague only")),
        ],
        default=FeedbackVisibility.MANAGERS.value,
    )
