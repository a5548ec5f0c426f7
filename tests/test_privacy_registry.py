"""Privacy by registry: every table that points at a person is claimed by a domain's
holding, and anonymising a departed person leaves their name, email and words nowhere."""

from __future__ import annotations

from datetime import date, timedelta

from populated import cycle_in
from sqlalchemy import JSON, Column, ForeignKey, Integer, MetaData, String, Table, Text, select

from reviews.cycles.models import Assessment, PartKind, Review
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.feedback.models import FeedbackKind, FeedbackVisibility
from reviews.feedback.operations import give_feedback
from reviews.goals import operations as goals_ops
from reviews.privacy import anonymise, export_person, holdings
from reviews.upward.models import UpwardAnswer

BOSS_SAYS = "Bo wrote this on a goal"
ABOUT_BOSS = "Bo holds great one-to-ones"
BOSS_GOAL = "Bo's private goal title"
BOSS_CHECKIN = "Bo's check-in note"
BOSS_FEEDBACK = "Bo's praise for the team"


def person_columns(metadata: MetaData) -> set[str]:
    return {
        f"{table.name}.{fk.parent.name}"
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "person"
    }


def unclaimed(metadata: MetaData) -> list[str]:
    claimed = {c for h in holdings() for c in h.columns}
    return sorted(person_columns(metadata) - claimed)


def test_every_foreign_key_to_a_person_is_claimed_once_by_a_holding(app):
    claimed = [c for h in holdings() for c in h.columns]
    assert unclaimed(db.metadata) == []
    assert sorted(set(claimed) - person_columns(db.metadata)) == []  # no stale claim
    assert len(claimed) == len(set(claimed))
    assert all(h.keeps for h in holdings()), "every holding says what stays, and why"
    # A new table pointing at a person, claimed by nobody, fails the check above.
    extended = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(extended)
    Table("pet", extended, Column("id", Integer, primary_key=True),
          Column("owner_id", ForeignKey("person.id")))  # fmt: skip
    assert unclaimed(extended) == ["pet.owner_id"]


def test_the_export_has_a_section_from_every_holding_that_exports(app, make_person):
    org = cycle_in(make_person, CycleState.RELEASED)
    data = export_person(org["team"][0])
    sections = {h.section for h in holdings() if h.export is not None}
    assert set(data) == sections
    assert {"person", "reviews", "peer_feedback_written", "upward_feedback", "goals"} <= sections


def _text_columns() -> list[tuple[Table, Column]]:
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    ]


def _everything_written() -> str:
    """Every text and JSON value in the database, as one string."""
    db.session.commit()
    found = []
    with db.engine.connect() as conn:
        for table, column in _text_columns():
            for (value,) in conn.execute(select(column).select_from(table)):
                if value is not None:
                    found.append(str(value))
    return "\n".join(found)


def test_anonymising_a_departed_manager_leaves_their_identity_and_words_nowhere(app, make_person):
    """Bo is a manager, reviewed, a reviewer of others, rated upward by reports, the head
    of a calibrated org, a goal owner, a feedback giver and receiver, a notification
    recipient and an actor in the audit log: afterwards none of it names Bo or keeps
    their words, and every rating stays."""
    org = cycle_in(make_person, CycleState.RELEASED)
    hr, boss, team = org["hr"], org["boss"], org["team"]
    cycle = org["cycle"]
    name, email = boss.name, boss.email
    for report in team:  # upward answers about Bo (stored without their authors)
        db.session.add(
            UpwardAnswer(
                id=1000 + report.id,
                cycle_id=cycle.id,
                manager_id=boss.id,
                ratings={"people-management": 4},
                answers={"comment": ABOUT_BOSS},
            )
        )
    give_feedback(
        boss,
        team[0],
        kind=FeedbackKind.PRAISE,
        visibility=FeedbackVisibility.MANAGERS,
        body=BOSS_FEEDBACK,
        competencies=[],
        known_competencies=set(),
    )
    today = date.today()
    goal = goals_ops.create_goal(
        boss,
        boss,
        goals_ops.GoalFields(
            title=BOSS_GOAL,
            outcome="Measurable.",
            period_start=today,
            period_end=today + timedelta(days=90),
            due_date=today + timedelta(days=60),
        ),
        known_competencies=set(),
    )
    goals_ops.check_in(boss, goal, note=BOSS_CHECKIN, confidence=4, progress=20)
    boss.manager_id = hr.id  # so that HR, now up Bo's line, comments on the goal
    db.session.flush()
    goals_ops.comment(hr, goal, body=f"A note on {name}'s goal: {BOSS_SAYS}")
    for report in team:
        report.manager_id = hr.id
    boss.active = False
    db.session.commit()
    assert name in _everything_written()
    ratings_before = sorted(
        str(r) for r in db.session.scalars(select(Assessment.ratings).order_by(Assessment.id))
    )
    finals_before = list(db.session.scalars(select(Review.final_rating).order_by(Review.id)))

    anonymise(hr, boss)
    db.session.commit()

    written = _everything_written()
    for trace in (name, email, ABOUT_BOSS, BOSS_GOAL, BOSS_CHECKIN, BOSS_FEEDBACK, BOSS_SAYS):
        assert trace not in written, trace
    # Upward ratings, part ratings and final ratings stay: the figures do not change.
    assert {a.ratings["people-management"] for a in db.session.scalars(select(UpwardAnswer))} == {4}
    assert (
        sorted(
            str(r) for r in db.session.scalars(select(Assessment.ratings).order_by(Assessment.id))
        )
        == ratings_before
    )
    assert list(db.session.scalars(select(Review.final_rating).order_by(Review.id))) == (
        finals_before
    )
    # The manager reviews Bo wrote are blank now; the reviews themselves remain.
    written_by_bo = list(
        db.session.scalars(
            select(Assessment).where(
                Assessment.author_id == boss.id, Assessment.kind == PartKind.MANAGER
            )
        )
    )
    assert written_by_bo
    assert all(p.answers == {} and p.comments == {} for p in written_by_bo)
