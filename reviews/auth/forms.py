from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from reviews.languages import lazy_gettext


class LoginForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
        description=lazy_gettext("At least 10 characters. A phrase of a few words works well."),
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", lazy_gettext("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        lazy_gettext("Current password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LanguageForm(FlaskForm):
    """The person's language; the choices are the offered languages (views)."""

    locale = SelectField(lazy_gettext("Language"), validate_choice=True)
