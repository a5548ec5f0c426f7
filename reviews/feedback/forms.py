from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField, TextAreaField

from reviews.feedback.inputs import MAX_BODY
from reviews.feedback.models import FeedbackKind, FeedbackVisibility
from reviews.formfields import MultiCheckboxField
from reviews.people.forms import PEOPLE_PICKER


class GiveFeedbackForm(FlaskForm):
    """Renders the form; `feedback.inputs.parse_feedback` decides (the API's parser too)."""

    email = StringField("Colleague", render_kw=PEOPLE_PICKER)
    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice(FeedbackKind.FEEDBACK.value, "Feedback"),
            SelectChoice(FeedbackKind.PRAISE.value, "Praise"),
        ],
        default=FeedbackKind.FEEDBACK.value,
    )
    body = TextAreaField(
        "What you saw and why it mattered",
        render_kw={"required": True, "maxlength": MAX_BODY},
        description="Describe a concrete situation, what they did, and its effect.",
    )
    competencies = MultiCheckboxField("Competencies it shows (optional)", validate_choice=False)
    visibility = RadioField(
        "Who sees it",
        choices=[
            SelectChoice(FeedbackVisibility.MANAGERS.value, "Your colleague and their managers"),
            SelectChoice(FeedbackVisibility.RECIPIENT.value, "Your colleague only"),
        ],
        default=FeedbackVisibility.MANAGERS.value,
    )
