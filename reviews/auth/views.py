from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from reviews import access, security
from reviews.auth.forms import ChangePasswordForm, LanguageForm, LoginForm, SetPasswordForm
from reviews.auth.operations import (
    SignInFailed,
    SignInThrottled,
    authenticate,
    find_password_link,
    password_problem,
    redeem_password_link,
    set_password,
    sign_out_everywhere,
)
from reviews.extensions import db
from reviews.languages import gettext, ngettext
from reviews.people.models import Person
from reviews.web import keep_when_refused

bp = Blueprint("auth", __name__, url_prefix="/auth")


def load_user(user_id: str) -> Person | None:
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        return None  # an API call that brings a token is judged by the token alone
    person_id, _, version = user_id.partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    person = db.session.get(Person, int(person_id))
    if person is None or not person.active or person.session_version != int(version):
        return None
    return person


def load_user_from_bearer(req: Any) -> Person | None:
    """API calls authenticate with `Authorization: Bearer <token>` (never logged)."""
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        return None
    from reviews.api.operations import person_for_token

    person = person_for_token(secret.strip())
    if person is None:
        security.enforce("api-token-failure", security.by_address())
    return person


def unauthorized() -> Any:
    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify(
            error={
                "code": "unauthorized",
                "message": gettext(
                    "Send a valid API token as '%(header)s'.",
                    header="Authorization: Bearer rvw_...",
                ),
                "fields": {},
            }
        ), 401
    from flask_login.utils import login_url

    if request.path != "/":  # the home page is where everyone starts: no "that page"
        flash(gettext("Please sign in to see that page."), "info")
        return redirect(login_url("auth.login", next_url=request.url))
    return redirect(url_for("auth.login"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, scheme or a protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def sso_links(next_url: str | None) -> list[tuple[str, str]]:
    """("Sign in with <label>", its URL) for each configured identity provider."""
    from reviews.identity.admission import providers

    next_url = safe_next(next_url)
    links = []
    for provider in providers().values():
        endpoint = "oidc.start" if provider.protocol == "oidc" else "saml.login"
        links.append(
            (
                gettext("Sign in with %(provider)s", provider=provider.label),
                url_for(endpoint, name=provider.name, **({"next": next_url} if next_url else {})),
            )
        )
    return links


@bp.route("/login", methods=["GET", "POST"])
@access.public
@security.rate_limited("sign-in")
def login() -> Any:
    from reviews.identity.admission import REASONS, passwords_allowed

    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""), email=request.args.get("email", ""))
    status = 200
    if form.validate_on_submit() and not passwords_allowed(form.email.data or ""):
        form.password.errors = [str(REASONS["passwords_off"])]
        status = 403
    elif form.validate_on_submit():
        try:
            person = authenticate(
                form.email.data or "", form.password.data or "", request.remote_addr or "unknown"
            )
        except SignInThrottled as exc:
            minutes = max(1, round(exc.seconds / 60))
            form.form_errors.append(
                ngettext(
                    "Too many failed sign-ins for this account. Try again in about %(num)d "
                    "minute, or ask HR for a password reset link.",
                    "Too many failed sign-ins for this account. Try again in about %(num)d "
                    "minutes, or ask HR for a password reset link.",
                    minutes,
                )
            )
            status = 429
            g.rate_limit_retry_after = max(1, int(exc.seconds))  # the Retry-After header
        except SignInFailed:
            keep_when_refused()  # the failure counts towards throttling
            form.password.errors = [gettext("The email or the password is wrong.")]
            status = 401
        else:
            session.clear()
            login_user(person)
            session.permanent = True
            return redirect(safe_next(form.next.data) or url_for("home.index"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/login.html",
        form=form,
        sso_links=sso_links(form.next.data),
        sso_only=current_app.config.get("SSO_ONLY", False),
    ), status


@bp.post("/logout")
@access.signed_in
def logout() -> Any:
    from reviews.identity import saml_sp as saml
    from reviews.identity.admission import providers

    # Bumping the session version also kills copies of this session cookie.
    sign_out_everywhere(current_user)
    provider = providers().get(session.get("sso_provider") or "")
    saml_logout = session.get(saml.LOGOUT_KEY)  # what a SAML LogoutRequest needs
    logout_user()
    session.clear()
    flash(gettext("You are signed out."), "info")
    # Offer the provider's own sign-out where it has one.
    if provider is not None and provider.protocol == "oidc":
        return redirect(url_for("oidc.signed_out", name=provider.name))
    if (
        provider is not None
        and provider.protocol == "saml"
        and saml_logout
        and saml.offers_logout(provider)
    ):
        session[saml.LOGOUT_KEY] = saml_logout  # for saml.signed_out, then saml.logout
        return redirect(url_for("saml.signed_out", name=provider.name))
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@access.signed_in
def change_password() -> Any:
    from reviews.identity.admission import REASONS, passwords_allowed

    form = ChangePasswordForm()
    # the person, not the proxy: login_user(proxy) below would make current_user point
    # at itself, and the flash's gettext (the locale reads current_user) would recurse
    me: Person = current_user._get_current_object()
    if not passwords_allowed(me.email):
        flash(str(REASONS["passwords_off"]), "info")
        return redirect(url_for("home.index"))
    if form.validate_on_submit():
        if not me.password_hash or not check_password_hash(
            me.password_hash, form.current.data or ""
        ):
            form.current.errors = [gettext("This is not your current password.")]
        elif problem := password_problem(form.password.data or "", me):
            form.password.errors = [problem]
        else:
            set_password(me, form.password.data or "", actor=me)
            login_user(me)  # the session version changed; keep this session
            flash(gettext("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form), 400 if form.errors else 200


@bp.route("/language", methods=["GET", "POST"])
@access.signed_in
def language() -> Any:
    """The language of the person's pages, e-mails and PDFs: one of the offered ones, or
    none (their browser's, then the deployment's default)."""
    from reviews import languages

    me: Person = current_user
    form = LanguageForm(locale=me.locale if me.locale in languages.offered() else "")
    browser = languages.browser_locale()
    form.locale.choices = [
        ("", gettext("Your browser's language (now %(name)s)", name=languages.name_of(browser))),
        # each language in its own name, marked as such for screen readers
        *(
            (code, name, {"lang": code.replace("_", "-")})
            for code, name in languages.language_names()
        ),
    ]
    if form.validate_on_submit():
        me.locale = form.locale.data or None
        db.session.commit()
        languages.refresh()  # this very answer in the new language
        flash(gettext("Your language is saved."), "success")
        return redirect(url_for("home.index"))
    return render_template("auth/language.html", form=form), 400 if form.errors else 200


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@access.public
@security.rate_limited("password-link", methods=("GET", "POST"))
def set_password_with_link(token: str) -> Any:
    from reviews.identity.admission import passwords_allowed

    link = find_password_link(token)
    if link is None:
        return render_template("auth/link_invalid.html"), 404
    if not passwords_allowed(link.person.email):
        # With passwords turned off (SSO_ONLY), a link cannot set one either.
        return render_template("auth/link_invalid.html", passwords_off=True), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        if problem := password_problem(form.password.data or "", link.person):
            form.password.errors = [problem]
        else:
            person = redeem_password_link(link, form.password.data or "")
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(gettext("Your password is set. Sign in with it now."), "success")
            return redirect(url_for("auth.login", email=person.email))
    return render_template("auth/set_password.html", form=form, person=link.person), (
        400 if form.errors else 200
    )
