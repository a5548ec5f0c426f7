"""HR's review templates: the list, the editor, a preview as each reader sees it, copy,
archive, delete, and JSON export and import."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from reviews import access
from reviews.errors import Conflict, DomainError
from reviews.extensions import db
from reviews.framework.wording import sayer
from reviews.languages import gettext, lazy_gettext
from reviews.people.forms import ConfirmForm
from reviews.review_templates import editor
from reviews.review_templates import operations as ops
from reviews.review_templates.answers import audiences_for
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.definition import (
    AUDIENCES,
    FIXED_LABELS,
    KINDS,
    PART_NAMES,
    PARTS,
    Template,
    TemplateError,
)
from reviews.review_templates.models import CycleTemplate, ReviewTemplate, TemplatePart
from reviews.review_templates.parsing import parse_template
from reviews.review_templates.queries import parsed
from reviews.web import failure

bp = Blueprint("templates", __name__, url_prefix="/templates")

# The readers the preview names, and which answers each reads (`answers.audiences_for`).
_SUBJECT = audiences_for(author=False, line=False, hr=False)
_LINE = audiences_for(author=False, line=True, hr=False)
_HR = audiences_for(author=False, line=True, hr=True)
READERS = {
    "review": [
        (lazy_gettext("The person reviewed"), _SUBJECT),
        (lazy_gettext("Their manager line"), _LINE),
        (lazy_gettext("HR"), _HR),
    ],
    "upward": [
        (lazy_gettext("The manager rated"), _SUBJECT),
        (lazy_gettext("Their managers"), _LINE),
        (lazy_gettext("HR"), _HR),
    ],
}
MAX_IMPORT = 200_000


def _template_or_404(template_id: int) -> ReviewTemplate:
    row = db.session.get(ReviewTemplate, template_id)
    if row is None:
        abort(404)
    return row


def _part_or_404(part: str) -> str:
    if part not in PARTS:
        abort(404)
    return part


@bp.get("/")
@access.hr_only
def template_list() -> Any:
    rows = list(
        db.session.scalars(
            select(ReviewTemplate).order_by(
                ReviewTemplate.archived_at.is_not(None), ReviewTemplate.part, ReviewTemplate.name
            )
        )
    )
    uses = dict(
        db.session.execute(
            select(CycleTemplate.template_id, func.count()).group_by(CycleTemplate.template_id)
        ).all()
    )
    return render_template(
        "review_templates/list.html",
        rows=rows,
        uses=uses,
        defaults=DEFAULTS,
        part_names=PART_NAMES,
        questions={row.id: len(parsed(row.definition).questions) for row in rows},
        confirm=ConfirmForm(),
    )


@bp.post("/new/<part>")
@access.hr_only
def new_template(part: str) -> Any:
    """A new template starts as a copy of the built-in questions of its part."""
    row = ops.copy_template(current_user, _part_or_404(part))
    flash(
        gettext("A new template, copied from the built-in questions. Change it and save."),
        "success",
    )
    return redirect(url_for("templates.edit_template", template_id=row.id))


@bp.post("/<int:template_id>/copy")
@access.hr_only
def copy_template(template_id: int) -> Any:
    row = ops.copy_template(current_user, _template_or_404(template_id))
    flash(gettext("Copied as “%(name)s”.", name=row.name), "success")
    return redirect(url_for("templates.edit_template", template_id=row.id))


def _editor_context(
    row: ReviewTemplate, form: editor.EditorForm, errors: dict[int, list[str]]
) -> dict[str, Any]:
    return {
        "row": row,
        "form": form,
        "rows": editor.with_spares(form),
        "errors": errors,
        "kinds": KINDS,
        "audiences": AUDIENCES,
        "fixed_labels": FIXED_LABELS,
        "part_names": PART_NAMES,
        "in_use": ops.in_use(row),
    }


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@access.hr_only
def edit_template(template_id: int) -> Any:
    row = _template_or_404(template_id)
    form = editor.from_document(row.definition)
    errors: dict[int, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = editor.read_form(request.form, row.part.value)
        document, origin = editor.to_document(form)
        raw = request.form.get("version", "")
        version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
        try:
            parse_template(document, part=row.part.value)
            ops.update_template(current_user, row, version, document)
        except TemplateError as exc:
            errors = editor.row_errors(exc, origin, form.rows)
            status = 400
        except Conflict as conflict:
            db.session.rollback()
            row = _template_or_404(template_id)
            errors = {
                -1: [
                    gettext(
                        "%(conflict)s What you typed is below; the saved version "
                        "(%(version)s) is in the preview. Save again to replace it.",
                        conflict=conflict.message,
                        version=row.version,
                    )
                ]
            }
            status = 409
        except DomainError as exc:
            errors = {-1: [exc.message]}
            status = 400
        else:
            flash(
                gettext("Template saved. Cycles already launched keep the questions they froze."),
                "success",
            )
            return redirect(url_for("templates.edit_template", template_id=row.id))
    return render_template(
        "review_templates/edit.html", **_editor_context(row, form, errors)
    ), status


def _preview(template: Template, row: ReviewTemplate | None) -> Any:
    readers = READERS["upward" if template.part == "upward" else "review"]
    return render_template(
        "review_templates/preview.html",
        template=template,
        row=row,
        readers=readers,
        part_names=PART_NAMES,
        values={},
        errors={},
    )


@bp.get("/<int:template_id>/preview")
@access.hr_only
def preview_template(template_id: int) -> Any:
    row = _template_or_404(template_id)
    return _preview(parsed(row.definition).translated(sayer()), row)


@bp.get("/built-in/<part>/preview")
@access.hr_only
def preview_default(part: str) -> Any:
    return _preview(DEFAULTS[_part_or_404(part)].translated(sayer()), None)


@bp.get("/<int:template_id>.json")
@access.hr_only
def export_template(template_id: int) -> Any:
    row = _template_or_404(template_id)
    body = json.dumps(parsed(row.definition).as_json(), indent=2, ensure_ascii=False)
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="template-{row.id}.json"'},
    )


@bp.route("/import", methods=["GET", "POST"])
@access.hr_only
def import_template() -> Any:
    problems: list[str] = []
    text = ""
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read(MAX_IMPORT + 1) if upload and upload.filename else b""
        text = raw.decode("utf-8", "replace") if raw else request.form.get("document", "")
        if len(raw or text.encode()) > MAX_IMPORT:
            problems = [
                gettext("The document is larger than %(size)d kB.", size=MAX_IMPORT // 1000)
            ]
            text = ""
        elif not text.strip():
            problems = [gettext("Choose a JSON file or paste a template document.")]
        else:
            try:
                document = json.loads(text)
                parse_template(document)
            except json.JSONDecodeError as exc:
                problems = [
                    gettext(
                        "This is not JSON: %(problem)s at line %(line)d.",
                        problem=exc.msg,
                        line=exc.lineno,
                    )
                ]
            except TemplateError as exc:  # a ValueError too: caught first
                problems = exc.problems
            except (ValueError, RecursionError):
                problems = [
                    gettext(
                        "This JSON cannot be read: it nests too deeply or holds a number "
                        "too long to be one."
                    )
                ]
            else:
                row = ops.create_template(current_user, document)
                flash(gettext("Imported “%(name)s”.", name=row.name), "success")
                return redirect(url_for("templates.edit_template", template_id=row.id))
    return render_template("review_templates/import.html", problems=problems, text=text), (
        400 if problems else 200
    )


@bp.post("/<int:template_id>/archive")
@access.hr_only
def archive_template(template_id: int) -> Any:
    return _set_archived(template_id, archived=True)


@bp.post("/<int:template_id>/restore")
@access.hr_only
def restore_template(template_id: int) -> Any:
    return _set_archived(template_id, archived=False)


def _set_archived(template_id: int, *, archived: bool) -> Any:
    row = _template_or_404(template_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ops.set_archived(current_user, row, archived)
    flash(
        gettext("“%(name)s” is archived: new cycles cannot choose it.", name=row.name)
        if archived
        else gettext("“%(name)s” is back in the list for new cycles.", name=row.name),
        "success",
    )
    return redirect(url_for("templates.template_list"))


@bp.post("/<int:template_id>/delete")
@access.hr_only
def delete_template(template_id: int) -> Any:
    row = _template_or_404(template_id)
    back = url_for("templates.template_list")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = row.name
    try:
        ops.delete_template(current_user, row)
    except DomainError as exc:
        return failure(exc, back)
    flash(gettext("Deleted “%(name)s”.", name=name), "success")
    return redirect(back)


def choices_for(part: str, keep: int | None = None) -> list[tuple[str, str]]:
    """What a cycle may choose for `part`: the built-in questions and every template of
    the part not archived (and the one it has, archived or not)."""
    rows = db.session.scalars(
        select(ReviewTemplate)
        .where(
            ReviewTemplate.part == TemplatePart(part),
            (ReviewTemplate.archived_at.is_(None)) | (ReviewTemplate.id == (keep or -1)),
        )
        .order_by(ReviewTemplate.name)
    )
    return [("", gettext("Built-in questions")), *((str(r.id), r.name) for r in rows)]
