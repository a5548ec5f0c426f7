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

SCALE_CHOICES = [SelectChoice(str(v), str(v)) for v in range(1, 6)]


class LevelForm(FlaskForm):
    version = HiddenField()
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    description = TextAreaField("What this level is", validators=[Length(max=4000)])


class CompetencyForm(FlaskForm):
    """Name, description and anchors; `competency_form` adds the fields per level."""

    version = HiddenField()
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    description = TextAreaField("Description", validators=[Length(max=4000)])
    anchor_1 = TextAreaField("1 · Learning", validators=[DataRequired(), Length(max=2000)])
    anchor_2 = TextAreaField("2 · Developing", validators=[DataRequired(), Length(max=2000)])
    anchor_3 = TextAreaField("3 · Proficient", validators=[DataRequired(), Length(max=2000)])
    anchor_4 = TextAreaField("4 · Advanced", validators=[DataRequired(), Length(max=2000)])
    anchor_5 = TextAreaField(
        "5 · Expert / role model", validators=[DataRequired(), Length(max=2000)]
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
                f"Expected at {level.name}", choices=SCALE_CHOICES, validators=[InputRequired()]
            ),
        )
        setattr(
            Form,
            f"weight_{level.id}",
            DecimalField(
                f"Weight at {level.name}",
                places=2,
                validators=[InputRequired("Enter a weight from 0 to 10."), NumberRange(0, 10)],
            ),
        )
        setattr(
            Form,
            f"behaviour_{level.id}",
            TextAreaField(f"What it looks like at {level.name}", validators=[Length(max=2000)]),
        )
    return Form


class OpportunityForm(FlaskForm):
    version = HiddenField()
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        "What to do and what good looks like", validators=[DataRequired(), Length(max=4000)]
    )
    duration_weeks = IntegerField(
        "Duration in weeks",
        default=6,
        validators=[InputRequired("Enter a number of weeks from 1 to 52."), NumberRange(1, 52)],
    )
    competencies = MultiCheckboxField(
        "Competencies it grows",
        coerce=int,
        validators=[DataRequired("Choose at least one competency.")],
    )
    levels = MultiCheckboxField(
        "Levels it suits", coerce=int, validators=[DataRequired("Choose at least one level.")]
    )
    track = RadioField(
        "Whose growth it serves",
        choices=[
            SelectChoice("", "Anyone at those levels"),
            SelectChoice("management", "Only people aiming at the management track"),
            SelectChoice("ic", "Only people growing on the IC track"),
        ],
        default="",
        validate_choice=True,
        description="Growth plans propose it only to people whose target level is on that "
        "track; a manager can still add it to any plan.",
    )
