"""Everything the calibration page shows, in a constant number of statements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews.calibration.models import CalibrationChange, CalibrationMember, CalibrationSession
from reviews.calibration.scoring import (
    RaterBias,
    distribution,
    mean,
    normalised_suggestions,
    rater_bias,
    self_manager_gap,
)
from reviews.cycles.models import Assessment, PartKind, PartState, Review
from reviews.evidence.citations import unsupported_extremes
from reviews.extensions import db


@dataclass
class PersonRow:
    review: Review
    name: str
    manager_id: int | None
    manager_name: str
    department: str
    level_key: str | None
    self_avg: float | None
    peer_avg: float | None
    peer_count: int
    manager_ratings: dict[str, int]
    manager_overall: int | None
    potential: str | None
    readiness: str | None
    suggestion: int | None
    gap: float | None
    changes: int = 0
    # competencies rated 1 or 5 (final, else the manager's) that no part cites evidence for
    unsupported: list[str] = field(default_factory=list)

    @property
    def final(self) -> int | None:
        return self.review.final_rating

    @property
    def final_potential(self) -> str | None:
        return self.review.final_potential.value if self.review.final_potential else None


@dataclass
class SessionData:
    rows: list[PersonRow]
    bias: dict[int, RaterBias]
    team_gap: dict[int, float]
    manager_names: dict[int, str]
    ledger: list[CalibrationChange] = field(default_factory=list)
    # per manager: (texts, share with evidence, personality words per text), or None
    # when the manager reviewed too few people for figures that protect each comment
    quality: dict[int, tuple[int, float, float] | None] = field(default_factory=dict)

    def buckets(self, guidance: list[int]):  # type: ignore[no-untyped-def]
        return distribution([r.final for r in self.rows if r.final is not None], guidance)


MIN_QUALITY_GROUP = 5


def feedback_quality(texts: list[str]) -> tuple[int, float, float]:
    """(number of texts, share naming evidence, personality-type words per text)."""
    from reviews.coach.analysis import analyse, has_evidence

    if not texts:
        return 0, 0.0, 0.0
    evidence = sum(1 for t in texts if has_evidence(t))
    personal = sum(
        1 for t in texts for f in analyse(t) if f.category in ("personality", "gendered", "age")
    )
    return len(texts), evidence / len(texts), personal / len(texts)


def session_data(session: CalibrationSession, viewer_id: int | None = None) -> SessionData:
    """The session's people and figures; the viewer's own review is left out entirely
    (numbers included): a calibrator may not see it before release."""
    reviews = list(
        db.session.scalars(
            select(Review)
            .join(CalibrationMember, CalibrationMember.review_id == Review.id)
            .where(
                CalibrationMember.session_id == session.id, Review.subject_id != (viewer_id or -1)
            )
            .options(
                joinedload(Review.subject),
                joinedload(Review.manager),
                joinedload(Review.department),
            )
        )
    )
    ids = [r.id for r in reviews] or [-1]
    parts = db.session.execute(
        select(
            Assessment.review_id,
            Assessment.kind,
            Assessment.ratings,
            Assessment.overall_rating,
            Assessment.potential,
            Assessment.promotion_readiness,
            Assessment.comments,
            Assessment.answers,
            Assessment.author_id,
            Assessment.evidence,
        ).where(Assessment.review_id.in_(ids), Assessment.state == PartState.SUBMITTED)
    ).all()
    ledger = list(
        db.session.scalars(
            select(CalibrationChange)
            .where(CalibrationChange.session_id == session.id, CalibrationChange.review_id.in_(ids))
            .options(
                joinedload(CalibrationChange.actor),
                joinedload(CalibrationChange.review).joinedload(Review.subject),
            )
            .order_by(CalibrationChange.at.desc(), CalibrationChange.id.desc())
        )
    )
    self_parts: dict[int, Mapping[str, int]] = {}
    manager_parts: dict[int, tuple[Mapping[str, int], int | None, str | None, str | None]] = {}
    peer_values: dict[int, list[float]] = {}
    peer_counts: dict[int, int] = {}
    texts_by_manager: dict[int, list[str]] = {}
    evidence: dict[int, list[Any]] = {}
    for row in parts:
        (
            review_id,
            kind,
            ratings,
            overall,
            potential,
            readiness,
            comments,
            answers,
            author,
            cited,
        ) = row
        if kind in (PartKind.SELF, PartKind.MANAGER):
            evidence.setdefault(review_id, []).append(cited)
        if kind == PartKind.SELF:
            self_parts[review_id] = ratings
        elif kind == PartKind.MANAGER:
            texts_by_manager.setdefault(author, []).extend(
                t for t in [*comments.values(), *answers.values()] if t
            )
            manager_parts[review_id] = (
                ratings,
                overall,
                potential.value if potential else None,
                readiness.value if readiness else None,
            )
        else:
            peer_counts[review_id] = peer_counts.get(review_id, 0) + 1
            if ratings:
                peer_values.setdefault(review_id, []).append(mean(list(ratings.values())))
    changes_per_review: dict[int, int] = {}
    for change in ledger:
        changes_per_review[change.review_id] = changes_per_review.get(change.review_id, 0) + 1

    proposals = {
        r.id: (r.manager_id or 0, manager_parts[r.id][1])
        for r in reviews
        if r.id in manager_parts and manager_parts[r.id][1] is not None
    }
    suggestions = normalised_suggestions(
        {rid: (m, int(v)) for rid, (m, v) in proposals.items() if v is not None}
    )
    by_rater: dict[int, list[int]] = {}
    for rater, value in proposals.values():
        if value is not None:
            by_rater.setdefault(rater, []).append(int(value))
    rows = []
    gaps_by_manager: dict[int, list[float]] = {}
    for r in reviews:
        own = self_parts.get(r.id)
        manager = manager_parts.get(r.id)
        gap = self_manager_gap(own, manager[0]) if own and manager else None
        if gap is not None and r.manager_id:
            gaps_by_manager.setdefault(r.manager_id, []).append(gap)
        rows.append(
            PersonRow(
                review=r,
                name=r.subject.name,
                manager_id=r.manager_id,
                manager_name=r.manager.name if r.manager else "",
                department=r.department.name if r.department else "",
                level_key=r.level_key,
                self_avg=mean(list(own.values())) if own else None,
                peer_avg=mean(peer_values[r.id]) if r.id in peer_values else None,
                peer_count=peer_counts.get(r.id, 0),
                manager_ratings=dict(manager[0]) if manager else {},
                manager_overall=manager[1] if manager else None,
                potential=manager[2] if manager else None,
                readiness=manager[3] if manager else None,
                suggestion=suggestions.get(r.id),
                gap=gap,
                changes=changes_per_review.get(r.id, 0),
                unsupported=unsupported_extremes(
                    r.final_ratings or (dict(manager[0]) if manager else {}),
                    evidence.get(r.id, []),
                ),
            )
        )
    names = {r.manager_id: r.manager.name for r in reviews if r.manager_id and r.manager}
    reviewed = {m: len(v) for m, v in by_rater.items()}
    return SessionData(
        rows=rows,
        bias=rater_bias(by_rater),
        team_gap={m: mean(g) for m, g in gaps_by_manager.items()},
        quality={
            m: feedback_quality(texts) if reviewed.get(m, 0) >= MIN_QUALITY_GROUP else None
            for m, texts in texts_by_manager.items()
        },
        manager_names=names,
        ledger=ledger,
    )
