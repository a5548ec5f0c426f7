from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from reviews import access, params, security
from reviews.audit.models import AuditEvent
from reviews.auth.models import LinkPurpose
from reviews.auth.operations import issue_password_link
from reviews.documents.filenames import disposition, filename
from reviews.errors import BadParameter, DomainError
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.identity.admission import passwords_allowed
from reviews.identity.models import ExternalIdentity
from reviews.languages import gettext, pgettext
from reviews.people import operations as ops
from reviews.people.forms import ConfirmForm, ImportApplyForm, ImportUploadForm, PersonForm
from reviews.people.lookup import find_person
from reviews.people.models import Department, Person, Role, Source
from reviews.people.queries import (
    COUNT_LIMIT,
    NotListed,
    departments,
    direct_reports,
    management_chain,
    org_size_below,
    report_counts,
    search_people,
    suggest_people,
)
from reviews.web import failure

bp = Blueprint("people", __name__)
PER_PAGE = 50


@bp.get("/people")
@access.signed_in
def directory() -> Any:
    params.only("q", "department", "inactive", "managed", "after", "before", paged_by_links=True)
    q = params.text("q", max_length=200)
    department_id = params.integer("department") or None
    include_inactive = access.is_hr(current_user) and params.choice("inactive", ["0", "1"]) == "1"
    managed = None
    if access.is_hr(current_user):
        managed = params.choice("managed", [s.value for s in Source])
    after = params.integer("after", low=1)
    before = params.integer("before", low=1)
    if after and before:
        raise BadParameter(
            gettext(
                "Give the parameter “%(after)s” or “%(before)s”, not both.",
                after="after",
                before="before",
            ),
            "before",
        )
    try:
        found = search_people(
            q,
            department_id,
            include_inactive,
            PER_PAGE,
            Source(managed) if managed else None,
            after=after,
            before=before,
        )
    except NotListed:
        name = "after" if after else "before"
        raise BadParameter(
            gettext("The parameter “%(name)s” must be a person this list shows.", name=name),
            name,
        ) from None
    return render_template(
        "people/directory.html",
        people=found.people,
        found=found,
        count_limit=COUNT_LIMIT,
        q=q,
        department_id=department_id,
        include_inactive=include_inactive,
        departments=departments(),
        managed=managed,
        sources=list(Source),
        sso_configured=bool(current_app.config.get("SSO_PROVIDER_MAP")),
    )


@bp.get("/people/search")
@access.signed_in
def search_suggestions() -> Any:
    """The people picker's suggestions as JSON: up to eight active colleagues whose name or
    email holds `q` (what the directory, open to everyone signed in, shows too)."""
    q = params.text("q", max_length=200).strip()
    rows = suggest_people(q) if q else []
    return jsonify(
        [
            {"id": pid, "name": name, "email": email, "department": department}
            for pid, name, email, department in rows
        ]
    )


def _person_or_404(person_id: int) -> Person:
    person = db.session.scalar(
        select(Person)
        .where(Person.id == person_id)
        .options(
            joinedload(Person.level), joinedload(Person.department), joinedload(Person.manager)
        )
    )
    if person is None:
        abort(404)
    return person


@bp.get("/people/<int:person_id>")
@access.signed_in
def profile(person_id: int) -> Any:
    person = _person_or_404(person_id)
    if not person.active and not access.is_hr(current_user):
        abort(404)
    events: list[AuditEvent] = []
    identities: list[ExternalIdentity] = []
    if access.can_see_account_details(current_user, person):
        identities = list(
            db.session.scalars(
                select(ExternalIdentity)
                .where(ExternalIdentity.person_id == person.id)
                .order_by(ExternalIdentity.provider)
            )
        )
    if access.can_see_account_details(current_user, person) and access.is_hr(current_user):
        events = list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.subject_id == person.id)
                .options(joinedload(AuditEvent.actor))
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(20)
            )
        )
    from reviews.upward.queries import rated_in

    # their managers and HR (the manager has the results on their own home); HR first,
    # which reads nothing, then the line
    upward = (
        rated_in(person)
        if current_user.id != person.id
        and (access.is_hr(current_user) or access.is_in_line_above(current_user, person))
        else []
    )
    return render_template(
        "people/profile.html",
        person=person,
        upward=upward,
        chain=management_chain(person),
        reports=direct_reports([person.id])[person.id],
        org_size=org_size_below(person.id),
        events=events,
        confirm=ConfirmForm(),
        identities=identities,
        sso_configured=bool(current_app.config.get("SSO_PROVIDER_MAP")),
        passwords_allowed=passwords_allowed(person.email),
    )


@bp.get("/org")
@bp.get("/org/<int:person_id>")
@access.signed_in
def org_chart(person_id: int | None = None) -> Any:
    """One manager's slice of the chart: their chain, them, and their reports."""
    if person_id is None:
        tops = list(
            db.session.scalars(
                select(Person)
                .where(Person.manager_id.is_(None), Person.active.is_(True))
                .options(joinedload(Person.level), joinedload(Person.department))
                .order_by(Person.name)
            )
        )
        focus, chain = None, []
        members = tops
    else:
        focus = _person_or_404(person_id)
        if not focus.active:
            abort(404)
        chain = management_chain(focus)
        members = direct_reports([focus.id])[focus.id]
    counts = report_counts([p.id for p in members])
    return render_template(
        "people/org_chart.html",
        focus=focus,
        chain=list(reversed(chain)),
        members=members,
        counts=counts,
        org_size=org_size_below(focus.id) if focus else None,
    )


def _levels() -> list[Level]:
    return list(db.session.scalars(select(Level).order_by(Level.rank)))


def _fill_choices(form: PersonForm) -> list[Level]:
    levels = _levels()
    form.level.choices = [SelectChoice("", gettext("No level"))] + [
        SelectChoice(str(lv.id), lv.name) for lv in levels
    ]
    return levels


def _apply_person_form(form: PersonForm, person: Person | None) -> Person | None:
    """Validate the form's references and save; None (with field errors) when refused."""
    levels = {str(lv.id): lv for lv in _levels()}
    level = levels.get(form.level.data or "")
    manager = None
    manager_text = (form.manager.data or "").strip()
    if manager_text:
        manager, problem = find_person(manager_text)
        if problem:
            form.manager.errors = [problem]
            return None
    fields = {
        "email": form.email.data or "",
        "name": form.name.data or "",
        "department": form.department.data or None,
        "level": level,
        "manager": manager,
        "role": Role(form.role.data),
    }
    try:
        if person is None:
            return ops.create_person(current_user, **fields)  # type: ignore[arg-type]
        ops.update_person(current_user, person, **fields)  # type: ignore[arg-type]
        return person
    except DomainError as exc:
        db.session.rollback()
        target = getattr(form, exc.field or "", None)
        if target is not None:
            target.errors = [exc.message]
        else:
            form.form_errors.append(exc.message)
        return None


@bp.route("/people/new", methods=["GET", "POST"])
@access.hr_only
def create() -> Any:
    form = PersonForm()
    _fill_choices(form)
    if form.validate_on_submit():
        person = _apply_person_form(form, None)
        if person is not None:
            flash(
                gettext(
                    "%(name)s is added. Send them a sign-in link from their page.",
                    name=person.name,
                ),
                "success",
            )
            return redirect(url_for("people.profile", person_id=person.id))
    return render_template(
        "people/edit.html", form=form, person=None, departments=departments()
    ), 400 if form.errors else 200


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@access.hr_only
def edit(person_id: int) -> Any:
    person = _person_or_404(person_id)
    form = PersonForm(obj=None if request.method == "POST" else person)
    _fill_choices(form)
    if request.method == "GET":
        form.department.data = person.department.name if person.department else ""
        form.level.data = str(person.level_id or "")
        form.manager.data = person.manager.email if person.manager else ""
        form.role.data = person.role.value
    if form.validate_on_submit() and _apply_person_form(form, person) is not None:
        flash(gettext("%(name)s's details are saved.", name=person.name), "success")
        return redirect(url_for("people.profile", person_id=person.id))
    return render_template(
        "people/edit.html", form=form, person=person, departments=departments()
    ), 400 if form.errors else 200


def _target_person() -> str:
    return f"person:{(request.view_args or {}).get('person_id')}"


@bp.post("/people/<int:person_id>/password-link")
@access.hr_only
@security.rate_limited("password-link-issue", key=_target_person)
def password_link(person_id: int) -> Any:
    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    purpose = LinkPurpose.RESET if person.has_password else LinkPurpose.INVITE
    try:
        token = issue_password_link(current_user, person, purpose)
    except DomainError as exc:
        return failure(exc, url_for("people.profile", person_id=person.id))
    link = url_for("auth.set_password_with_link", token=token, _external=True)
    return render_template("people/password_link.html", person=person, link=link, purpose=purpose)


@bp.post("/people/<int:person_id>/deactivate")
@access.hr_only
def deactivate(person_id: int) -> Any:
    return _toggle_active(
        person_id,
        ops.deactivate_person,
        lambda name: gettext("%(name)s is deactivated and signed out.", name=name),
    )


@bp.post("/people/<int:person_id>/reactivate")
@access.hr_only
def reactivate(person_id: int) -> Any:
    return _toggle_active(
        person_id,
        ops.reactivate_person,
        lambda name: gettext("%(name)s is active again.", name=name),
    )


def _toggle_active(person_id: int, operation: Any, message: Callable[[str], str]) -> Any:
    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = url_for("people.profile", person_id=person_id)
    try:
        operation(current_user, person)
    except DomainError as exc:
        return failure(exc, back)
    flash(message(person.name), "success")
    return redirect(back)


@bp.route("/people/import", methods=["GET", "POST"])
@access.hr_only
def import_org() -> Any:
    form = ImportUploadForm()
    check = None
    content = ""
    status = 200
    if form.validate_on_submit():
        data = form.file.data.read()
        check = ops.check_org_file(data, current_user)
        if check.errors:
            status = 422
        else:
            content = data.decode("utf-8-sig")
    elif request.method == "POST":
        status = 400
    return render_template(
        "people/import.html", form=form, check=check, apply_form=ImportApplyForm(content=content)
    ), status


@bp.post("/people/import/apply")
@access.hr_only
def import_apply() -> Any:
    form = ImportApplyForm()
    if not form.validate_on_submit():
        flash(gettext("The import form was incomplete; upload the file again."), "error")
        return redirect(url_for("people.import_org"))
    check = ops.check_org_file((form.content.data or "").encode("utf-8"), current_user)
    if check.errors:
        # The org changed between preview and apply; show what is wrong now.
        return render_template(
            "people/import.html", form=ImportUploadForm(), check=check, apply_form=ImportApplyForm()
        ), 422
    plan = ops.apply_import(check, current_user)
    flash(
        gettext("Org chart imported: %(summary)s.", summary=plan.said()),
        "success",
    )
    return redirect(url_for("people.directory"))


@bp.get("/departments")
@access.signed_in
def department_list() -> Any:
    """Every department with its active people, as kept (reviews.people.headcount): one
    read of the departments, whatever the size of the org."""
    departments = db.session.scalars(select(Department).order_by(Department.name)).all()
    return render_template("people/departments.html", departments=departments)


@bp.get("/people/<int:person_id>/data.json")
@access.hr_only
def personal_data_json(person_id: int) -> Any:
    """Everything held about one person, for a data-subject request."""
    from flask import Response

    from reviews.audit.operations import record
    from reviews.privacy import export_person as person_data

    person = _person_or_404(person_id)
    import json

    body = json.dumps(person_data(person), ensure_ascii=False, indent=2)
    record("export.personal_data", actor=current_user, subject=person, format="json")
    return Response(
        body,
        mimetype="application/json",
        headers=disposition(
            filename(person.name, pgettext("file name", "personal data"), ext="json")
        ),
    )


@bp.get("/people/<int:person_id>/data.pdf")
@access.hr_only
def personal_data_pdf(person_id: int) -> Any:
    from flask import Response

    from reviews.audit.operations import record
    from reviews.cycles.parts import POTENTIAL, READINESS
    from reviews.documents.pdf import render_pdf, stylesheet
    from reviews.framework.models import Level
    from reviews.privacy import export_person as person_data

    person = _person_or_404(person_id)
    html = render_template(
        "documents/personal_data.html",
        person=person,
        data=person_data(person),
        generated=date.today(),
        potential=POTENTIAL,
        readiness=READINESS,
        level_names=dict(db.session.execute(select(Level.key, Level.name)).all()),
    )
    pdf = render_pdf(html, stylesheet())
    record("export.personal_data", actor=current_user, subject=person, format="pdf")
    return Response(
        pdf,
        mimetype="application/pdf",
        headers=disposition(
            filename(person.name, pgettext("file name", "personal data"), ext="pdf")
        ),
    )


@bp.post("/people/<int:person_id>/anonymise")
@access.hr_only
def anonymise(person_id: int) -> Any:
    from reviews.privacy import anonymise as anonymise_person

    person = _person_or_404(person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    back = url_for("people.profile", person_id=person_id)
    try:
        anonymise_person(current_user, person)
    except DomainError as exc:
        return failure(exc, back)
    flash(
        gettext(
            "The person is anonymised: their name, email and written text are removed; "
            "ratings stay in the figures."
        ),
        "success",
    )
    return redirect(back)
