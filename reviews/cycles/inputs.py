"""A cycle's settings and a nomination, as the new-cycle form and the API send them.

`parse_cycle` is the one reading of a cycle's settings: the page form and
`POST`/`PATCH /api/v1/cycles` both call it, so a field the form keeps the API
keeps too. Every problem is reported at once (`errors.Invalid.fields`). A JSON
body may leave fields out: creating, they take the defaults below; changing,
they keep the cycle's values (PATCH). `check_cycle` holds the cross-field rules
and is also what the operations apply to settings built in code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from reviews.cycles.models import Cycle, ParticipantMode
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext, ngettext
from reviews.people.lookup import find_people, person_field
from reviews.people.models import Department, Person

# Anonymous peer feedback needs at least this many authors before anyone reads it.
MIN_ANONYMITY_THRESHOLD = 3
# The widest band around the guidance, in points: beyond it nothing is ever flagged.
MAX_GUIDANCE_TOLERANCE = 25
MAX_NAME = 120


@dataclass
class CycleFields:
    name: str
    period_start: date
    period_end: date
    participant_mode: ParticipantMode
    department_ids: list[int]
    participant_ids: list[int]
    self_review_due: date | None
    peer_feedback_due: date | None
    manager_review_due: date | None
    calibration_due: date | None
    peer_min: int
    peer_max: int
    peer_anonymous: bool
    anonymity_threshold: int
    peer_names_to_managers: bool
    reviewer_load_cap: int
    guidance: list[int]
    upward_feedback: bool = False
    guidance_tolerance: int = 5  # whole points either side of each guidance share
    # part -> the review template it asks (reviews.review_templates); none: built-in
    template_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def for_everyone(cls, name: str, today: date, **overrides: Any) -> CycleFields:
        """The usual cycle: everyone, the half ending `today`, a phase a week, the
        new-cycle page's defaults (demo data, the benchmark and tests start here)."""
        values: dict[str, Any] = {
            "name": name,
            "period_start": today - timedelta(days=180),
            "period_end": today,
            "participant_mode": ParticipantMode.ALL,
            "department_ids": [],
            "participant_ids": [],
            "self_review_due": today + timedelta(days=7),
            "peer_feedback_due": today + timedelta(days=14),
            "manager_review_due": today + timedelta(days=21),
            "calibration_due": today + timedelta(days=28),
            **DEFAULTS,
        }
        return cls(**{**values, **overrides})


# What a new cycle gets for every setting the form or the JSON body leaves out.
DEFAULTS: dict[str, Any] = {
    "peer_min": 3,
    "peer_max": 5,
    "peer_anonymous": True,
    "anonymity_threshold": 3,
    "peer_names_to_managers": True,
    "reviewer_load_cap": 5,
    "guidance": [5, 20, 50, 20, 5],
    "upward_feedback": False,
    "guidance_tolerance": 5,
}
DEADLINES = ("self_review_due", "peer_feedback_due", "manager_review_due", "calibration_due")
FIELD_NAMES = tuple(f.name for f in fields(CycleFields))


def check_cycle(f: CycleFields) -> dict[str, str]:
    """Every rule that ties a cycle's settings together, as errors by field."""
    return _rules({name: getattr(f, name) for name in FIELD_NAMES})


def _rules(v: dict[str, Any]) -> dict[str, str]:
    """The cross-field rules over whatever values are known (None: not valid itself, so
    already reported), so that one post reports every problem at once."""
    errors: dict[str, str] = {}

    def known(*names: str) -> bool:
        return all(v.get(n) is not None for n in names)

    if known("name") and not v["name"].strip():
        errors["name"] = gettext("Give the cycle a name.")
    if known("period_start", "period_end") and v["period_start"] > v["period_end"]:
        errors["period_end"] = gettext("The period must end after it starts.")
    if known("peer_min", "peer_max") and v["peer_min"] > v["peer_max"]:
        errors["peer_min"] = gettext("The minimum cannot be above the maximum.")
    guidance = v.get("guidance")
    if guidance is not None and (
        len(guidance) != 5 or any(not 0 <= g <= 100 for g in guidance) or sum(guidance) != 100
    ):
        errors["guidance"] = gettext("The five guidance percentages must add up to 100.")
    days = [v[n] for n in DEADLINES if v.get(n) is not None]
    if days != sorted(days):
        errors["peer_feedback_due"] = gettext(
            "Phase deadlines must follow the order of the phases."
        )
    if (
        known("peer_anonymous", "anonymity_threshold")
        and v["peer_anonymous"]
        and v["anonymity_threshold"] < MIN_ANONYMITY_THRESHOLD
    ):
        errors["anonymity_threshold"] = gettext(
            "Anonymous peer feedback needs a threshold of at least %(min)d: "
            "with fewer, people can tell who wrote what.",
            min=MIN_ANONYMITY_THRESHOLD,
        )
    mode = v.get("participant_mode")
    if mode == ParticipantMode.DEPARTMENTS and not v.get("department_ids"):
        errors["department_ids"] = gettext("Choose at least one department.")
    if mode == ParticipantMode.LIST and not v.get("participant_ids"):
        errors.setdefault("participant_emails", gettext("List at least one participant."))
    return errors


def cycle_warnings(cycle: Cycle | CycleFields) -> list[tuple[str, str]]:
    """Settings that are allowed but probably not meant: (field, what to know)."""
    found = []
    if cycle.peer_anonymous and cycle.anonymity_threshold > cycle.peer_min:
        found.append(
            (
                "peer_min",
                # English says "peers" even for one; other languages choose a form
                ngettext(
                    "The anonymity threshold (%(threshold)d) is above the minimum of peers "
                    "(%(num)d): people with only %(num)d peers will never see their peer "
                    "feedback. Raise the minimum to the threshold.",
                    "The anonymity threshold (%(threshold)d) is above the minimum of peers "
                    "(%(num)d): people with only %(num)d peers will never see their peer "
                    "feedback. Raise the minimum to the threshold.",
                    cycle.peer_min,
                    threshold=cycle.anonymity_threshold,
                ),
            )
        )
    return found


def _guidance(data: Fields) -> list[int]:
    raw = data.raw("guidance")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        data.error("guidance", gettext("Enter the guidance distribution, e.g. 5/20/50/20/5."))
        return []
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.replace(",", "/").split("/")]
        if all(p.isdigit() and len(p) < 4 for p in parts):
            return [int(p) for p in parts]
    elif isinstance(raw, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        return list(raw)
    data.error("guidance", gettext("Write five whole percentages separated by /."))
    return []


def _tolerance(data: Fields, kept: int) -> int | None:
    """Points either side of each guidance share. A form from before the setting existed
    does not post it at all (a cleared field posts it blank): it keeps `kept`."""
    if not data.has("guidance_tolerance") or (data.form and data.raw("guidance_tolerance") is None):
        return kept
    message = gettext(
        "Enter the tolerance as whole points from 0 to %(max)d.", max=MAX_GUIDANCE_TOLERANCE
    )
    return data.integer(
        "guidance_tolerance", 0, MAX_GUIDANCE_TOLERANCE, required=message, invalid=message
    )


def _participants(data: Fields, current: Cycle | None) -> list[int]:
    """The cycle's list of people: on the form one per line, each a name or an email
    (several emails may share a line); in JSON an array of emails or names."""
    if not data.has("participant_emails"):
        return [p.id for p in current.participants] if current else []
    if data.form:
        text = data.text("participant_emails", max_length=200_000)
        entries: list[str] = []
        for line in re.split(r"[\n,;]+", text):
            line = line.strip()
            # "a@x.com b@x.com" on one line is two emails; "Mei Chen" is one name.
            entries += line.split() if "@" in line else ([line] if line else [])
    else:
        entries = data.words("participant_emails", max_length=200_000)
    if not entries:
        return []
    ids, problems = find_people(entries)
    if problems:
        shown = "; ".join(problems[:5])
        shown = f"{shown[0].upper()}{shown[1:]}"
        more = len(problems) - 5
        data.error(
            "participant_emails",
            ngettext(
                "%(problems)s and %(num)d more.",
                "%(problems)s and %(num)d more.",
                more,
                problems=shown,
            )
            if more > 0
            else gettext("%(problems)s.", problems=shown),
        )
    return ids


def _departments(data: Fields, current: Cycle | None) -> list[int]:
    if not data.has("department_ids"):
        return [d.id for d in current.departments] if current else []
    ids = data.ids("department_ids")
    if ids:
        known = set(db.session.scalars(select(Department.id).where(Department.id.in_(ids))))
        if set(ids) - known:
            data.error("department_ids", gettext("Choose departments from the list."))
    return sorted(set(ids))


TEMPLATE_FIELDS = {part: f"{part}_template" for part in ("self", "peer", "manager", "upward")}


def _templates(data: Fields, current: Cycle | None) -> dict[str, int]:
    """The template each part asks (`<part>_template`: an id, or empty / null for the
    built-in questions): a template of that part, not archived unless already chosen."""
    from reviews.review_templates.models import ReviewTemplate
    from reviews.review_templates.queries import chosen

    kept = {part: row.id for part, row in chosen(current).items()} if current else {}
    out = dict(kept)
    for part, name in TEMPLATE_FIELDS.items():
        if not data.has(name):
            continue
        raw = data.raw(name)
        if raw is None or raw == "":
            out.pop(part, None)
            continue
        if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10:
            raw = int(raw)
        row = (
            db.session.get(ReviewTemplate, raw)
            if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31
            else None
        )
        if row is None or row.part.value != part:
            data.error(
                name, gettext("Choose a template of this part from the list, or the built-in one.")
            )
        elif row.archived_at is not None and kept.get(part) != row.id:
            data.error(
                name, gettext("“%(name)s” is archived; choose another template.", name=row.name)
            )
        else:
            out[part] = row.id
    return out


def parse_cycle(data: Fields, current: Cycle | None = None) -> CycleFields:
    """A cycle's settings from a form or a JSON body, or Invalid naming every problem.

    `current` is the cycle being changed: what the input leaves out keeps its value."""

    def keep(name: str) -> Any:
        if current is not None:
            return getattr(current, name)
        return DEFAULTS.get(name)

    def given(name: str) -> bool:
        return data.has(name)

    values: dict[str, Any] = {}
    values["name"] = (
        data.text("name", max_length=MAX_NAME, required=gettext("Give the cycle a name."))
        if given("name")
        else keep("name") or ""
    )
    for name, missing in (
        ("period_start", gettext("Enter the day the period starts.")),
        ("period_end", gettext("Enter the day the period ends.")),
    ):
        values[name] = data.day(name, required=missing) if given(name) else keep(name)
        if values[name] is None and data.ok(name):
            data.error(name, missing)
    mode = (
        data.choice("participant_mode", [m.value for m in ParticipantMode])
        if given("participant_mode")
        else None
    )
    values["participant_mode"] = (
        ParticipantMode(mode) if mode else keep("participant_mode") or ParticipantMode.ALL
    )
    values["department_ids"] = _departments(data, current)
    values["participant_ids"] = _participants(data, current)
    for name in DEADLINES:
        values[name] = data.day(name) if given(name) else keep(name)
    for name, low, high in (
        ("peer_min", 0, 20),
        ("peer_max", 1, 20),
        ("anonymity_threshold", 1, 20),
        ("reviewer_load_cap", 1, 50),
    ):
        values[name] = (
            data.integer(name, low, high, required=gettext("Enter a number."))
            if given(name)
            else keep(name)
        )
    for name in ("peer_anonymous", "peer_names_to_managers", "upward_feedback"):
        values[name] = data.boolean(name) if given(name) else keep(name)
    values["guidance"] = _guidance(data) if given("guidance") else list(keep("guidance"))
    values["guidance_tolerance"] = _tolerance(data, keep("guidance_tolerance"))
    values["template_ids"] = _templates(data, current)
    for name in data.errors:  # malformed on its own: no cross-field rule on it
        values[name] = None
    for name, message in _rules(values).items():
        data.error(name, message)
    data.check()
    return CycleFields(**values)


@dataclass(frozen=True)
class Nomination:
    peer: Person


def parse_nomination(data: Fields) -> Nomination:
    """The colleague asked for peer feedback, by name or email."""
    peer = person_field(data, "email", required=gettext("Enter your colleague's name or email."))
    data.check()
    assert peer is not None  # noqa: S101
    return Nomination(peer)


def parse_decline(data: Fields) -> str:
    reason = data.text(
        "reason",
        max_length=1000,
        required=gettext("Say briefly why you decline, so that a replacement can be found."),
    )
    data.check()
    return reason
