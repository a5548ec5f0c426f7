"""The home page reads a bounded number of statements (issue 22): at most 8 for an
employee, and for a manager or HR as many in a large org as in a small one, with
tasks of every kind on the page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from between_helpers import client_for
from conftest import count_queries
from cycle_helpers import calibrate_org, launched_cycle, release_with_manager_ratings, review_of
from markupsafe import escape

from reviews.cycles import operations as ops
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.queries import ladder
from reviews.goals import operations as goals_ops
from reviews.people.models import Person, Role

TODAY = date.today()
EMPLOYEE_LIMIT = 8


def _org(make_person, tag: str, size: int) -> tuple[Person, list[Person]]:
    """A director, a manager under them and `size` engineers reporting to the manager."""
    director = make_person(
        f"Dana Director {tag}", role=Role.MANAGER, level_key="director-of-engineering"
    )
    boss = make_person(f"Ben Boss {tag}", role=Role.MANAGER, manager=director)
    return boss, [make_person(f"Eng {tag}{i}", manager=boss) for i in range(size)]


def _tasks_of_every_kind(app, hr: Person, boss: Person, team: list[Person], tag: str) -> None:
    """Four cycles at once over everyone, and goals, so that `boss` and each of `team`
    have every kind of task the home lists."""
    # Released results to read.
    released = launched_cycle(hr, CycleState.MANAGER_REVIEW, name=f"Released {tag}")
    release_with_manager_ratings(hr, released, lambda review: (3, {}))
    # Proposed ratings to calibrate: a session of the manager's org.
    calibrating = launched_cycle(hr, CycleState.MANAGER_REVIEW, name=f"Calibrating {tag}")
    calibrate_org(hr, calibrating, boss)
    # Manager reviews to write.
    launched_cycle(hr, CycleState.MANAGER_REVIEW, name=f"Writing {tag}")
    # Self-reviews to write, peers to nominate (three wanted, two asked), a nomination
    # to approve, a colleague's feedback to give, upward feedback about the manager.
    open_cycle = launched_cycle(
        hr, CycleState.SELF_REVIEW, name=f"Open {tag}", peer_min=3, upward_feedback=True
    )
    with app.test_request_context():
        for i, person in enumerate(team):
            review = review_of(open_cycle, person)
            ops.propose_peer(person, review, team[(i + 1) % len(team)])
            ops.add_peer(boss, review, team[(i + 2) % len(team)])
        # A check-in due on a goal of each engineer.
        for person in team:
            goal = goals_ops.create_goal(
                person,
                person,
                goals_ops.GoalFields(
                    title=f"Runbook of {person.name}",
                    outcome="Every alert links to a runbook.",
                    period_start=TODAY - timedelta(days=30),
                    period_end=TODAY + timedelta(days=60),
                    due_date=TODAY + timedelta(days=60),
                    checkin_every_days=7,
                ),
                known_competencies=set(),
            )
            goal.created_at -= timedelta(days=10)
        db.session.commit()


def _home(app, person: Person) -> tuple[str, int]:
    client = client_for(app, person)
    client.get("/")  # warm: templates compiled
    with count_queries() as statements:
        page = client.get("/")
    assert page.status_code == 200
    return page.get_data(as_text=True), len(statements)


def _tasks(page: str) -> str:
    return page.split('id="my-tasks"')[1].split("</section>")[0]


def _assert_employee_tasks(page: str, person: Person, boss: Person, tag: str) -> None:
    tasks = _tasks(page)
    for text in (
        "Write your self-review",
        "Nominate peers",
        "Ask 1 more colleague for feedback.",
        "Give feedback to Eng ",
        "Read your review",
        f"Give {boss.name} upward feedback",
        f"Check in on “Runbook of {person.name}”",
    ):
        assert text in tasks, text
    assert f"Open {tag}." in tasks
    assert f"Released {tag}." in tasks


def _assert_manager_tasks(page: str, team: list[Person], tag: str) -> None:
    tasks = _tasks(page)
    for person in team:
        assert escape(f"Approve {person.name}'s peers") in tasks, person.name
        assert escape(f"Write {person.name}'s review") in tasks, person.name
    assert "1 nomination waiting for you." in tasks
    assert f"Calibrate {team[0].manager.name}" in tasks  # the session of the boss's org
    assert f"Your team's reviews in Writing {tag}" in page
    assert f"Upward feedback about you in Open {tag}" in page


def test_home_statements_stay_bounded_as_the_org_and_its_cycles_grow(app, make_person):
    hr = make_person("Hal HR", role=Role.HR, level_key=None)
    counts: dict[str, list[int]] = {"employee": [], "manager": [], "hr": []}
    for tag, size in (("A", 3), ("B", 12)):
        boss, team = _org(make_person, tag, size)
        _tasks_of_every_kind(app, hr, boss, team, tag)
        page, n = _home(app, team[0])
        _assert_employee_tasks(page, team[0], boss, tag)
        counts["employee"].append(n)
        page, n = _home(app, boss)
        _assert_manager_tasks(page, team, tag)
        counts["manager"].append(n)
        page, n = _home(app, hr)
        assert "Your tasks as HR admin" in page
        assert f"Open {tag}" in page
        counts["hr"].append(n)
    # The second org is four times the first and runs four more cycles beside them.
    assert all(n <= EMPLOYEE_LIMIT for n in counts["employee"]), counts
    for who, (small, large) in counts.items():
        assert small == large, (who, counts)


@pytest.mark.parametrize("reports", [0, 2])
def test_employee_home_reads_at_most_eight_statements(app, make_person, reports):
    """With every kind of task, a manager and a level; with a team of their own or not."""
    hr = make_person("Hal HR", role=Role.HR, level_key=None)
    boss, team = _org(make_person, "C", 3)
    for i in range(reports):
        make_person(f"Intern {i}", manager=team[0], level_key="junior-engineer")
    _tasks_of_every_kind(app, hr, boss, team, "C")
    page, n = _home(app, team[0])
    _assert_employee_tasks(page, team[0], boss, "C")
    assert f'reporting to <a href="/people/{boss.id}">{boss.name}</a>' in page
    assert n <= EMPLOYEE_LIMIT, n


def test_home_shows_the_step_to_the_next_level(app, make_person):
    """The ladder panel compares the person's level with the next, competency by
    competency in framework order, as the whole framework has it."""
    _boss, (engineer, *_none) = _org(make_person, "D", 1)
    page = _home(app, engineer)[0]
    framework = ladder()
    level = next(lv for lv in framework.levels if lv.id == engineer.level_id)
    next_level = next(lv for lv in framework.levels if lv.id == level.next_level_id)
    assert f'Your level: <a href="/framework/levels/{level.key}">' in page
    assert f'The next step is <a href="/framework/levels/{next_level.key}">' in page
    panel = page.split('id="growth"')[1].split("</section>")[0]
    positions = [panel.index(f">{escape(c.name)}</a>") for c in framework.competencies()]
    assert positions == sorted(positions)
    grows = 0
    for c in framework.competencies():
        now = framework.expectations.get((level.id, c.id))
        nxt = framework.expectations.get((next_level.id, c.id))
        if now and nxt and nxt.expected > now.expected:
            assert f"+{nxt.expected - now.expected}</span> {escape(nxt.description)}" in panel
            grows += 1
    assert grows
    assert panel.count('class="badge up"') == grows
