from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from reviews.feedback.models import FeedbackKind, FeedbackVisibility

MAX_BODY = 4000


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes: easier to use than a multiple select, by mouse or keyboard."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GiveFeedbackForm(FlaskForm):
    email = StringField(
        "Colleague's email", validators=[DataRequired("Enter an email."), Length(max=254)]
    )
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
        validators=[DataRequired("Write your feedback."), Length(max=MAX_BODY)],
        description="Describe a concrete situation, what they did, and its effect.",
    )
    competencies = MultiCheckboxField("Competencies it shows (optional)", validators=[Optional()])
    visibility = RadioField(
        "Who sees it",
        choices=[
            SelectChoice(FeedbackVisibility.MANAGERS.value, "Your colleague and their managers"),
            SelectChoice(FeedbackVisibility.RECIPIENT.value, "Your colleague only"),
        ],
        default=FeedbackVisibility.MANAGERS.value,
    )
