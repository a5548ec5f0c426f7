"""Demo organisation (SPEC 12) and synthetic organisations for benchmarks."""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update

from reviews.audit.operations import record
from reviews.auth.operations import hash_password
from reviews.cycles.workflow import ORDER, CycleState
from reviews.db import utcnow
from reviews.extensions import db
from reviews.framework.models import Competency, Level
from reviews.framework.operations import ensure_default_framework
from reviews.people.models import Department, Person, Role

DEMO_PASSWORD = "demo-password"  # noqa: S105  # published demo credential (SPEC 12)

# (email, name, department, level key or None, manager email or None, role)
DEMO_PEOPLE: list[tuple[str, str, str, str | None, str | None, str]] = [
    ("hr@example.com", "Hannah Reyes", "People Operations", None, None, "hr"),
    ("priya.nair@example.com", "Priya Nair", "People Operations", None, "hr@example.com", "hr"),
    ("jordan.avery@example.com", "Jordan Avery", "People Operations", None, "hr@example.com", "hr"),
    (
        "amara.okafor@example.com",
        "Amara Okafor",
        "Product Engineering",
        "director-of-engineering",
        None,
        "manager",
    ),
    # Product Engineering, web team
    (
        "em@example.com",
        "Elena Marsh",
        "Product Engineering",
        "engineering-manager",
        "amara.okafor@example.com",
        "manager",
    ),
    (
        "dev@example.com",
        "Devon Clarke",
        "Product Engineering",
        "engineer",
        "em@example.com",
        "employee",
    ),
    (
        "sofia.alvarez@example.com",
        "Sofía Álvarez",
        "Product Engineering",
        "senior-engineer",
        "em@example.com",
        "employee",
    ),
    (
        "kenji.watanabe@example.com",
        "Kenji Watanabe",
        "Product Engineering",
        "tech-lead",
        "em@example.com",
        "employee",
    ),
    (
        "aisha.bello@example.com",
        "Aisha Bello",
        "Product Engineering",
        "junior-engineer",
        "em@example.com",
        "employee",
    ),
    (
        "tomas.herrera@example.com",
        "Tomás Herrera",
        "Product Engineering",
        "engineer",
        "em@example.com",
        "employee",
    ),
    (
        "grace.liu@example.com",
        "Grace Liu",
        "Product Engineering",
        "engineer",
        "em@example.com",
        "employee",
    ),
    (
        "oliver.brandt@example.com",
        "Oliver Brandt",
        "Product Engineering",
        "senior-engineer",
        "em@example.com",
        "employee",
    ),
    # Product Engineering, mobile team
    (
        "chloe.dubois@example.com",
        "Chloé Dubois",
        "Product Engineering",
        "engineering-manager",
        "amara.okafor@example.com",
        "manager",
    ),
    (
        "mateo.rossi@example.com",
        "Mateo Rossi",
        "Product Engineering",
        "senior-engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "hana.kim@example.com",
        "Hana Kim",
        "Product Engineering",
        "engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "lucas.martin@example.com",
        "Lucas Martin",
        "Product Engineering",
        "junior-engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "zara.ahmed@example.com",
        "Zara Ahmed",
        "Product Engineering",
        "engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "ethan.brooks@example.com",
        "Ethan Brooks",
        "Product Engineering",
        "tech-lead",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "ines.costa@example.com",
        "Inês Costa",
        "Product Engineering",
        "engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    (
        "yusuf.demir@example.com",
        "Yusuf Demir",
        "Product Engineering",
        "junior-engineer",
        "chloe.dubois@example.com",
        "employee",
    ),
    # Platform
    (
        "marcus.lindqvist@example.com",
        "Marcus Lindqvist",
        "Platform",
        "senior-engineering-manager",
        "amara.okafor@example.com",
        "manager",
    ),
    (
        "nadia.haddad@example.com",
        "Nadia Haddad",
        "Platform",
        "tech-lead",
        "marcus.lindqvist@example.com",
        "employee",
    ),
    (
        "rahul.mehta@example.com",
        "Rahul Mehta",
        "Platform",
        "engineering-manager",
        "marcus.lindqvist@example.com",
        "manager",
    ),
    (
        "freya.nielsen@example.com",
        "Freya Nielsen",
        "Platform",
        "senior-engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "daniel.cohen@example.com",
        "Daniel Cohen",
        "Platform",
        "engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "mei.chen@example.com",
        "Mei Chen",
        "Platform",
        "engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "kwame.mensah@example.com",
        "Kwame Mensah",
        "Platform",
        "junior-engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "laura.fischer@example.com",
        "Laura Fischer",
        "Platform",
        "senior-engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "arjun.iyer@example.com",
        "Arjun Iyer",
        "Platform",
        "engineer",
        "rahul.mehta@example.com",
        "employee",
    ),
    (
        "ingrid.solberg@example.com",
        "Ingrid Solberg",
        "Platform",
        "engineering-manager",
        "marcus.lindqvist@example.com",
        "manager",
    ),
    (
        "pablo.navarro@example.com",
        "Pablo Navarro",
        "Platform",
        "senior-engineer",
        "ingrid.solberg@example.com",
        "employee",
    ),
    (
        "emily.walsh@example.com",
        "Emily Walsh",
        "Platform",
        "engineer",
        "ingrid.solberg@example.com",
        "employee",
    ),
    (
        "jonas.weber@example.com",
        "Jonas Weber",
        "Platform",
        "junior-engineer",
        "ingrid.solberg@example.com",
        "employee",
    ),
    (
        "fatima.zahra@example.com",
        "Fatima Zahra",
        "Platform",
        "engineer",
        "ingrid.solberg@example.com",
        "employee",
    ),
    (
        "noah.petersen@example.com",
        "Noah Petersen",
        "Platform",
        "tech-lead",
        "ingrid.solberg@example.com",
        "employee",
    ),
    # Data
    (
        "samuel.osei@example.com",
        "Samuel Osei",
        "Data",
        "engineering-manager",
        "amara.okafor@example.com",
        "manager",
    ),
    (
        "anna.kowalska@example.com",
        "Anna Kowalska",
        "Data",
        "tech-lead",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "ravi.sharma@example.com",
        "Ravi Sharma",
        "Data",
        "senior-engineer",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "julia.santos@example.com",
        "Júlia Santos",
        "Data",
        "engineer",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "omar.khalil@example.com",
        "Omar Khalil",
        "Data",
        "engineer",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "sara.lindgren@example.com",
        "Sara Lindgren",
        "Data",
        "junior-engineer",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "wei.zhang@example.com",
        "Wei Zhang",
        "Data",
        "senior-engineer",
        "samuel.osei@example.com",
        "employee",
    ),
    (
        "chidi.eze@example.com",
        "Chidi Eze",
        "Data",
        "engineer",
        "samuel.osei@example.com",
        "employee",
    ),
]

FIRST = [
    "Ada",
    "Ahmed",
    "Akira",
    "Alice",
    "Amir",
    "Ana",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Dana",
    "David",
    "Elif",
    "Emma",
    "Farah",
    "Felix",
    "Gita",
    "Hugo",
    "Ivan",
    "Jana",
    "Joao",
    "Kai",
    "Lena",
    "Leo",
    "Maya",
    "Mohammed",
    "Nia",
    "Nikos",
    "Olga",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sam",
    "Sana",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Adeyemi",
    "Bauer",
    "Costa",
    "Dimitrov",
    "Eriksen",
    "Fernandes",
    "Garcia",
    "Hoang",
    "Ibrahim",
    "Jansen",
    "Kaur",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Ortiz",
    "Popescu",
    "Qureshi",
    "Rahman",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Wong",
    "Xu",
    "Yilmaz",
    "Zielinski",
]
SYNTHETIC_DEPARTMENTS = [
    "Platform",
    "Product Engineering",
    "Data",
    "Mobile",
    "Infrastructure",
    "Security",
    "Developer Experience",
    "Payments",
]
IC_LEVELS = [
    "junior-engineer",
    "engineer",
    "engineer",
    "senior-engineer",
    "senior-engineer",
    "tech-lead",
]
FANOUT = 7


class DemoError(RuntimeError):
    pass


def _require_empty() -> None:
    existing = db.session.scalar(select(func.count()).select_from(Person)) or 0
    if existing:
        raise DemoError(
            f"the database already holds {existing} people; "
            "demo data is only loaded into an empty database"
        )


def _department_ids(names: list[str]) -> dict[str, int]:
    have = dict(db.session.execute(select(Department.name, Department.id)).all())
    missing = [n for n in names if n not in have]
    if missing:
        db.session.execute(insert(Department), [{"name": n} for n in missing])
        have = dict(db.session.execute(select(Department.name, Department.id)).all())
    return have


def _insert_people(rows: list[dict[str, object]], managers: list[str | None]) -> None:
    """Insert people, then point each at their manager (by email), in two statements."""
    ids = dict(
        db.session.execute(
            insert(Person).returning(Person.email, Person.id, sort_by_parameter_order=True), rows
        ).all()
    )
    pairs = [
        {"id": ids[str(r["email"])], "manager_id": ids[m]}
        for r, m in zip(rows, managers, strict=True)
        if m
    ]
    if pairs:
        db.session.execute(update(Person), pairs)


def load_demo_org() -> int:
    """The demo organisation of SPEC 12; returns how many people it holds."""
    _require_empty()
    ensure_default_framework()
    departments = _department_ids(sorted({p[2] for p in DEMO_PEOPLE}))
    levels = dict(db.session.execute(select(Level.key, Level.id)).all())
    password = hash_password(DEMO_PASSWORD)
    now = utcnow()
    rows: list[dict[str, object]] = [
        {
            "email": email,
            "name": name,
            "department_id": departments[dept],
            "level_id": levels[level] if level else None,
            "role": Role(role),
            "active": True,
            "password_hash": password,
            "session_version": 1,
            "created_at": now,
        }
        for email, name, dept, level, _manager, role in DEMO_PEOPLE
    ]
    _insert_people(rows, [p[4] for p in DEMO_PEOPLE])
    record("demo.loaded", actor=None, people=len(rows))
    db.session.flush()
    return len(rows)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def build_synthetic_org(people: int, seed: int = 7) -> int:
    """A tree of `people` people (7 reports per manager) holding the demo accounts.

    Index 0 is the director, 1 is em@example.com, 8 (em's first report) is
    dev@example.com; hr@example.com heads People Operations.
    """
    if people < 10:
        raise DemoError("a synthetic organisation needs at least 10 people")
    _require_empty()
    ensure_default_framework()
    rng = random.Random(seed)
    departments = _department_ids([*SYNTHETIC_DEPARTMENTS, "People Operations"])
    levels = dict(db.session.execute(select(Level.key, Level.id)).all())
    password = hash_password(DEMO_PASSWORD)
    now = utcnow()
    engineers = people - 1  # hr@example.com is outside the engineering tree
    rows: list[dict[str, object]] = []
    managers: list[str | None] = []
    emails: list[str] = []
    for i in range(engineers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if i == 1:
            email, name = "em@example.com", "Elena Marsh"
        elif i == FANOUT + 1:
            email, name = "dev@example.com", "Devon Clarke"
        else:
            email, name = f"{_ascii(first)}.{_ascii(last)}.{i}@example.com", f"{first} {last}"
        has_reports = i * FANOUT + 1 < engineers
        if i == 0:
            level = "director-of-engineering"
        elif has_reports and i <= FANOUT:
            level = "senior-engineering-manager" if i != 1 else "engineering-manager"
        elif has_reports:
            level = "engineering-manager"
        else:
            level = rng.choice(IC_LEVELS)
        if i == FANOUT + 1:
            level = "engineer"
        branch = i if i <= FANOUT else _top_branch(i)
        department = (
            SYNTHETIC_DEPARTMENTS[(branch - 1) % len(SYNTHETIC_DEPARTMENTS)]
            if i
            else "Product Engineering"
        )
        emails.append(email)
        rows.append(
            {
                "email": email,
                "name": name,
                "department_id": departments[department],
                "level_id": levels[level],
                "role": Role.MANAGER if has_reports else Role.EMPLOYEE,
                "active": True,
                "password_hash": password,
                "session_version": 1,
                "created_at": now,
            }
        )
        managers.append(emails[(i - 1) // FANOUT] if i else None)
    rows.append(
        {
            "email": "hr@example.com",
            "name": "Hannah Reyes",
            "department_id": departments["People Operations"],
            "level_id": None,
            "role": Role.HR,
            "active": True,
            "password_hash": password,
            "session_version": 1,
            "created_at": now,
        }
    )
    managers.append(None)
    _insert_people(rows, managers)
    record("demo.synthetic_loaded", actor=None, people=len(rows))
    db.session.flush()
    return len(rows)


def _top_branch(i: int) -> int:
    while i > FANOUT:
        i = (i - 1) // FANOUT
    return i


# A review cycle in progress (SPEC 12: in its peer-feedback phase) --------------

ACCOMPLISHMENTS = [
    "Led the billing service migration to the new queue; no downtime, p95 latency down 30%.",
    "Shipped the onboarding redesign with product and design; activation rose from 41% to 48%.",
    "Cut the CI pipeline from 22 to 9 minutes by splitting the test suite and caching builds.",
    "Ran the incident review for the March outage and drove the five follow-up actions to done.",
    "Mentored two new engineers through their first on-call rotation.",
    "Wrote the design doc for multi-region storage and got sign-off from three teams.",
]
GROWTH = [
    "I want to get better at planning larger projects and communicating trade-offs early.",
    "I would like to mentor more and lead a design review end to end.",
    "Strategic thinking: connect my team's roadmap to company goals.",
    "Present our work to stakeholders outside engineering.",
]
STRENGTHS = [
    "Explains complex systems clearly; the storage design review was the best prepared.",
    "Unblocks others quickly: answered most of our team's questions in the migration channel.",
    "Writes careful code reviews that teach rather than gatekeep.",
    "Stays calm in incidents and keeps the timeline and the channel tidy.",
]
GROWTH_AREAS = [
    "Could share work in progress earlier; we saw the API change only at review time.",
    "Sometimes takes on too much alone; delegating the dashboard work would have helped.",
    "Meetings they run could end with clearer owners and next steps.",
]
SUGGESTIONS = [
    "Post a short weekly update in the team channel on the project's state and risks.",
    "Pair with a junior engineer on the next spike and let them present the result.",
    "Run one lunch-and-learn on the caching layer next quarter.",
]


MANAGER_SUMMARIES = [
    "A strong half: delivered the main project on time and raised the bar for the team's reviews.",
    "Solid, dependable work; the next step is leading across team boundaries.",
    "Good progress on the technical side; planning and stakeholder updates need more attention.",
    "Grew quickly this half and took on on-call with confidence.",
]
CALIBRATION_REASONS = [
    "Impact across two teams was larger than the team-level view showed.",
    "Aligned with peers at the same level: strong delivery, but scope stayed within the team.",
    "The incident leadership in May was exceptional and is not reflected in the proposal.",
]


def load_demo_cycles(actor_email: str = "hr@example.com", seed: int = 11) -> None:
    """Two cycles (SPEC 12): last half's, calibrated, released, acknowledged and closed;
    and this half's in its peer-feedback phase with realistic progress."""
    rng = random.Random(seed)
    hr = db.session.scalar(select(Person).where(Person.email == actor_email))
    if hr is None:
        raise DemoError(f"{actor_email} is not in the organisation")
    today = date.today()
    start = today - timedelta(days=200)
    from reviews.review_templates.operations import create_template

    peer_template = create_template(hr, DEMO_PEER_TEMPLATE)
    upward_template = create_template(hr, DEMO_UPWARD_TEMPLATE)
    _demo_cycle(
        hr,
        rng,
        f"{start.year} H1 performance review",
        start,
        CycleState.CLOSED,
        self_share=1.0,
        peer_share=0.9,
    )
    _demo_cycle(
        hr,
        rng,
        f"{today.year} H2 performance review",
        today - timedelta(days=20),
        CycleState.PEER_FEEDBACK,
        self_share=0.88,
        peer_share=0.65,
        template_ids={"peer": peer_template.id, "upward": upward_template.id},
    )
    load_demo_between_cycles(rng)


# This half's cycle asks reports about their manager's one-to-ones too, and lets them
# leave HR a note the manager never reads.
DEMO_UPWARD_TEMPLATE = {
    "name": "Engineering upward feedback",
    "part": "upward",
    "sections": [
        {
            "title": "How your manager supports you",
            "questions": [
                {
                    "key": "competencies",
                    "kind": "competencies",
                    "label": "Management competencies",
                    "required": False,
                },
                {
                    "key": "one_to_ones",
                    "kind": "scale",
                    "label": "How useful are your one-to-ones?",
                    "steps": ["Not useful", "Somewhat useful", "Useful", "Very useful"],
                    "cant_judge": True,
                },
                {
                    "key": "recommend",
                    "kind": "yes_no",
                    "label": "Would you recommend them as a manager to a friend?",
                },
                {
                    "key": "comment",
                    "kind": "text",
                    "label": "What should your manager keep doing, or do differently?",
                    "required": False,
                    "max_length": 2000,
                },
            ],
        },
        {
            "title": "For HR only",
            "questions": [
                {
                    "key": "hr_note",
                    "kind": "text",
                    "label": "Anything HR should know?",
                    "help": "Only HR reads this; your manager and their managers never do.",
                    "required": False,
                    "audience": "hr",
                    "max_length": 1000,
                }
            ],
        },
    ],
}


# This half's cycle asks peers the built-in questions and three of the company's own.
DEMO_PEER_TEMPLATE = {
    "name": "Engineering peer feedback",
    "part": "peer",
    "sections": [
        {
            "title": "Working together",
            "questions": [
                {
                    "key": "closeness",
                    "kind": "scale",
                    "label": "How closely did you work together this half?",
                    "steps": ["Rarely", "Monthly", "Weekly", "Daily"],
                    "cant_judge": False,
                },
                {
                    "key": "again",
                    "kind": "yes_no",
                    "label": "Would you want to work with them again on a hard project?",
                },
            ],
        },
        {
            "title": "Your feedback",
            "questions": [
                {"key": "strengths", "kind": "text", "label": "Strengths"},
                {"key": "growth_areas", "kind": "text", "label": "Growth areas"},
                {"key": "suggestion", "kind": "text", "label": "One concrete suggestion"},
                {
                    "key": "hr_note",
                    "kind": "text",
                    "label": "Anything HR should know?",
                    "help": "Only HR reads this: not the person, not their managers.",
                    "required": False,
                    "audience": "hr",
                    "max_length": 1000,
                },
            ],
        },
        {
            "title": "Competencies",
            "questions": [
                {
                    "key": "competencies",
                    "kind": "competencies",
                    "label": "Competencies",
                    "required": False,
                }
            ],
        },
    ],
}


DEMO_FEEDBACK = [
    # (author, recipient, kind, visibility, days ago, competencies, text)
    (
        "sofia.alvarez@example.com",
        "dev@example.com",
        "praise",
        "managers",
        95,
        ["technical-fluency"],
        "Your spike on the search indexer turned a vague worry into a plan we could "
        "estimate. The benchmark table in the write-up settled the debate in one meeting.",
    ),
    (
        "em@example.com",
        "dev@example.com",
        "feedback",
        "managers",
        60,
        ["communication-and-listening"],
        "In Tuesday's planning you summarised both options before arguing for yours; the "
        "team agreed faster because of it. Next time, share the doc a day ahead.",
    ),
    (
        "sofia.alvarez@example.com",
        "dev@example.com",
        "feedback",
        "recipient",
        30,
        ["stakeholder-communication"],
        "When support asked about the outage, your reply was accurate but heavy on jargon. "
        "A two-line summary first would help them pass it on.",
    ),
    (
        "dev@example.com",
        "sofia.alvarez@example.com",
        "praise",
        "managers",
        40,
        ["coaching-and-mentorship"],
        "Pairing with you on the flaky payment tests taught me how to bisect CI failures. "
        "I used it on my own the next week.",
    ),
    (
        "amara.okafor@example.com",
        "em@example.com",
        "praise",
        "managers",
        20,
        ["people-management"],
        "The hiring debriefs you ran this month were the most structured in the org: "
        "every interviewer wrote evidence before the discussion.",
    ),
]


def load_demo_between_cycles(rng: random.Random) -> None:
    """Feedback given during the year, goals seeded from Devon's growth plan with
    check-ins and a manager's comment, and some upward feedback in the running cycle."""
    from reviews.cycles.models import Cycle, Review
    from reviews.feedback.models import FeedbackKind, FeedbackNote, FeedbackVisibility
    from reviews.goals.models import Goal, GoalCheckIn, GoalComment, GoalSource, GoalStatus
    from reviews.growth.models import GrowthPlan
    from reviews.review_templates.queries import template_of
    from reviews.upward.aggregate import UPWARD_COMPETENCIES
    from reviews.upward.models import UpwardAnswer, UpwardParticipation

    emails = {e for row in DEMO_FEEDBACK for e in row[:2]}
    people = {
        p.email: p for p in db.session.scalars(select(Person).where(Person.email.in_(emails)))
    }
    now = datetime.now(UTC)
    for author, recipient, kind, visibility, days, competencies, text in DEMO_FEEDBACK:
        if author in people and recipient in people:
            db.session.add(
                FeedbackNote(
                    author_id=people[author].id,
                    recipient_id=people[recipient].id,
                    kind=FeedbackKind(kind),
                    visibility=FeedbackVisibility(visibility),
                    body=text,
                    competencies=competencies,
                    created_at=now - timedelta(days=days),
                )
            )
    dev, em = people.get("dev@example.com"), people.get("em@example.com")
    if dev is None or em is None:
        return
    plan = db.session.scalar(
        select(GrowthPlan)
        .join(Review, GrowthPlan.review_id == Review.id)
        .where(Review.subject_id == dev.id)
        .order_by(GrowthPlan.id.desc())
        .limit(1)
    )
    today = date.today()
    start = today - timedelta(days=120)
    goals = []
    if plan is not None and plan.items:
        item = plan.items[0]
        goals.append(
            Goal(
                owner_id=dev.id,
                title=item.title,
                outcome=item.description or f"Complete “{item.title}” and share what you learned.",
                competencies=list(item.competencies),
                period_start=start,
                period_end=today + timedelta(days=60),
                due_date=today + timedelta(days=45),
                status=GoalStatus.ON_TRACK,
                progress=60,
                source=GoalSource.OPPORTUNITY,
                growth_plan_id=plan.id,
                created_by_id=dev.id,
                created_at=now - timedelta(days=118),
            )
        )
    goals.append(
        Goal(
            owner_id=dev.id,
            title="Cut the search p95 latency below 300 ms",
            outcome="p95 of /search under 300 ms for four weeks in a row on the production "
            "dashboard.",
            competencies=["technical-fluency", "project-planning"],
            period_start=start,
            period_end=today + timedelta(days=60),
            due_date=today + timedelta(days=50),
            status=GoalStatus.AT_RISK,
            progress=35,
            checkin_every_days=14,
            created_by_id=dev.id,
            created_at=now - timedelta(days=110),
        )
    )
    db.session.add_all(goals)
    db.session.flush()
    notes = [
        (80, 3, 20, "Added the query cache; p95 went from 520 to 410 ms."),
        (50, 2, 35, "Cache hit rate is lower than hoped; index rebuilds evict it."),
    ]
    for goal in goals:
        for days, confidence, progress, note in notes:
            entry = GoalCheckIn(
                goal_id=goal.id,
                author_id=dev.id,
                note=note if goal.source == GoalSource.OWN else f"Progress: {progress}%.",
                confidence=confidence + (1 if goal.source != GoalSource.OWN else 0),
                progress=progress if goal.source == GoalSource.OWN else progress + 25,
                created_at=now - timedelta(days=days),
            )
            db.session.add(entry)
        db.session.flush()
        db.session.add(
            GoalComment(
                goal_id=goal.id,
                checkin_id=entry.id,
                author_id=em.id,
                body="Let's look at the eviction numbers together on Thursday.",
                created_at=now - timedelta(days=days - 1),
            )
        )
    # Upward feedback about Elena: four reports answered in the closed cycle (shown to her
    # in aggregate); three so far in the running one, Devon not yet.
    comments = [
        "Our one-to-ones always have an agenda and follow-ups.",
        "I'd like more context on why priorities change mid-sprint.",
        "Great at finding stretch work that fits what I want to learn.",
        "",
    ]
    cycles = list(
        db.session.scalars(select(Cycle).where(Cycle.upward_feedback.is_(True)).order_by(Cycle.id))
    )
    for cycle, answers in zip(cycles, (4, 3), strict=False):
        custom = template_of(cycle, "upward").question("one_to_ones") is not None
        authors = db.session.scalars(
            select(Review.subject_id)
            .where(
                Review.cycle_id == cycle.id,
                Review.manager_id == em.id,
                Review.subject_id != dev.id,
            )
            .order_by(Review.subject_id)
            .limit(answers)
        )
        for author_id, comment in zip(authors, comments, strict=False):
            db.session.add(
                UpwardParticipation(
                    cycle_id=cycle.id, manager_id=em.id, author_id=author_id, answered_on=today
                )
            )
            db.session.add(
                UpwardAnswer(
                    id=rng.randrange(1, 2**31 - 1),
                    cycle_id=cycle.id,
                    manager_id=em.id,
                    ratings={k: rng.choice([3, 4, 4, 5]) for k in UPWARD_COMPETENCIES},
                    answers=({"comment": comment} if comment else {})
                    | (
                        {"one_to_ones": rng.choice([3, 4, 4]), "recommend": rng.random() < 0.8}
                        if custom
                        else {}
                    ),
                )
            )
    db.session.flush()


def _demo_cycle(
    hr: Person,
    rng: random.Random,
    name: str,
    opened: object,
    stop_at: object,
    *,
    self_share: float,
    peer_share: float,
    template_ids: dict[str, int] | None = None,
) -> None:
    from reviews.calibration import operations as calibration_ops
    from reviews.calibration.models import GroupKind
    from reviews.cycles import operations as cycle_ops
    from reviews.cycles.models import ParticipantMode, PartKind, PeerRequest, RequestState, Review
    from reviews.cycles.parts import PartInput
    from reviews.framework.models import Expectation

    cycle = cycle_ops.create_cycle(
        hr,
        cycle_ops.CycleFields(
            name=name,
            period_start=opened - timedelta(days=180),
            period_end=opened + timedelta(days=30),
            participant_mode=ParticipantMode.ALL,
            department_ids=[],
            participant_ids=[],
            self_review_due=opened + timedelta(days=15),
            peer_feedback_due=opened + timedelta(days=24),
            manager_review_due=opened + timedelta(days=38),
            calibration_due=opened + timedelta(days=48),
            peer_min=2,
            peer_max=4,
            peer_anonymous=True,
            anonymity_threshold=3,
            peer_names_to_managers=True,
            reviewer_load_cap=5,
            guidance=[5, 20, 50, 20, 5],
            upward_feedback=True,
            template_ids=template_ids or {},
        ),
    )
    reached = ORDER.index(stop_at)

    def advance(target: CycleState) -> bool:
        if ORDER.index(target) > reached:
            return False
        cycle_ops.advance_cycle(hr, cycle, target)
        return True

    advance(CycleState.SELF_REVIEW)
    expected = {
        (lv, key): e
        for lv, key, e in db.session.execute(
            select(Level.key, Competency.key, Expectation.expected)
            .join(Expectation, Expectation.level_id == Level.id)
            .join(Competency, Expectation.competency_id == Competency.id)
        )
    }
    keys = list(db.session.scalars(select(Competency.key).order_by(Competency.position)))
    reviews = list(
        db.session.scalars(select(Review).where(Review.cycle_id == cycle.id).order_by(Review.id))
    )
    people = {p.id: p for p in db.session.scalars(select(Person))}

    def rate(level: str | None, bias: float = 0.0) -> dict[str, int]:
        return {
            k: max(
                1,
                min(
                    5,
                    round(
                        expected.get((level or "engineer", k), 3)
                        + bias
                        + rng.choice([-1, 0, 0, 0, 1])
                    ),
                ),
            )
            for k in keys
        }

    for review in reviews:
        subject = people[review.subject_id]
        if subject.email != "dev@example.com" and rng.random() > self_share:
            continue  # a late self-review: the phase moved on without it
        part = cycle_ops.part_for(review, PartKind.SELF)
        cycle_ops.save_part(
            subject,
            part,
            part.version,
            PartInput(
                ratings=rate(review.level_key, 0.2),
                comments={keys[0]: "Owned the technical design of my main project this half."},
                answers={
                    "accomplishments": rng.choice(ACCOMPLISHMENTS),
                    "growth": rng.choice(GROWTH),
                },
            ),
            submit=True,
        )
    by_department: dict[int | None, list[Review]] = {}
    for review in reviews:
        if review.level_key:
            by_department.setdefault(review.department_id, []).append(review)
    load: dict[int, int] = {}
    for group in by_department.values():
        for review in group:
            manager = people.get(review.manager_id or 0)
            if manager is None:
                continue
            # Three peers from the same department, spreading the load evenly.
            candidates = sorted(
                (r.subject_id for r in group if r.subject_id != review.subject_id),
                key=lambda pid: (load.get(pid, 0), rng.random()),
            )
            for peer_id in candidates[:3]:
                cycle_ops.add_peer(manager, review, people[peer_id])
                load[peer_id] = load.get(peer_id, 0) + 1
    if not advance(CycleState.PEER_FEEDBACK):
        return
    requests = list(
        db.session.scalars(
            select(PeerRequest)
            .join(Review, PeerRequest.review_id == Review.id)
            .where(Review.cycle_id == cycle.id, PeerRequest.state == RequestState.APPROVED)
            .order_by(PeerRequest.id)
        )
    )
    for request in requests:
        reviewer = people[request.reviewer_id]
        if (reviewer.email == "dev@example.com" and stop_at == CycleState.PEER_FEEDBACK) or (
            rng.random() > peer_share
        ):
            continue
        feedback = cycle_ops.peer_assessment(request)
        cycle_ops.save_part(
            reviewer,
            feedback,
            feedback.version,
            PartInput(
                ratings={k: rng.choice([3, 3, 4, 4, 5]) for k in rng.sample(keys, 4)},
                answers={
                    "strengths": rng.choice(STRENGTHS),
                    "growth_areas": rng.choice(GROWTH_AREAS),
                    "suggestion": rng.choice(SUGGESTIONS),
                },
                choices={"closeness": rng.choice([2, 3, 3, 4]), "again": rng.random() < 0.85}
                if template_ids
                else {},
            ),
            submit=True,
        )
    if not advance(CycleState.MANAGER_REVIEW):
        return
    # Managers differ: one rates generously, one strictly (calibration shows it).
    habits = {"rahul.mehta@example.com": 0.7, "samuel.osei@example.com": -0.7}
    for review in reviews:
        manager = people.get(review.manager_id or 0)
        if manager is None:
            continue
        bias = habits.get(manager.email, 0.0)
        ratings = rate(review.level_key, bias / 2)
        gaps = [ratings[k] - expected.get((review.level_key or "engineer", k), 3) for k in keys]
        noise = rng.choice([-1, -0.5, 0, 0, 0, 0.5, 1])
        overall = max(1, min(5, round(3 + sum(gaps) / len(gaps) + bias + noise)))
        part = cycle_ops.part_for(review, PartKind.MANAGER)
        cycle_ops.save_part(
            manager,
            part,
            part.version,
            PartInput(
                ratings=ratings,
                comments={keys[1]: "Clear written updates; the migration RFC was exemplary."},
                answers={
                    "summary": rng.choice(MANAGER_SUMMARIES),
                    "strengths": rng.choice(STRENGTHS),
                    "growth_areas": rng.choice(GROWTH_AREAS),
                },
                overall=overall,
                potential=rng.choice(["low", "medium", "medium", "high"]),
                readiness=rng.choice(["not_yet", "not_yet", "within_a_year", "ready_now"]),
            ),
            submit=True,
        )
    if not advance(CycleState.CALIBRATION):
        return
    from reviews.people.models import Department

    for department in db.session.scalars(
        select(Department).where(Department.name.in_(["Product Engineering", "Platform", "Data"]))
    ):
        session = calibration_ops.open_session(
            hr,
            cycle,
            GroupKind.DEPARTMENT,
            department=department,
            manager=None,
            managers_calibrate=True,
        )
        members = [r for r in reviews if r.department_id == department.id and r.manager_id]
        for review in rng.sample(members, k=min(2, len(members))):
            db.session.refresh(review)
            if review.final_rating is None:
                continue
            new = max(1, min(5, review.final_rating + rng.choice([-1, 1])))
            if new != review.final_rating:
                calibration_ops.change_final(
                    hr,
                    session,
                    review,
                    review.final_version,
                    calibration_ops.FinalChange(new, None, {}),
                    rng.choice(CALIBRATION_REASONS),
                )
        if stop_at != CycleState.CALIBRATION:
            calibration_ops.finish_session(hr, session)
    if stop_at == CycleState.CALIBRATION:
        return
    calibration_ops.finalise_uncalibrated(hr, cycle)
    db.session.expire_all()  # final values were written in bulk
    advance(CycleState.RELEASED)
    for review in reviews:
        subject = people[review.subject_id]
        if review.final_rating is not None and (
            subject.email == "dev@example.com" or rng.random() < 0.85
        ):
            calibration_ops.acknowledge(
                subject,
                review,
                rng.choice(
                    [
                        "",
                        "",
                        "Thanks, this matches our 1:1s.",
                        "I'd like to talk about the growth areas.",
                    ]
                ),
            )
    advance(CycleState.CLOSED)
    db.session.flush()
