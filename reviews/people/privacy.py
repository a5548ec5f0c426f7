"""Personal data: everything held about one person, and anonymising a departed person."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from reviews.api.models import ApiToken
from reviews.audit.models import AuditEvent
from reviews.audit.operations import record
from reviews.auth.models import LoginFailure, PasswordLink
from reviews.calibration.models import CalibrationChange
from reviews.cycles.models import Assessment, PartKind, PartState, PeerRequest, Review
from reviews.cycles.reading import cycle_policy
from reviews.cycles.visibility import PeerFeedback, Viewer, peer_feedback_view
from reviews.db import utcnow
from reviews.errors import PhaseClosed
from reviews.extensions import db
from reviews.growth.models import GrowthPlan, GrowthPlanItem
from reviews.notifications.models import Notification
from reviews.people.models import Person


class PrivacyError(PhaseClosed):
    """The person's state does not allow this (still active, already anonymised)."""


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def _part(p: Assessment) -> dict[str, Any]:
    return {
        "state": p.state.value,
        "ratings": p.ratings,
        "comments": p.comments,
        "answers": p.answers,
        "evidence": p.evidence or {},
        "submitted_at": _iso(p.submitted_at),
    }


WITHHELD = "withheld: this cycle keeps peer authors from HR"


def _written(part: Assessment, review: Review) -> dict[str, Any]:
    """Peer feedback the person wrote; in a cycle that hides authors from HR (SPEC 4), only
    that it exists: its subject, text or time would name its author to HR."""
    cycle = review.cycle
    if not cycle_policy(cycle).names_to_staff:
        return {"cycle": cycle.name, "state": part.state.value, "content": WITHHELD}
    return {"about": review.subject.name, "cycle": cycle.name, **_part(part)}


def person_data(person: Person) -> dict[str, Any]:
    """Everything about `person` (HR's view, anonymity rules applied to peer feedback)."""
    reviews = list(
        db.session.scalars(select(Review).where(Review.subject_id == person.id).order_by(Review.id))
    )
    review_ids = [r.id for r in reviews] or [-1]
    parts = list(db.session.scalars(select(Assessment).where(Assessment.review_id.in_(review_ids))))
    plans = {
        p.review_id: p
        for p in db.session.scalars(select(GrowthPlan).where(GrowthPlan.review_id.in_(review_ids)))
    }
    out_reviews = []
    for review in reviews:
        own = [p for p in parts if p.review_id == review.id]
        cycle = review.cycle
        policy = cycle_policy(cycle)
        salt = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{review.id}".encode()).digest()
        peers = peer_feedback_view(
            Viewer.HR,
            policy,
            [
                PeerFeedback(
                    p.id, p.author.name, p.ratings, p.comments, p.answers, p.submitted_at.date()
                )
                for p in own
                if p.kind == PartKind.PEER and p.state == PartState.SUBMITTED and p.submitted_at
            ],
            salt,
        )
        plan = plans.get(review.id)
        out_reviews.append(
            {
                "cycle": cycle.name,
                "level": review.level_key,
                "manager": review.manager.email if review.manager else None,
                "competency_names": {
                    c["key"]: c["name"]
                    for c in (cycle.framework_snapshot or {}).get("competencies", [])
                },
                "self_review": next(
                    (
                        {**_part(p), "desired_level": p.desired_level_key}
                        for p in own
                        if p.kind == PartKind.SELF
                    ),
                    None,
                ),
                "manager_review": next(
                    (
                        {
                            **_part(p),
                            "overall": p.overall_rating,
                            "potential": p.potential.value if p.potential else None,
                            "promotion_readiness": p.promotion_readiness.value
                            if p.promotion_readiness
                            else None,
                        }
                        for p in own
                        if p.kind == PartKind.MANAGER
                    ),
                    None,
                ),
                "peer_feedback": [
                    {
                        "author": e.author_name,
                        "ratings": e.ratings,
                        "comments": e.comments,
                        "answers": e.answers,
                    }
                    for e in peers.entries
                ],
                "final": {
                    "rating": review.final_rating,
                    "potential": review.final_potential.value if review.final_potential else None,
                    "ratings": review.final_ratings,
                },
                "acknowledged_at": _iso(review.acknowledged_at),
                "acknowledgement_comment": review.acknowledgement_comment,
                "growth_plan": {
                    "mode": plan.mode.value,
                    "target_level": plan.target_level_key,
                    "focus": plan.focus,
                    "notes": plan.notes,
                    "employee_comment": plan.employee_comment,
                    "manager_agreed_at": _iso(plan.manager_agreed_at),
                    "employee_agreed_at": _iso(plan.employee_agreed_at),
                    "items": [
                        {
                            "title": i.title,
                            "description": i.description,
                            "competencies": i.competencies,
                            "start": i.start_date.isoformat(),
                            "end": i.end_date.isoformat(),
                            "check_ins": i.checkins,
                            "notes": i.notes,
                        }
                        for i in plan.items
                    ],
                }
                if plan
                else None,
            }
        )
    written = db.session.execute(
        select(Assessment, Review)
        .join(Review, Review.id == Assessment.review_id)
        .where(Assessment.author_id == person.id, Assessment.kind == PartKind.PEER)
    ).all()
    return {
        "person": {
            "email": person.email,
            "name": person.name,
            "role": person.role.value,
            "active": person.active,
            "department": person.department.name if person.department else None,
            "level": person.level.key if person.level else None,
            "manager": person.manager.email if person.manager else None,
            "created_at": person.created_at.isoformat(),
            "deactivated_at": _iso(person.deactivated_at),
        },
        "reviews": out_reviews,
        "peer_feedback_written": [_written(a, r) for a, r in written],
        **_between_cycles_data(person),
        "calibration_changes": [
            {
                "at": c.at.isoformat(),
                "field": c.field,
                "from": c.old_value,
                "to": c.new_value,
                "rationale": c.rationale,
            }
            for c in db.session.scalars(
                select(CalibrationChange).where(CalibrationChange.review_id.in_(review_ids))
            )
        ],
        "notifications": [
            {"at": n.created_at.isoformat(), "subject": n.subject, "body": n.body}
            for n in db.session.scalars(
                select(Notification).where(Notification.recipient_id == person.id)
            )
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in db.session.scalars(select(ApiToken).where(ApiToken.person_id == person.id))
        ],
        "audit_events": [
            {"at": e.at.isoformat(), "event": e.event, "details": e.details}
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.subject_id == person.id).order_by(AuditEvent.at)
            )
        ],
    }


def _between_cycles_data(person: Person) -> dict[str, Any]:
    """Continuous feedback to and from the person, and their goals with check-ins."""
    from sqlalchemy import or_
    from sqlalchemy.orm import joinedload

    from reviews.feedback.models import FeedbackNote
    from reviews.goals.models import Goal, GoalCheckIn, GoalComment

    notes = db.session.scalars(
        select(FeedbackNote)
        .where(or_(FeedbackNote.author_id == person.id, FeedbackNote.recipient_id == person.id))
        .options(joinedload(FeedbackNote.author), joinedload(FeedbackNote.recipient))
        .order_by(FeedbackNote.created_at)
    )
    goals = list(
        db.session.scalars(
            select(Goal).where(Goal.owner_id == person.id).order_by(Goal.period_start, Goal.id)
        )
    )
    ids = [g.id for g in goals] or [-1]
    checkins: dict[int, list[GoalCheckIn]] = {}
    for c in db.session.scalars(
        select(GoalCheckIn).where(GoalCheckIn.goal_id.in_(ids)).order_by(GoalCheckIn.created_at)
    ):
        checkins.setdefault(c.goal_id, []).append(c)
    comments: dict[int, list[GoalComment]] = {}
    for m in db.session.scalars(
        select(GoalComment)
        .where(GoalComment.goal_id.in_(ids))
        .options(joinedload(GoalComment.author))
        .order_by(GoalComment.created_at)
    ):
        comments.setdefault(m.goal_id, []).append(m)
    return {
        "continuous_feedback": [
            {
                "at": n.created_at.isoformat(),
                "from": n.author.name,
                "to": n.recipient.name,
                "kind": n.kind.value,
                "visibility": n.visibility.value,
                "competencies": n.competencies,
                "text": n.body,
            }
            for n in notes
        ],
        "goals": [
            {
                "title": g.title,
                "outcome": g.outcome,
                "period": [g.period_start.isoformat(), g.period_end.isoformat()],
                "due": g.due_date.isoformat(),
                "status": g.status.value,
                "progress": g.progress,
                "check_ins": [
                    {
                        "at": c.created_at.isoformat(),
                        "note": c.note,
                        "confidence": c.confidence,
                        "progress": c.progress,
                    }
                    for c in checkins.get(g.id, [])
                ],
                "comments": [
                    {"at": m.created_at.isoformat(), "by": m.author.name, "text": m.body}
                    for m in comments.get(g.id, [])
                ],
            }
            for g in goals
        ],
    }


ANONYMISED_TEXT = "[removed]"


def _scrub_mentions(name: str, email: str, person: Person) -> None:
    """Replace the person's old name and email where other records quote them.

    Notifications to others ("Devon read their review") and audit details
    (reviewer emails, titles) are rewritten: the one change the application
    makes to the audit log, and the anonymisation itself is recorded.
    """
    import json

    from sqlalchemy import String, cast, or_

    replacements = [(email, person.email), (name, person.name)]

    def scrub(text: str) -> str:
        for old, new in replacements:
            text = text.replace(old, new)
        return text

    for note in db.session.scalars(
        select(Notification).where(
            or_(
                Notification.subject.contains(name, autoescape=True),
                Notification.body.contains(name, autoescape=True),
            )
        )
    ):
        note.subject, note.body = scrub(note.subject), scrub(note.body)
    for event in db.session.scalars(
        select(AuditEvent).where(
            or_(
                cast(AuditEvent.details, String).contains(email, autoescape=True),
                cast(AuditEvent.details, String).contains(name, autoescape=True),
            )
        )
    ):
        event.details = json.loads(scrub(json.dumps(event.details, ensure_ascii=False)))
    # Free text quoted in events about them (growth-plan item titles) goes too.
    for event in db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_id == person.id, AuditEvent.event.startswith("growth.")
        )
    ):
        if "title" in (event.details or {}):
            event.details = {**event.details, "title": ANONYMISED_TEXT}


def _anonymise_between_cycles(person: Person) -> None:
    """Continuous feedback by or to them, and their goals' texts, check-ins and comments."""
    from sqlalchemy import or_

    from reviews.feedback.models import FeedbackNote
    from reviews.goals.models import Goal, GoalCheckIn, GoalComment

    sync: dict[str, Any] = {"synchronize_session": False}
    db.session.execute(
        update(FeedbackNote)
        .where(or_(FeedbackNote.author_id == person.id, FeedbackNote.recipient_id == person.id))
        .values(body=ANONYMISED_TEXT),
        execution_options=sync,
    )
    goals = select(Goal.id).where(Goal.owner_id == person.id)
    db.session.execute(
        update(Goal)
        .where(Goal.owner_id == person.id)
        .values(title=ANONYMISED_TEXT, outcome=ANONYMISED_TEXT),
        execution_options=sync,
    )
    db.session.execute(
        update(GoalCheckIn).where(GoalCheckIn.goal_id.in_(goals)).values(note=ANONYMISED_TEXT),
        execution_options=sync,
    )
    db.session.execute(
        update(GoalComment)
        .where(or_(GoalComment.goal_id.in_(goals), GoalComment.author_id == person.id))
        .values(body=ANONYMISED_TEXT),
        execution_options=sync,
    )


def anonymise(actor: Person, person: Person) -> None:
    """Remove a departed person's identity and free text; keep every number.

    Ratings, levels, departments and final values stay, so that cycle figures
    and distributions do not change.  Their name and email, their password and
    tokens, the free text they wrote and the free text written about them go.
    """
    if person.active:
        raise PrivacyError("Only a deactivated person can be anonymised.")
    if person.email.endswith("@anonymised.invalid"):
        raise PrivacyError("This person is already anonymised.")
    if db.session.scalar(
        select(Person.id).where(Person.manager_id == person.id, Person.active.is_(True)).limit(1)
    ):
        raise PrivacyError("Active people still report to this person.")
    original, original_name = person.email, person.name
    person.name = f"Former employee {person.id}"
    person.email = f"former-{person.id}@anonymised.invalid"
    person.password_hash = None
    person.session_version += 1
    reviews = select(Review.id).where(Review.subject_id == person.id)
    blank = {"comments": {}, "answers": {}, "evidence": None}
    db.session.execute(
        update(Assessment)
        .where(Assessment.review_id.in_(reviews))
        .values(**blank, desired_level_key=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(Assessment).where(Assessment.author_id == person.id).values(**blank),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(Review).where(Review.subject_id == person.id).values(acknowledgement_comment=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(PeerRequest)
        .where(PeerRequest.reviewer_id == person.id, PeerRequest.decline_reason.is_not(None))
        .values(decline_reason=ANONYMISED_TEXT),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(GrowthPlan)
        .where(GrowthPlan.review_id.in_(reviews))
        .values(employee_comment="", notes=""),
        execution_options={"synchronize_session": False},
    )
    plans = select(GrowthPlan.id).where(GrowthPlan.review_id.in_(reviews))
    db.session.execute(
        update(GrowthPlanItem).where(GrowthPlanItem.plan_id.in_(plans)).values(notes=""),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(GrowthPlanItem)
        .where(GrowthPlanItem.plan_id.in_(plans), GrowthPlanItem.opportunity_key.is_(None))
        .values(title=ANONYMISED_TEXT, description=""),
        execution_options={"synchronize_session": False},
    )
    _anonymise_between_cycles(person)
    _scrub_mentions(original_name, original, person)
    db.session.execute(delete(ApiToken).where(ApiToken.person_id == person.id))
    db.session.execute(delete(PasswordLink).where(PasswordLink.person_id == person.id))
    db.session.execute(delete(Notification).where(Notification.recipient_id == person.id))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == original))
    person.deactivated_at = person.deactivated_at or utcnow()
    db.session.flush()
    record("person.anonymised", actor=actor, subject=person)
