from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from reviews.formfields import MultiCheckboxField
from reviews.framework.models import Level
from reviews.languages import gettext, lazy_gettext

SCALE_CHOICES = [SelectChoice(str(v), str(v)) for v in range(1, 6)]


class LevelForm(FlaskForm):
    version = HiddenField()
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(lazy_gettext("What this level is"), validators=[Length(max=4000)])


class CompetencyForm(FlaskForm):
    """Name, description and anchors; `competency_form` adds the fields per level."""

    version = HiddenField()
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=100)])
    description = TextAreaField(lazy_gettext("Description"), validators=[Length(max=4000)])
    anchor_1 = TextAreaField(
        lazy_gettext("1 · Learning"), validators=[DataRequired(), Length(max=2000)]
    )
    anchor_2 = TextAreaField(
        lazy_gettext("2 · Developing"), validators=[DataRequired(), Length(max=2000)]
    )
    anchor_3 = TextAreaField(
        lazy_gettext("3 · Proficient"), validators=[DataRequired(), Length(max=2000)]
    )
    anchor_4 = TextAreaField(
        lazy_gettext("4 · Advanced"), validators=[DataRequired(), Length(max=2000)]
    )
    anchor_5 = TextAreaField(
        lazy_gettext("5 · Expert / role model"), validators=[DataRequired(), Length(max=2000)]
    )

    def level_fields(self, level: Level) -> tuple[Field, Field, Field]:
        return (
            self[f"expected_{level.id}"],
            self[f"weight_{level.id}"],
            self[f"behaviour_{level.id}"],
        )


def competency_form(levels: list[Level]) -> type[CompetencyForm]:
    """A form class with an expected rating, weight and description per level."""

    class Form(CompetencyForm):
        pass

    for level in levels:
        setattr(
            Form,
            f"expected_{level.id}",
            SelectField(
                gettext("Expected at %(level)s", level=level.name),
                choices=SCALE_CHOICES,
                validators=[InputRequired()],
            ),
        )
        setattr(
            Form,
            f"weight_{level.id}",
            DecimalField(
                gettext("Weight at %(level)s", level=level.name),
                places=2,
                validators=[
                    InputRequired(gettext("Enter a weight from 0 to 10.")),
                    NumberRange(0, 10),
                ],
            ),
        )
        setattr(
            Form,
            f"behaviour_{level.id}",
            TextAreaField(
                gettext("What it looks like at %(level)s", level=level.name),
                validators=[Length(max=2000)],
            ),
        )
    return Form


class OpportunityForm(FlaskForm):
    version = HiddenField()
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        lazy_gettext("What to do and what good looks like"),
        validators=[DataRequired(), Length(max=4000)],
    )
    duration_weeks = IntegerField(
        lazy_gettext("Duration in weeks"),
        default=6,
        validators=[
            InputRequired(lazy_gettext("Enter a number of weeks from 1 to 52.")),
            NumberRange(1, 52),
        ],
    )
    competencies = MultiCheckboxField(
        lazy_gettext("Competencies it grows"),
        coerce=int,
        validators=[DataRequired(lazy_gettext("Choose at least one competency."))],
    )
    levels = MultiCheckboxField(
        lazy_gettext("Levels it suits"),
        coerce=int,
        validators=[DataRequired(lazy_gettext("Choose at least one level."))],
    )
    track = RadioField(
        lazy_gettext("Whose growth it serves"),
        choices=[
            SelectChoice("", lazy_gettext("Anyone at those levels")),
            SelectChoice("management", lazy_gettext("Only people aiming at the management track")),
            SelectChoice("ic", lazy_gettext("Only people growing on the IC track")),
        ],
        default="",
        validate_choice=True,
        description=lazy_gettext(
            "Growth plans propose it only to people whose target level is on that "
            "track; a manager can still add it to any plan."
        ),
    )
