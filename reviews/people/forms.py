from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from reviews.languages import lazy_gettext
from reviews.people.models import Role

# A text field that chooses a colleague: typed as a name or an email (people.lookup),
# and a combobox of suggestions where JavaScript runs (app.js, `data-people-picker`).
PEOPLE_PICKER = {
    "required": True,
    "maxlength": 254,
    "autocomplete": "off",
    "data-people-picker": "",
}

ROLE_CHOICES = [
    SelectChoice(Role.EMPLOYEE.value, lazy_gettext("Employee")),
    SelectChoice(Role.MANAGER.value, lazy_gettext("Manager")),
    SelectChoice(Role.HR.value, lazy_gettext("HR admin")),
]


class PersonForm(FlaskForm):
    """HR's form for one person. Every field here is meant to be written."""

    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        lazy_gettext("Work email"),
        validators=[
            DataRequired(),
            Length(max=254),
            Email(
                lazy_gettext("Enter an email address like name@company.com."),
                check_deliverability=False,
            ),
        ],
    )
    department = StringField(
        lazy_gettext("Department"),
        validators=[Optional(), Length(max=100)],
        description=lazy_gettext("Type a new name to create a department."),
        render_kw={"list": "departments"},
    )
    level = SelectField(lazy_gettext("Level"), validators=[Optional()], choices=[])
    manager = StringField(
        lazy_gettext("Manager"),
        validators=[Optional(), Length(max=254)],
        description=lazy_gettext(
            "A name or an email; leave empty for someone at the top of the org."
        ),
        render_kw={**PEOPLE_PICKER, "required": False},
    )
    role = SelectField(
        lazy_gettext("Role"),
        choices=ROLE_CHOICES,
        default=Role.EMPLOYEE.value,
        description=lazy_gettext("Managers see their reports' reviews; HR admins run cycles."),
    )


class ImportUploadForm(FlaskForm):
    file = FileField(
        lazy_gettext("Org chart CSV"),
        validators=[FileRequired(lazy_gettext("Choose a CSV file to upload."))],
        description=lazy_gettext(
            "Columns: %(columns)s. UTF-8, up to 5 MB. People missing from the file are "
            "deactivated.",
            columns="email, name, manager_email, department, level, role",
        ),
    )


class ImportApplyForm(FlaskForm):
    content = HiddenField(validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """An empty form: CSRF protection for one-button actions."""
