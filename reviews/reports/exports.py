"""The cycle report (CSV and XLSX) and the calibration ledger, streamed from the database.

Each export is one SELECT read through a server-side cursor a batch at a time
(`reviews.reports.streaming`: on PostgreSQL fetched by a thread while the writer
works; SQLite's cursor reads as it goes):
plain rows, never ORM objects, so memory stays flat whatever the size of the cycle,
and the number of statements does not grow with it. The database computes what it
cheaply can for each row (names, states and labels as people read them, counts, the
day of acknowledgement, whether the peer average may be shown); the ratings come as
JSON text, which Python decodes and averages several times faster than PostgreSQL's
json functions take it apart. Each row is finished once, then written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Date, Select, String, Text, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import aliased

from reviews.calibration.models import CalibrationChange, CalibrationSession
from reviews.calibration.scoring import mean
from reviews.cycles.models import Assessment, Cycle, PartKind, PartState, Review
from reviews.cycles.parts import POTENTIAL, READINESS
from reviews.cycles.reading import cycle_policy
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.visibility import CyclePolicy, Viewer, peer_figures_shown
from reviews.db import json_loads
from reviews.extensions import db
from reviews.framework.wording import written
from reviews.languages import gettext, lazy_gettext
from reviews.people.models import Department, Person
from reviews.reports import streaming
from reviews.reports.queries import Scope
from reviews.reports.spreadsheets import Column, Kind
from reviews.review_templates.definition import Question
from reviews.review_templates.queries import templates_of

TEXT, LABEL, NUMBER = Kind.TEXT, Kind.LABEL, Kind.NUMBER
# The report's columns (SPEC 7), headed as people read them.
REPORT_FIXED = [
    Column("Employee", 24, TEXT),
    Column("Email", 30, TEXT),
    Column("Department", 20, LABEL),
    Column("Level", 20, LABEL),
    Column("Manager", 24, TEXT),
    Column("Self-review", 12, LABEL),
    Column("Peers approved", 10, NUMBER),
    Column("Peer feedback received", 11, NUMBER),
    Column("Manager review", 12, LABEL),
    Column("Calibrated", 11, LABEL),
    Column("Self average", 10, NUMBER),
    Column("Peer average", 10, NUMBER),
    Column("Manager average", 10, NUMBER),
    Column("Manager overall rating", 11, NUMBER),
    Column("Final rating", 10, NUMBER),
]
REPORT_TAIL = [
    Column("Potential", 11, LABEL),
    Column("Promotion readiness", 14, LABEL),
    Column("Acknowledged on", 14, Kind.DAY),
]
# The cells are as people read them, in the reader's language (the headings above stay
# English: scripts read them).
PART_STATES = {
    None: lazy_gettext("Not started"),
    "draft": lazy_gettext("Draft"),
    "submitted": lazy_gettext("Submitted"),
}


def _snapshot(cycle: Cycle) -> FrameworkSnapshot | None:
    """The framework the cycle froze at launch (None for a cycle without one)."""
    return FrameworkSnapshot(cycle.framework_snapshot) if cycle.framework_snapshot else None


# Who reads a report: HR every answer, a manager (their org's report) those meant for the
# manager line (review_templates.definition.AUDIENCES).
HR_READS = frozenset({"part", "line", "hr"})
LINE_READS = frozenset({"part", "line"})


def report_questions(cycle: Cycle, audiences: frozenset[str]) -> list[tuple[str, Question]]:
    """The self-review's and manager review's questions the reader may read, in the
    order of the cycle's templates: a column each. Peer answers have none: a column of
    a peer's answers would sit beside the review it was about."""
    templates = templates_of(cycle, ("self", "manager"))
    return [
        (part, q)
        for part in ("self", "manager")
        for q in templates[part].questions
        if q.audience in audiences
    ]


def report_header(cycle: Cycle, audiences: frozenset[str] = LINE_READS) -> list[Column]:
    """The fixed columns, one "Final: <competency>" per competency of the cycle's
    framework, then potential, readiness and acknowledgement, then one per question of
    the self-review and manager review that the reader may read."""
    with written():  # the headings name the texts as written, whoever downloads
        snapshot = _snapshot(cycle)
        competencies = snapshot.competencies if snapshot else []
        finals = [
            Column(f"Final: {c.name}", max(12, min(28, len(c.name) + 8)), NUMBER)
            for c in competencies
        ]
        asked = [
            Column(f"{'Self' if part == 'self' else 'Manager'}: {q.label}", 30, TEXT)
            for part, q in report_questions(cycle, audiences)
        ]
    return REPORT_FIXED + finals + REPORT_TAIL + asked


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _label(value: Any, labels: dict[str, Any], otherwise: Any = "") -> Any:
    """A stored value as people read it (`otherwise` for NULL or an unknown value); the
    labels, lazy strings included, go to the database as the reader's text."""
    return case(
        {k: str(v) for k, v in labels.items()},
        value=type_coerce(value, String),
        else_=literal(str(otherwise)),
    )


def _utc_day(moment: Any) -> Any:
    """The UTC calendar day of a UTCDateTime column (SQLite keeps naive UTC text)."""
    if _postgresql():
        return cast(func.timezone("UTC", moment), Date)
    return type_coerce(func.date(moment), Date)


def _peers_shown_from(policy: CyclePolicy) -> int:
    """The fewest submitted peer parts from which HR sees the peer average: the
    threshold, or none at all where the cycle shows authors to managers and HR
    (`visibility.peer_figures_shown` decides; it only grows with the count)."""
    return next(
        n for n in range(max(policy.threshold, 0) + 1) if peer_figures_shown(Viewer.HR, policy, n)
    )


def report_select(
    cycle: Cycle, scope: Scope | None = None, audiences: frozenset[str] = LINE_READS
) -> Select[Any]:
    """The report's one statement: a row per review, in review order, each cell as the
    report shows it except the ratings, as JSON text: the submitted self and manager
    parts', the submitted peer parts' (one after another, comma-separated) and the
    calibrated final ones (NULL where they are the manager's). `report_batches`
    turns them into the averages and the final ratings.

    No peer identity is in any column: peers appear only as counts and an average, and
    the average only where the cycle shows authors to managers and HR or at least its
    threshold of peers responded (`visibility.peer_figures_shown`). The counts are the
    review's own counters (reviews.cycles.counters), kept by triggers.
    """
    scope = scope or Scope()
    snapshot = _snapshot(cycle)
    subject, manager = aliased(Person), aliased(Person)
    own, boss, peer = aliased(Assessment), aliased(Assessment), aliased(Assessment)
    boss_done = boss.state == PartState.SUBMITTED
    boss_ratings = cast(boss.ratings, Text)
    level: Any = func.coalesce(Review.level_key, "")
    if snapshot is not None:
        names: dict[str, str] = {}
        for each in snapshot.levels:
            names.setdefault(each["key"], str(each["name"]))  # the first, as level_name
        no_level = gettext("No level")
        level = _label(Review.level_key, names, no_level) if names else literal(no_level)
    states = {k: v for k, v in PART_STATES.items() if k is not None}
    # The submitted peer parts' ratings, one JSON document after another; only where
    # HR may see their average (a part without ratings counts, and adds no value).
    peer_ratings: Any = (
        select(func.aggregate_strings(cast(peer.ratings, Text), ","))
        .where(
            peer.review_id == Review.id,
            peer.kind == PartKind.PEER,
            peer.state == PartState.SUBMITTED,
        )
        .scalar_subquery()
    )
    shown_from = _peers_shown_from(cycle_policy(cycle))
    if shown_from > 0:
        peer_ratings = case((Review.peers_done >= shown_from, peer_ratings))
    stmt: Select[Any] = scope.apply(
        select(
            subject.name,
            subject.email,
            func.coalesce(Department.name, ""),
            level,
            func.coalesce(manager.name, ""),
            _label(own.state, states, PART_STATES[None]),
            Review.peers_approved,
            Review.peers_done,
            _label(boss.state, states, PART_STATES[None]),
            case((Review.final_locked, gettext("Yes")), else_=gettext("No")),
            # ratings as JSON text: Python decodes a document several times faster
            # than PostgreSQL's json functions take it apart
            case((own.state == PartState.SUBMITTED, cast(own.ratings, Text))),
            peer_ratings,
            case((boss_done, boss_ratings)),
            case((boss_done, boss.overall_rating)),
            Review.final_rating,
            # NULL where calibration kept the manager's ratings (as it mostly does):
            # the manager part's document, decoded once, serves as the final one
            case(
                (boss_done & (cast(Review.final_ratings, Text) == boss_ratings), None),
                else_=cast(Review.final_ratings, Text),
            ),
            _label(
                func.coalesce(
                    type_coerce(Review.final_potential, String),
                    case((boss_done, type_coerce(boss.potential, String))),
                ),
                POTENTIAL,
            ),
            _label(case((boss_done, type_coerce(boss.promotion_readiness, String))), READINESS),
            _utc_day(Review.acknowledged_at),
            # a column per question the reader may read (report_questions): a free-text
            # answer as text, taken out by the database, a chosen one as JSON text
            *(
                case(
                    (
                        (own if part == "self" else boss).state == PartState.SUBMITTED,
                        (own if part == "self" else boss).answers[q.key].as_string()
                        if q.kind == "text"
                        else cast((own if part == "self" else boss).choices[q.key], Text),
                    )
                )
                for part, q in report_questions(cycle, audiences)
            ),
            Review.subject_id,
        )
        .join(subject, subject.id == Review.subject_id)
        .outerjoin(manager, manager.id == Review.manager_id)
        .outerjoin(Department, Department.id == Review.department_id)
        .outerjoin(own, (own.review_id == Review.id) & (own.kind == PartKind.SELF))
        .outerjoin(boss, (boss.review_id == Review.id) & (boss.kind == PartKind.MANAGER))
        .where(Review.cycle_id == cycle.id)
    )
    return stmt.order_by(Review.id)


def _mean(ratings: dict[str, int] | None) -> float | None:
    """A part's average as the pages show it (rounded as Python rounds)."""
    return round(mean(list(ratings.values())), 2) if ratings else None


def _peer_mean(documents: str | None) -> float | None:
    """The average of every rating in the peer parts' documents ("{...},{...}"), as
    SQL's avg over their values would be."""
    if documents is None:
        return None
    parts = [ratings for ratings in json_loads(f"[{documents}]") if ratings]
    try:
        total = sum(map(sum, map(dict.values, parts)))
        count = sum(map(len, parts))
    except TypeError:  # a null among the values: not a rating
        values = [v for ratings in parts for v in ratings.values() if v is not None]
        total, count = sum(values), len(values)
    return round(total / count, 2) if count else None


def report_batches(
    cycle: Cycle,
    scope: Scope | None = None,
    audiences: frozenset[str] = LINE_READS,
    reader_id: int | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """The report's rows (as `report_header` heads them), a batch at a time. On the
    reader's own row (HR and managers take part in cycles too) the answers are what its
    subject reads: their own, and of the manager's review those meant for everyone,
    once released (cycles.reading)."""
    from reviews.cycles.workflow import CycleState, reached

    released = reached(cycle.state, CycleState.RELEASED)
    snapshot = _snapshot(cycle)
    keys = snapshot.keys if snapshot else []
    loads = json_loads
    asked = report_questions(cycle, audiences)

    # How each answer column becomes its cell: free text as the database gave it; a
    # chosen answer (JSON text) as people read it. On the reader's own row, a column
    # they may not read there stays empty.
    chosen = [None if q.kind == "text" else q for _part, q in asked]
    own_row = [part == "self" or (released and q.audience == "part") for part, q in asked]

    def cell(question: Any, value: Any) -> Any:
        if value is None:
            return ""
        return value if question is None else question.as_text(loads(value))

    def finish(rows: Sequence[Any]) -> list[tuple[Any, ...]]:
        finished = []
        for row in rows:
            # the first ten cells go out as the database gave them; then the ratings'
            # documents and fixed fields, a column per question, and the subject's id
            fixed = row[10:19]
            own, peers, boss, overall, final, finals, potential, readiness, acknowledged = fixed
            boss = boss and loads(boss)
            # the calibrated ratings, else the submitted manager part's (NULL: the same)
            finals = (finals and loads(finals)) or boss or {}
            cells = list(map(cell, chosen, row[19:-1]))
            if row[-1] == reader_id:
                cells = [c if shown else "" for c, shown in zip(cells, own_row, strict=True)]
            finished.append(
                (
                    *row[:10],
                    _mean(own and loads(own)),
                    _peer_mean(peers),
                    _mean(boss),
                    overall,
                    final,
                    *map(finals.get, keys),
                    potential,
                    readiness,
                    acknowledged,
                    *cells,
                )
            )
        return finished

    return streaming.batches(report_select(cycle, scope, audiences), finish)


def report_rows(
    cycle: Cycle,
    scope: Scope | None = None,
    audiences: frozenset[str] = LINE_READS,
    reader_id: int | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The report's rows one by one (see `report_batches`)."""
    for batch in report_batches(cycle, scope, audiences, reader_id):
        yield from batch


LEDGER_HEADER = [
    Column("When (UTC)", 19, Kind.MOMENT),
    Column("Employee", 24, TEXT),
    Column("Email", 30, TEXT),
    Column("Session", 24, LABEL),
    Column("What changed", 24, LABEL),
    Column("From", 10),
    Column("To", 10),
    Column("By", 24, LABEL),
    Column("Rationale", 60, TEXT),
]


def _field_labels(snapshot: FrameworkSnapshot | None) -> dict[str, str]:
    """The ledger's field keys as people read them: "overall" -> "Overall rating",
    a competency's key -> "Rating: <competency>" (any other key as it is)."""
    labels = {
        competency.key: gettext("Rating: %(competency)s", competency=competency.name)
        for competency in (snapshot.competencies if snapshot is not None else [])
    }
    return {**labels, "overall": gettext("Overall rating"), "potential": gettext("Potential")}


def _ledger_value(field_name: str, value: str | None, potential: dict[str, str]) -> Any:
    if value is None or value == "":
        return None
    if field_name == "potential":
        return potential.get(value, value)
    return int(value) if value.isdigit() else value


def ledger_batches(cycle: Cycle, scope: Scope | None = None) -> Iterator[list[list[Any]]]:
    """Every calibration change of the cycle, oldest first, a batch at a time."""
    scope = scope or Scope()
    fields = _field_labels(_snapshot(cycle))
    potential = {k: str(v) for k, v in POTENTIAL.items()}
    # the reader's words, read once (each batch is finished while the response streams)
    unsessioned = gettext("Finalised without a session")
    automatic = gettext("Reviews (automatic)")
    subject, actor = aliased(Person), aliased(Person)
    stmt = scope.apply(
        select(
            CalibrationChange.at,
            subject.name,
            subject.email,
            CalibrationSession.name,
            CalibrationChange.field,
            CalibrationChange.old_value,
            CalibrationChange.new_value,
            actor.name,
            CalibrationChange.rationale,
        )
        .select_from(CalibrationChange)
        .join(Review, Review.id == CalibrationChange.review_id)
        .join(subject, subject.id == Review.subject_id)
        .outerjoin(actor, actor.id == CalibrationChange.actor_id)
        .outerjoin(CalibrationSession, CalibrationSession.id == CalibrationChange.session_id)
        .where(Review.cycle_id == cycle.id)
    ).order_by(CalibrationChange.at, CalibrationChange.id)

    def finish(rows: Sequence[Any]) -> list[list[Any]]:
        return [
            [
                at.replace(tzinfo=None, microsecond=0),  # UTC, as the heading says
                name,
                email,
                session or unsessioned,
                fields.get(field_name, field_name),
                _ledger_value(field_name, old, potential),
                _ledger_value(field_name, new, potential),
                by or automatic,
                why,
            ]
            for at, name, email, session, field_name, old, new, by, why in rows
        ]

    return streaming.streamed(stmt, finish)
