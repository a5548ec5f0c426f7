from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from reviews import access, params
from reviews.extensions import db
from reviews.framework import operations as ops
from reviews.framework.forms import LevelForm, OpportunityForm, competency_form
from reviews.framework.models import Competency, Level, Opportunity, Scale, Track
from reviews.framework.queries import ladder, scale
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.people.forms import ConfirmForm

bp = Blueprint("framework", __name__, url_prefix="/framework")

CONFLICT = lazy_gettext(
    "Someone else saved this while you were editing. Their version is shown now; "
    "make your change again and save."
)


@bp.get("/")
@access.signed_in
def overview() -> Any:
    return render_template(
        "framework/overview.html",
        ladder=ladder(),
        proficiency=scale(Scale.PROFICIENCY),
        performance=scale(Scale.PERFORMANCE),
    )


def _level_or_404(key: str) -> Level:
    level = db.session.scalar(select(Level).where(Level.key == key))
    if level is None:
        abort(404)
    return level


def _competency_or_404(key: str) -> Competency:
    competency = db.session.scalar(
        select(Competency).where(Competency.key == key).options(selectinload(Competency.anchors))
    )
    if competency is None:
        abort(404)
    return competency


@bp.get("/levels/<key>")
@access.signed_in
def level(key: str) -> Any:
    lv = _level_or_404(key)
    opportunities = list(
        db.session.scalars(
            select(Opportunity)
            .where(Opportunity.active.is_(True), Opportunity.levels.any(Level.id == lv.id))
            .options(selectinload(Opportunity.competencies))
            .order_by(Opportunity.title)
        )
    )
    return render_template(
        "framework/level.html", level=lv, ladder=ladder(), opportunities=opportunities
    )


@bp.get("/competencies/<key>")
@access.signed_in
def competency(key: str) -> Any:
    comp = _competency_or_404(key)
    opportunities = list(
        db.session.scalars(
            select(Opportunity)
            .where(
                Opportunity.active.is_(True), Opportunity.competencies.any(Competency.id == comp.id)
            )
            .options(selectinload(Opportunity.levels))
            .order_by(Opportunity.title)
        )
    )
    return render_template(
        "framework/competency.html", competency=comp, ladder=ladder(), opportunities=opportunities
    )


@bp.route("/levels/<key>/edit", methods=["GET", "POST"])
@access.hr_only
def edit_level(key: str) -> Any:
    lv = _level_or_404(key)
    form = LevelForm(obj=lv)
    if form.validate_on_submit():
        if form.version.data != str(lv.version):
            form = LevelForm(formdata=None, obj=lv)
            form.form_errors.append(str(CONFLICT))
        elif db.session.scalar(
            select(Level.id).where(Level.name == form.name.data, Level.id != lv.id)
        ):
            form.name.errors = [gettext("Another level already has this name.")]
        else:
            try:
                ops.update_level(
                    current_user,
                    lv,
                    name=form.name.data or "",
                    description=form.description.data or "",
                )
                db.session.flush()
            except StaleDataError:
                db.session.rollback()
                form = LevelForm(formdata=None, obj=_level_or_404(key))
                form.form_errors.append(str(CONFLICT))
            else:
                flash(gettext("%(name)s is saved.", name=lv.name), "success")
                return redirect(url_for("framework.level", key=lv.key))
    return render_template("framework/edit_level.html", form=form, level=lv), (
        409 if str(CONFLICT) in form.form_errors else 400 if form.errors else 200
    )


def _fill_competency_form(form: Any, comp: Competency, lad: Any) -> None:
    form.version.data = str(comp.version)
    form.name.data = comp.name
    form.description.data = comp.description
    for anchor in comp.anchors:
        form[f"anchor_{anchor.value}"].data = anchor.text
    for lv in lad.levels:
        exp = lad.expectations.get((lv.id, comp.id))
        if exp is not None:
            expected, weight, behaviour = form.level_fields(lv)
            expected.data, weight.data, behaviour.data = (
                str(exp.expected),
                exp.weight,
                exp.description,
            )


@bp.route("/competencies/<key>/edit", methods=["GET", "POST"])
@access.hr_only
def edit_competency(key: str) -> Any:
    comp = _competency_or_404(key)
    lad = ladder()
    form_class = competency_form(lad.levels)
    form = form_class()
    conflict = False
    if request.method == "GET":
        _fill_competency_form(form, comp, lad)
    elif form.validate_on_submit():
        clash = db.session.scalar(
            select(Competency.id).where(Competency.name == form.name.data, Competency.id != comp.id)
        )
        if form.version.data != str(comp.version):
            conflict = True
        elif clash:
            form.name.errors = [gettext("Another competency already has this name.")]
        else:
            expectations = {}
            for lv in lad.levels:
                expected, weight, behaviour = form.level_fields(lv)
                expectations[lv.id] = (int(expected.data), float(weight.data), behaviour.data or "")
            try:
                ops.update_competency(
                    current_user,
                    comp,
                    name=form.name.data or "",
                    description=form.description.data or "",
                    anchors={v: form[f"anchor_{v}"].data for v in range(1, 6)},
                    expectations=expectations,
                )
                db.session.flush()
            except StaleDataError:
                db.session.rollback()
                conflict = True
            else:
                flash(gettext("%(name)s is saved.", name=comp.name), "success")
                return redirect(url_for("framework.competency", key=comp.key))
    if conflict:
        comp = _competency_or_404(key)
        lad = ladder()
        form = form_class(formdata=None)
        _fill_competency_form(form, comp, lad)
        form.form_errors.append(str(CONFLICT))
    status = 409 if conflict else 400 if form.errors else 200
    return render_template(
        "framework/edit_competency.html", form=form, competency=comp, ladder=lad
    ), status


@bp.get("/opportunities")
@access.signed_in
def opportunities() -> Any:
    show_retired = access.is_hr(current_user) and params.choice("retired", ["0", "1"]) == "1"
    stmt = (
        select(Opportunity)
        .options(selectinload(Opportunity.competencies), selectinload(Opportunity.levels))
        .order_by(Opportunity.title)
    )
    if not show_retired:
        stmt = stmt.where(Opportunity.active.is_(True))
    competency_key = params.text("competency", max_length=60)
    if competency_key:
        stmt = stmt.where(Opportunity.competencies.any(Competency.key == competency_key))
    return render_template(
        "framework/opportunities.html",
        opportunities=list(db.session.scalars(stmt)),
        ladder=ladder(),
        competency_key=competency_key,
        show_retired=show_retired,
        confirm=ConfirmForm(),
    )


def _opportunity_form(opportunity: Opportunity | None) -> tuple[OpportunityForm, Any]:
    lad = ladder()
    form = OpportunityForm(obj=opportunity) if request.method == "GET" else OpportunityForm()
    form.competencies.choices = [SelectChoice(c.id, c.name) for c in lad.competencies()]
    form.levels.choices = [SelectChoice(lv.id, lv.name) for lv in lad.levels]
    if request.method == "GET" and opportunity is not None:
        form.competencies.data = [c.id for c in opportunity.competencies]
        form.levels.data = [lv.id for lv in opportunity.levels]
        form.track.data = opportunity.track.value if opportunity.track else ""
        form.version.data = str(opportunity.version)
    return form, lad


def _save_opportunity(opportunity: Opportunity | None) -> Any:
    form, lad = _opportunity_form(opportunity)
    status = 200
    if form.validate_on_submit():
        if opportunity is not None and form.version.data != str(opportunity.version):
            form.form_errors.append(str(CONFLICT))
            status = 409
        else:
            comps = {c.id: c for c in lad.competencies()}
            levels = {lv.id: lv for lv in lad.levels}
            try:
                saved = ops.save_opportunity(
                    current_user,
                    opportunity,
                    title=form.title.data or "",
                    description=form.description.data or "",
                    duration_weeks=form.duration_weeks.data or 1,
                    competencies=[comps[i] for i in form.competencies.data or []],
                    levels=[levels[i] for i in form.levels.data or []],
                    track=Track(form.track.data) if form.track.data else None,
                )
                db.session.flush()
            except StaleDataError:
                db.session.rollback()
                form.form_errors.append(str(CONFLICT))
                status = 409
            else:
                flash(gettext("“%(title)s” is saved.", title=saved.title), "success")
                return redirect(url_for("framework.opportunities"))
    elif request.method == "POST":
        status = 400
    return render_template(
        "framework/edit_opportunity.html", form=form, opportunity=opportunity
    ), status


@bp.route("/opportunities/new", methods=["GET", "POST"])
@access.hr_only
def new_opportunity() -> Any:
    return _save_opportunity(None)


@bp.route("/opportunities/<int:opportunity_id>/edit", methods=["GET", "POST"])
@access.hr_only
def edit_opportunity(opportunity_id: int) -> Any:
    return _save_opportunity(db.get_or_404(Opportunity, opportunity_id))


@bp.post("/opportunities/<int:opportunity_id>/retire")
@access.hr_only
def retire_opportunity(opportunity_id: int) -> Any:
    return _set_active(opportunity_id, False)


@bp.post("/opportunities/<int:opportunity_id>/restore")
@access.hr_only
def restore_opportunity(opportunity_id: int) -> Any:
    return _set_active(opportunity_id, True)


def _set_active(opportunity_id: int, active: bool) -> Any:
    opportunity = db.get_or_404(Opportunity, opportunity_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.set_opportunity_active(current_user, opportunity, active)
    if active:
        flash(gettext("“%(title)s” is back in the catalogue.", title=opportunity.title), "success")
    else:
        flash(
            gettext("“%(title)s” is retired from the catalogue.", title=opportunity.title),
            "success",
        )
    return redirect(url_for("framework.opportunities"))


@bp.route("/translations", methods=["GET", "POST"])
@access.hr_only
def translations() -> Any:
    """HR translating the framework's, the catalogue's and the templates' texts into one
    offered language, a section at a time (reviews/framework/translations.py)."""
    from reviews.framework import translations as tr
    from reviews.framework.wording import content_language
    from reviews.languages import name_of

    params.only("language", "section", "show")
    languages = tr.languages()
    if not languages:
        return render_template(
            "framework/translations.html", listing=None, languages=[], own=content_language()
        )
    language = params.choice("language", languages, languages[0]) or languages[0]
    section = params.choice("section", list(tr.SECTIONS), "ladder") or "ladder"
    missing_only = params.choice("show", ["all", "missing"], "all") == "missing"
    typed: dict[str, str] = {}
    problems: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = ConfirmForm()
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("action") == "shipped":
            try:
                added = tr.load_shipped_into(language)
                db.session.commit()
            except IntegrityError:  # someone pressed it at the same moment: theirs stands
                db.session.rollback()
                added = 0
            flash(
                ngettext(
                    "%(num)d translation from Reviews added.",
                    "%(num)d translations from Reviews added.",
                    added,
                )
                if added
                else gettext("Reviews has no further translations of these texts."),
                "success",
            )
            return redirect(url_for(".translations", language=language, section=section))
        posted = {
            key: (value, request.form.get("version-" + key, ""), request.form.get("was-" + key, ""))
            for name, value in request.form.items()
            if name.startswith("text-") and (key := name.removeprefix("text-"))
        }
        try:
            changed, found = tr.save(current_user, language, section, posted)
        except (StaleDataError, IntegrityError):
            db.session.rollback()
            changed = 0
            found = [tr.Problem(key, str(CONFLICT), conflict=True) for key in posted]
        if not found:
            db.session.commit()
            flash(
                ngettext("%(num)d translation saved.", "%(num)d translations saved.", changed)
                if changed
                else gettext("Nothing changed."),
                "success",
            )
            return redirect(
                url_for(
                    ".translations",
                    language=language,
                    section=section,
                    show="missing" if missing_only else None,
                )
            )
        db.session.rollback()
        typed = {key: text for key, (text, _version, _was) in posted.items()}
        problems = {p.key: p.message for p in found}
        status = 409 if any(p.conflict for p in found) else 400
    listing = tr.listing(language, section)
    items = [
        i
        for i in listing.items
        if not missing_only or (not i.text and not i.shipped) or i.key in problems
    ]
    shown = {i.key for i in items}
    return render_template(
        "framework/translations.html",
        listing=listing,
        items=items,
        unplaced=sorted({message for key, message in problems.items() if key not in shown}),
        languages=[(code, name_of(code)) for code in languages],
        language_name=name_of(language),
        sections=tr.SECTIONS,
        missing_only=missing_only,
        typed=typed,
        problems=problems,
        own=content_language(),
        confirm=ConfirmForm(),
    ), status
