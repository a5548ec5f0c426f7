"""What a review's writer may cite, and what cited evidence says, in bounded statements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews.cycles.models import Assessment, Review
from reviews.evidence.citations import Citation, citation_ref, ref
from reviews.extensions import db
from reviews.feedback.models import FeedbackNote
from reviews.feedback.queries import timeline
from reviews.goals.models import Goal, GoalCheckIn
from reviews.languages import gettext, lazy_gettext
from reviews.links import Link
from reviews.people.models import Person


@dataclass(frozen=True)
class EvidenceItem:
    ref: str
    kind: str  # feedback, goal, checkin
    title: str
    detail: str
    on: date
    link: Link
    competencies: list[str] = field(default_factory=list)


def _excerpt(text: str, n: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


# A goal's status as the evidence line writes it ("40% · on track · ...").
STATUS_WORDS = {
    "not_started": lazy_gettext("not started"),
    "on_track": lazy_gettext("on track"),
    "at_risk": lazy_gettext("at risk"),
    "done": lazy_gettext("done"),
    "dropped": lazy_gettext("dropped"),
}


def _feedback_item(note: FeedbackNote) -> EvidenceItem:
    return EvidenceItem(
        ref("feedback", note.id),
        "feedback",
        gettext("Praise from %(name)s", name=note.author.name)
        if note.kind.value == "praise"
        else gettext("Feedback from %(name)s", name=note.author.name),
        _excerpt(note.body),
        note.created_at.date(),
        Link("feedback.timeline", note.recipient_id),
        list(note.competencies),
    )


def _goal_item(goal: Goal) -> EvidenceItem:
    return EvidenceItem(
        ref("goal", goal.id),
        "goal",
        gettext("Goal: %(title)s", title=goal.title),
        gettext(
            "%(progress)s%% · %(status)s · %(outcome)s",
            progress=goal.progress,
            status=str(STATUS_WORDS.get(goal.status.value, goal.status.value.replace("_", " "))),
            outcome=_excerpt(goal.outcome, 90),
        ),
        goal.due_date,
        Link("goals.goal_page", goal.id),
        list(goal.competencies),
    )


def _checkin_item(entry: GoalCheckIn) -> EvidenceItem:
    return EvidenceItem(
        ref("checkin", entry.id),
        "checkin",
        gettext("Check-in on “%(title)s”", title=entry.goal.title),
        gettext(
            "%(progress)s%%, confidence %(confidence)s of 5: %(note)s",
            progress=entry.progress,
            confidence=entry.confidence,
            note=_excerpt(entry.note, 110),
        ),
        entry.created_at.date(),
        Link("goals.goal_page", entry.goal_id),
        list(entry.goal.competencies),
    )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, UTC),
        datetime.combine(end + timedelta(days=1), time.min, UTC),
    )


def options_for(viewer: Person, review: Review) -> list[EvidenceItem]:
    """What `viewer` may cite on `review`: feedback the subject received in the cycle's
    period (as far as `viewer` may read it), the subject's goals overlapping the period,
    and their check-ins made in it. Three statements."""
    cycle = review.cycle
    subject = review.subject
    start, end = cycle.period_start, cycle.period_end
    notes = timeline(viewer, subject, start=start, end=end, limit=500)
    goals = list(
        db.session.scalars(
            select(Goal)
            .where(
                Goal.owner_id == subject.id,
                Goal.period_start <= end,
                Goal.period_end >= start,
            )
            .order_by(Goal.due_date, Goal.id)
        )
    )
    low, high = _bounds(start, end)
    checkins = list(
        db.session.scalars(
            select(GoalCheckIn)
            .join(Goal, GoalCheckIn.goal_id == Goal.id)
            .where(
                Goal.owner_id == subject.id,
                GoalCheckIn.created_at >= low,
                GoalCheckIn.created_at < high,
            )
            .options(joinedload(GoalCheckIn.goal))
            .order_by(GoalCheckIn.created_at.desc(), GoalCheckIn.id.desc())
        )
    )
    return (
        [_feedback_item(n) for n in notes]
        + [_goal_item(g) for g in goals]
        + [_checkin_item(c) for c in checkins]
    )


def resolve(
    subject_id: int, parts: Iterable[Mapping[str, Sequence[Citation]] | None]
) -> dict[str, EvidenceItem]:
    """The cited items of the given parts by ref, limited to the subject's own (3 statements)."""
    wanted: dict[str, set[int]] = {"feedback": set(), "goal": set(), "checkin": set()}
    for evidence in parts:
        for cited in (evidence or {}).values():
            for c in cited:
                if citation_ref(c):
                    wanted[c["kind"]].add(int(c["id"]))
    items: dict[str, EvidenceItem] = {}
    if wanted["feedback"]:
        for note in db.session.scalars(
            select(FeedbackNote)
            .where(FeedbackNote.id.in_(wanted["feedback"]), FeedbackNote.recipient_id == subject_id)
            .options(joinedload(FeedbackNote.author))
        ):
            items[ref("feedback", note.id)] = _feedback_item(note)
    if wanted["goal"]:
        for goal in db.session.scalars(
            select(Goal).where(Goal.id.in_(wanted["goal"]), Goal.owner_id == subject_id)
        ):
            items[ref("goal", goal.id)] = _goal_item(goal)
    if wanted["checkin"]:
        for entry in db.session.scalars(
            select(GoalCheckIn)
            .join(Goal, GoalCheckIn.goal_id == Goal.id)
            .where(GoalCheckIn.id.in_(wanted["checkin"]), Goal.owner_id == subject_id)
            .options(joinedload(GoalCheckIn.goal))
        ):
            items[ref("checkin", entry.id)] = _checkin_item(entry)
    return items


def citable_refs(viewer: Person, part: Assessment) -> set[str]:
    """Refs the writer of `part` may cite: what they can see from the cycle's
    period, and what the part cites already."""
    cited = {r for items in (part.evidence or {}).values() for c in items if (r := citation_ref(c))}
    return {o.ref for o in options_for(viewer, part.review)} | cited
