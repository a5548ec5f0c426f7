"""Everything the calibration page shows, in a constant number of statements.

`session_data` reads what every figure needs for the whole group (one row of
plain columns per person, the self and manager parts' ratings, the coach's
stored figures summed in SQL); `add_details` reads what only a shown row needs
(peer figures, cited evidence, final competency ratings), so the page pays for
the rows it shows, not for the size of the group.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Select, String, func, select, type_coerce
from sqlalchemy.orm import aliased, joinedload

from reviews.calibration.models import CalibrationChange, CalibrationMember, CalibrationSession
from reviews.calibration.raters import Observation, RaterModel, fit
from reviews.calibration.scoring import Bucket, distribution, mean, self_manager_gap
from reviews.coach.analysis import text_quality
from reviews.cycles.models import Assessment, PartKind, PartState, Review
from reviews.cycles.reading import cycle_policy
from reviews.cycles.visibility import Viewer, peer_figures_shown
from reviews.evidence.citations import unsupported_extremes
from reviews.extensions import db
from reviews.people.models import Department, Person


@dataclass
class PersonRow:
    review_id: int
    subject_id: int
    name: str
    manager_id: int | None
    manager_name: str
    department: str
    level_key: str | None
    final: int | None
    final_potential: str | None
    final_version: int
    self_avg: float | None
    manager_ratings: dict[str, int]
    manager_overall: int | None
    potential: str | None
    readiness: str | None
    suggestion: int | None
    gap: float | None
    suggestion_reason: str | None = None
    changes: int = 0
    # Read by add_details, for the rows shown only:
    detailed: bool = False
    peer_avg: float | None = None
    # None where the cycle keeps peer authors from calibrators and fewer than its
    # threshold of peers responded: figures below it are withheld, counts included
    peer_count: int | None = 0
    final_ratings: dict[str, int] | None = None
    # competencies rated 1 or 5 (final, else the manager's) that no part cites evidence for
    unsupported: list[str] = field(default_factory=list)


@dataclass
class SessionData:
    rows: list[PersonRow]
    model: RaterModel
    team_gap: dict[int, float]
    manager_names: dict[int, str]
    ledger: list[CalibrationChange] = field(default_factory=list)
    ledger_total: int = 0
    # per manager: (texts, share with evidence, personality words per text), or None
    # when the manager reviewed too few people for figures that protect each comment
    quality: dict[int, tuple[int, float, float] | None] = field(default_factory=dict)
    # the cycle's band around each guidance share, as a share (its points / 100)
    tolerance: float = 0.05

    def buckets(self, guidance: list[int]) -> list[Bucket]:
        return distribution(
            [r.final for r in self.rows if r.final is not None], guidance, self.tolerance
        )


MIN_QUALITY_GROUP = 5
# Above this many rows, add_details reads the whole group rather than an IN list.
DETAIL_IN_LIMIT = 500


def quality_shares(texts: int, evidence: int, personal: int) -> tuple[int, float, float]:
    """(number of texts, share naming evidence, personality-type words per text)."""
    if not texts:
        return 0, 0.0, 0.0
    return texts, evidence / texts, personal / texts


def _members(session: CalibrationSession, viewer_id: int | None) -> Any:
    """Reviews of the session, the viewer's own left out (as a subquery of ids).

    The viewer's own review is found by its unique (cycle, subject) key, not by
    joining every member's review to compare subjects (PostgreSQL then read the
    whole review table for each of the page's queries)."""
    own = (
        select(Review.id)
        .where(Review.cycle_id == session.cycle_id, Review.subject_id == (viewer_id or -1))
        .scalar_subquery()
    )
    return (
        select(CalibrationMember.review_id)
        .where(
            CalibrationMember.session_id == session.id,
            CalibrationMember.review_id != func.coalesce(own, -1),
        )
        .scalar_subquery()
    )


def session_data(
    session: CalibrationSession, viewer_id: int | None = None, *, ledger_limit: int | None = None
) -> SessionData:
    """The session's people and figures; the viewer's own review is left out entirely
    (numbers included): a calibrator may not see it before release."""
    members = _members(session, viewer_id)
    subject, manager = aliased(Person), aliased(Person)
    # Plain rows through the connection, enums as their strings: no ORM rows to build.
    connection = db.session.connection()
    people = connection.execute(
        select(
            Review.id,
            Review.subject_id,
            subject.name,
            Review.manager_id,
            manager.name,
            Department.name,
            Review.level_key,
            Review.final_rating,
            type_coerce(Review.final_potential, String),
            Review.final_version,
        )
        .join(subject, subject.id == Review.subject_id)
        .outerjoin(manager, manager.id == Review.manager_id)
        .outerjoin(Department, Department.id == Review.department_id)
        .where(Review.id.in_(members))
    ).all()
    parts = connection.execute(
        select(
            Assessment.review_id,
            type_coerce(Assessment.kind, String),
            Assessment.author_id,
            Assessment.ratings,
            Assessment.overall_rating,
            type_coerce(Assessment.potential, String),
            type_coerce(Assessment.promotion_readiness, String),
        ).where(
            Assessment.review_id.in_(members),
            Assessment.kind.in_((PartKind.SELF, PartKind.MANAGER)),
            Assessment.state == PartState.SUBMITTED,
        )
    ).all()
    changes_per_review: dict[int, int] = dict(
        db.session.execute(
            select(CalibrationChange.review_id, func.count())
            .where(
                CalibrationChange.session_id == session.id,
                CalibrationChange.review_id.in_(members),
            )
            .group_by(CalibrationChange.review_id)
        ).all()
    )
    ledger_query = (
        select(CalibrationChange)
        .where(CalibrationChange.session_id == session.id, CalibrationChange.review_id.in_(members))
        .options(
            joinedload(CalibrationChange.actor),
            joinedload(CalibrationChange.review).joinedload(Review.subject),
        )
        .order_by(CalibrationChange.at.desc(), CalibrationChange.id.desc())
    )
    if ledger_limit is not None:
        ledger_query = ledger_query.limit(ledger_limit)
    ledger = list(db.session.scalars(ledger_query)) if ledger_limit != 0 else []

    self_parts: dict[int, Mapping[str, int]] = {}
    manager_parts: dict[int, tuple[Mapping[str, int], int | None, str | None, str | None]] = {}
    proposer: dict[int, int] = {}  # review -> author of its submitted manager part
    for review_id, kind, author_id, ratings, overall, potential, readiness in parts:
        if kind == PartKind.SELF.value:
            self_parts[review_id] = ratings
        else:
            manager_parts[review_id] = (ratings, overall, potential, readiness)
            proposer[review_id] = author_id
    model = rater_model(session, members, people, proposer, manager_parts)
    reviewed: dict[int, int] = {}
    for rid, author in proposer.items():
        if manager_parts[rid][1] is not None:
            reviewed[author] = reviewed.get(author, 0) + 1
    rows = []
    gaps_by_manager: dict[int, list[float]] = {}
    names: dict[int, str] = {}
    for (
        rid,
        subject_id,
        name,
        manager_id,
        manager_name,
        department,
        level_key,
        final,
        final_potential,
        final_version,
    ) in people:
        own = self_parts.get(rid)
        proposal = manager_parts.get(rid)
        gap = self_manager_gap(own, proposal[0]) if own and proposal else None
        if gap is not None and manager_id:
            gaps_by_manager.setdefault(manager_id, []).append(gap)
        if manager_id and manager_name:
            names[manager_id] = manager_name
        suggestion = reason = None
        if proposal and proposal[1] is not None:
            suggestion, reason = model.suggestion(proposer.get(rid), proposal[1])
        rows.append(
            PersonRow(
                review_id=rid,
                subject_id=subject_id,
                name=name,
                manager_id=manager_id,
                manager_name=manager_name or "",
                department=department or "",
                level_key=level_key,
                final=final,
                final_potential=final_potential,
                final_version=final_version,
                self_avg=mean(list(own.values())) if own else None,
                manager_ratings=dict(proposal[0]) if proposal else {},
                manager_overall=proposal[1] if proposal else None,
                potential=proposal[2] if proposal else None,
                readiness=proposal[3] if proposal else None,
                suggestion=suggestion,
                suggestion_reason=reason,
                gap=gap,
                changes=changes_per_review.get(rid, 0),
            )
        )
    return SessionData(
        rows=rows,
        model=model,
        team_gap={m: mean(g) for m, g in gaps_by_manager.items()},
        quality={
            m: quality_shares(*figures[1:]) if reviewed.get(m, 0) >= MIN_QUALITY_GROUP else None
            for m, figures in quality_by_author(members).items()
        },
        manager_names=names,
        ledger=ledger,
        ledger_total=sum(changes_per_review.values()),
        tolerance=session.cycle.guidance_tolerance / 100,
    )


MODEL_CACHE = 64  # fitted models kept per application process
MODEL_LOCK = threading.Lock()


def rater_model(
    session: CalibrationSession,
    members: Any,
    people: Sequence[Any],
    proposer: Mapping[int, int],
    manager_parts: Mapping[int, tuple[Mapping[str, int], Any, Any, Any]],
) -> RaterModel:
    """The group's rater-effects model, fitted again only when its ratings changed.

    The fingerprint (members, and the count and versions of their submitted peer and
    manager parts: every save bumps a part's version) costs one aggregate statement;
    a changed one reads the peer parts' ratings and fits. Each process keeps its last
    fits; the viewer's own review, left out of `members`, changes the fingerprint."""
    count, versions = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Assessment.version), 0)).where(
            Assessment.review_id.in_(members),
            Assessment.kind.in_((PartKind.PEER, PartKind.MANAGER)),
            Assessment.state == PartState.SUBMITTED,
        )
    ).one()
    key = (
        session.id,
        len(people),
        sum(row[1] for row in people),
        int(count),
        int(versions),
    )
    cache: dict[tuple[int, ...], RaterModel] = current_app.extensions.setdefault("rater_models", {})
    if (found := cache.get(key)) is not None:
        return found
    subject = {row[0]: row[1] for row in people}
    observations = [
        Observation(proposer[rid], subject[rid], mean(list(ratings.values())))
        for rid, (ratings, *_rest) in manager_parts.items()
        if ratings
    ]
    for review_id, author_id, ratings in db.session.execute(
        select(Assessment.review_id, Assessment.author_id, Assessment.ratings).where(
            Assessment.review_id.in_(members),
            Assessment.kind == PartKind.PEER,
            Assessment.state == PartState.SUBMITTED,
        )
    ):
        if ratings and review_id in subject:
            observations.append(
                Observation(author_id, subject[review_id], mean(list(ratings.values())))
            )
    team: dict[int, int | None] = {subject[rid]: author for rid, author in proposer.items()}
    model = fit(observations, team)
    with MODEL_LOCK:  # threaded servers: one writer at a time, oldest fits dropped first
        while len(cache) >= MODEL_CACHE:
            cache.pop(next(iter(cache)))
        cache[key] = model
    return model


def quality_by_author(
    reviews: Any, authors: list[int] | None = None
) -> dict[int, tuple[int, int, int, int]]:
    """Per author of a submitted manager part of these reviews (a subquery of ids),
    or of those `authors` only: (parts, texts, texts naming evidence, personality
    words), the coach's stored figures summed in SQL. A part whose figures were never
    stored (written straight into the database) is analysed here."""
    mine: tuple[Any, ...] = (
        Assessment.review_id.in_(reviews),
        Assessment.kind == PartKind.MANAGER,
        Assessment.state == PartState.SUBMITTED,
    )
    if authors is not None:  # read by author from its index, not the whole cycle
        mine = (*mine, Assessment.author_id.in_(authors or [-1]))
    totals: dict[int, tuple[int, int, int, int]] = {
        author: (int(n), int(t or 0), int(e or 0), int(p or 0))
        for author, n, t, e, p in db.session.execute(
            select(
                Assessment.author_id,
                func.count(),
                func.sum(Assessment.quality_texts),
                func.sum(Assessment.quality_evidence),
                func.sum(Assessment.quality_personal),
            )
            .where(*mine)
            .group_by(Assessment.author_id)
        )
    }
    unstored = db.session.execute(
        select(Assessment.author_id, Assessment.comments, Assessment.answers)
        .where(*mine, Assessment.quality_texts.is_(None))
        .execution_options(yield_per=1000)
    )
    for author, comments, answers in unstored:
        t, e, p = text_quality([*comments.values(), *answers.values()])
        n, t0, e0, p0 = totals[author]
        totals[author] = (n, t0 + t, e0 + e, p0 + p)
    return totals


def add_details(session: CalibrationSession, rows: Sequence[PersonRow]) -> None:
    """Peer figures, cited evidence and final competency ratings of these rows, in two
    statements whatever their number."""
    todo = {r.review_id: r for r in rows if not r.detailed}
    if not todo:
        return
    ids: Iterable[int] | Any = list(todo)
    if len(todo) > DETAIL_IN_LIMIT:
        ids = (
            select(CalibrationMember.review_id)
            .where(CalibrationMember.session_id == session.id)
            .scalar_subquery()
        )
    finals: dict[int, dict[str, int] | None] = dict(
        db.session.execute(select(Review.id, Review.final_ratings).where(Review.id.in_(ids))).all()
    )
    query: Select[Any] = select(
        Assessment.review_id, Assessment.kind, Assessment.ratings, Assessment.evidence
    ).where(Assessment.review_id.in_(ids), Assessment.state == PartState.SUBMITTED)
    peer_values: dict[int, list[float]] = {}
    evidence: dict[int, list[Any]] = {}
    for review_id, kind, ratings, cited in db.session.execute(query):
        row = todo.get(review_id)
        if row is None:
            continue
        if kind == PartKind.PEER:
            row.peer_count = (row.peer_count or 0) + 1
            if ratings:
                peer_values.setdefault(review_id, []).append(mean(list(ratings.values())))
        else:
            evidence.setdefault(review_id, []).append(cited)
    policy = cycle_policy(session.cycle)
    for review_id, row in todo.items():
        row.final_ratings = finals.get(review_id)
        row.peer_avg = mean(peer_values[review_id]) if review_id in peer_values else None
        if not peer_figures_shown(Viewer.HR, policy, row.peer_count or 0):
            row.peer_avg = row.peer_count = None
        row.unsupported = unsupported_extremes(
            row.final_ratings or row.manager_ratings, evidence.get(review_id, [])
        )
        row.detailed = True


def session_row(
    session: CalibrationSession, viewer_id: int | None, review_id: int
) -> tuple[SessionData, PersonRow]:
    """The group's figures with one person's row in full (their suggestion depends on the
    whole group)."""
    data = session_data(session, viewer_id, ledger_limit=0)
    row = next(r for r in data.rows if r.review_id == review_id)
    add_details(session, [row])
    return data, row
