"""Reviews: the person's own reviews as they may read them, the peer feedback they wrote,
and every other trace of them in a cycle (as a manager, a nominee, a decider)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from reviews.cycles.models import Assessment, Cycle, PartKind, PeerRequest, Review
from reviews.cycles.reading import PartView, cycle_policy, read_review, written
from reviews.extensions import db
from reviews.languages import lazy_gettext
from reviews.people.models import Person
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding, iso
from reviews.review_templates.definition import Template
from reviews.review_templates.queries import template_of

# What the export says instead of such feedback (lazy: in the reader's language).
WITHHELD = lazy_gettext("withheld: this cycle keeps peer authors from HR")
SYNC: dict[str, Any] = {"synchronize_session": False}


def answered(template: Template, answers: dict[str, Any]) -> list[dict[str, str]]:
    """The answers as a person reads them: each question's label and the answer as text."""
    return [
        {"question": q.label, "answer": text}
        for q in template.questions
        if q.key in answers and (text := q.as_text(answers[q.key]))
    ]


def _part(part: PartView | None, template: Template) -> dict[str, Any] | None:
    if part is None:
        return None
    return {
        "state": part.state.value,
        "ratings": part.ratings,
        "ratings_are_final": part.ratings_are_final,
        "comments": part.comments,
        "answers": part.answers,
        "answered": answered(template, part.answers),
        "evidence": part.evidence or {},
        "desired_level": part.desired_level,
        "overall": part.overall,
        "submitted_at": iso(part.submitted_at),
    }


def _reviews(person: Person) -> list[dict[str, Any]]:
    """Each review as its subject reads it (`cycles.reading`), with its growth plan."""
    from reviews.growth.privacy import plan_of

    out = []
    for review in db.session.scalars(
        select(Review).where(Review.subject_id == person.id).order_by(Review.id)
    ):
        reading = read_review(review, {"subject"})
        cycle = review.cycle
        result = reading.result
        out.append(
            {
                "cycle": cycle.name,
                "level": review.level_key,
                "manager": review.manager.email if review.manager else None,
                "competency_names": {
                    c["key"]: c["name"]
                    for c in (cycle.framework_snapshot or {}).get("competencies", [])
                },
                "self_review": _part(reading.self_part, reading.templates["self"]),
                "manager_review": _part(reading.manager_part, reading.templates["manager"]),
                "peer_feedback": {
                    "withheld": reading.peers.withheld,
                    "chosen_answers_together": [
                        {
                            "question": q.label,
                            "answers": {q.label_of(t): n for t, n in counts.items()},
                        }
                        for q in reading.templates["peer"].questions
                        if q.key in reading.peers.tallies
                        for counts, _n in [reading.peers.tallies[q.key]]
                    ],
                    "entries": [
                        {
                            "author": e.author_name,
                            "ratings": e.ratings,
                            "comments": e.comments,
                            "answers": e.answers,
                            "answered": answered(reading.templates["peer"], e.answers),
                        }
                        for e in reading.peers.entries
                    ],
                },
                "final": {"rating": result.final_rating, "ratings": result.final_ratings}
                if result
                else None,
                "acknowledged_at": iso(reading.acknowledged_at),
                "acknowledgement_comment": reading.acknowledgement_comment,
                "growth_plan": plan_of(review) if reading.released else None,
            }
        )
    return out


def _written(person: Person) -> list[dict[str, Any]]:
    """Peer feedback the person wrote; in a cycle that hides authors from HR (SPEC 4), only
    that it exists: its subject, text or time would name its author to HR."""
    rows = db.session.execute(
        select(Assessment, Review, Cycle)
        .join(Review, Review.id == Assessment.review_id)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .where(Assessment.author_id == person.id, Assessment.kind == PartKind.PEER)
        .order_by(Assessment.id)
    ).all()
    out: list[dict[str, Any]] = []
    for part, review, cycle in rows:
        if not cycle_policy(cycle).names_to_staff:
            out.append({"cycle": cycle.name, "state": part.state.value, "content": str(WITHHELD)})
            continue
        out.append(
            {
                "about": review.subject.name,
                "cycle": cycle.name,
                "state": part.state.value,
                "ratings": part.ratings,
                "comments": part.comments,
                "answers": written(part),
                "answered": answered(template_of(cycle, "peer"), written(part)),
                "submitted_at": iso(part.submitted_at),
            }
        )
    return out


def _forget(f: Forgetting) -> None:
    """Free text by or about them goes; ratings stay, so figures do not change."""
    person = f.person
    reviews = select(Review.id).where(Review.subject_id == person.id)
    blank: dict[str, Any] = {"comments": {}, "answers": {}, "evidence": None}
    db.session.execute(
        update(Assessment)
        .where(Assessment.review_id.in_(reviews))
        .values(**blank, desired_level_key=None),
        execution_options=SYNC,
    )
    db.session.execute(
        update(Assessment).where(Assessment.author_id == person.id).values(**blank),
        execution_options=SYNC,
    )
    db.session.execute(
        update(Review).where(Review.subject_id == person.id).values(acknowledgement_comment=None),
        execution_options=SYNC,
    )
    db.session.execute(
        update(PeerRequest)
        .where(PeerRequest.reviewer_id == person.id, PeerRequest.decline_reason.is_not(None))
        .values(decline_reason=ANONYMISED_TEXT),
        execution_options=SYNC,
    )


holding(
    "cycles",
    section="reviews",
    columns=(
        "review.subject_id",
        "review.manager_id",
        "assessment.author_id",
        "cycle_participant.person_id",
        "cycle.created_by_id",
    ),
    export=_reviews,
    forget=_forget,
    keeps="Ratings, levels and final values of their reviews, and the reviews they managed "
    "and parts they wrote (by id), so that cycle figures do not change.",
)
holding(
    "cycles",
    section="peer_feedback_written",
    columns=(
        "peer_request.reviewer_id",
        "peer_request.proposed_by_id",
        "peer_request.decided_by_id",
    ),
    export=_written,
    keeps="Who was asked, proposed or decided a request (by id); the texts go with the "
    "parts above, a decline reason becomes [removed].",
)
