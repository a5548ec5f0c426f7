from __future__ import annotations

import copy
import json
import re
from importlib import resources

import pytest
from conftest import post
from sqlalchemy import func, select

from reviews.extensions import db
from reviews.framework.models import Competency, Expectation, Level, Opportunity
from reviews.framework.schema import FrameworkError, load_default, parse_framework
from reviews.people.models import Role

LADDER = [
    "Junior Engineer",
    "Engineer",
    "Senior Engineer",
    "Tech Lead",
    "Engineering Manager",
    "Senior Engineering Manager",
    "Director of Engineering",
]
SKILLS = [
    "Technical Fluency",
    "Communication and Listening",
    "Emotional Intelligence",
    "Strategic Thinking",
    "Coaching and Mentorship",
]
RESPONSIBILITIES = [
    "People Management",
    "Technical Guidance",
    "Process Improvement",
    "Project Planning",
    "Stakeholder Communication",
    "Culture Building",
]


def _raw():
    text = resources.files("reviews.framework").joinpath("default_framework.json").read_text()
    return json.loads(text)


def test_default_framework_follows_the_spec():
    doc = load_default()
    assert [lv.name for lv in doc.levels] == LADDER
    assert [lv.track for lv in doc.levels] == ["ic"] * 4 + ["management"] * 3
    names = {g.key: [c.name for c in doc.competencies if c.group == g.key] for g in doc.groups}
    assert names == {"skills": SKILLS, "responsibilities": RESPONSIBILITIES}
    assert [s.label for s in doc.proficiency_scale][:3] == ["Learning", "Developing", "Proficient"]
    assert len(doc.expectations) == len(LADDER) * 11
    rank = {lv.key: lv.rank for lv in doc.levels}
    for comp in doc.competencies:
        along = sorted(
            (e for e in doc.expectations if e.competency == comp.key), key=lambda e: rank[e.level]
        )
        values = [e.expected for e in along]
        assert values == sorted(values), f"{comp.key} expectations fall along the ladder"
    # Responsibilities weigh more from Tech Lead up (SPEC 2).
    weights = {(e.level, e.competency): e.weight for e in doc.expectations}
    assert weights[("tech-lead", "project-planning")] > weights[("engineer", "project-planning")]
    titles = " ".join(o.title.lower() for o in doc.opportunities)
    for named in (
        "lunch-and-learn",
        "pair programming",
        "spike",
        "retrospective",
        "roadmap",
        "incident review",
        "hiring loop",
        "migration runway",
    ):
        assert named in titles, named
    covered = {c for o in doc.opportunities for c in o.competencies}
    assert covered == {c.key for c in doc.competencies}


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            lambda d: d["levels"].__setitem__(0, {**d["levels"][0], "next": "astronaut"}),
            "is not a level",
        ),
        (lambda d: d["expectations"].pop(), "expectations: none for level"),
        (lambda d: d["expectations"][0].__setitem__("expected", 7), "from 1 to 5"),
        (lambda d: d["competencies"][0]["anchors"].pop("3"), "anchors must describe each step"),
        (
            lambda d: d["opportunities"][0].__setitem__("competencies", ["flying"]),
            "known competencies",
        ),
        (lambda d: d["levels"].append(dict(d["levels"][0])), "used twice"),
    ],
    ids=[
        "unknown-next-level",
        "missing-expectation",
        "rating-off-scale",
        "missing-anchor",
        "unknown-competency",
        "duplicate-level",
    ],
)
def test_framework_document_problems_are_all_named(mutate, problem):
    doc = copy.deepcopy(_raw())
    mutate(doc)
    with pytest.raises(FrameworkError) as caught:
        parse_framework(doc)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_default_framework_is_loaded_once(app):
    assert db.session.scalar(select(func.count()).select_from(Level)) == 7
    assert db.session.scalar(select(func.count()).select_from(Expectation)) == 77
    assert db.session.scalar(select(func.count()).select_from(Opportunity)) >= 24


def _form_fields(html: str) -> dict[str, str]:
    """Every input/textarea/select value of a rendered form, as a browser would post it."""
    fields = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*([^<]*)</textarea>', html):
        fields[name] = value.strip()
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body
        )
        if selected:
            fields[name] = selected.group(1) or selected.group(2)
    return {
        k: v.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
        for k, v in fields.items()
    }


@pytest.fixture
def hr_client(make_person, login_as):
    return login_as(make_person("Harriet HR", role=Role.HR, level_key=None))


URL = "/framework/competencies/technical-fluency/edit"


def test_hr_edits_a_competency_and_its_expectations(app, hr_client):
    fields = _form_fields(hr_client.get(URL).get_data(as_text=True))
    engineer = db.session.scalar(select(Level).where(Level.key == "engineer"))
    fields.update(
        {
            "name": "Technical Fluency",
            f"expected_{engineer.id}": "4",
            f"weight_{engineer.id}": "2.5",
            "anchor_1": "Reads code with help.",
        }
    )
    response = post(hr_client, URL, fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    comp = db.session.scalar(select(Competency).where(Competency.key == "technical-fluency"))
    exp = db.session.scalar(
        select(Expectation).where(
            Expectation.competency_id == comp.id, Expectation.level_id == engineer.id
        )
    )
    assert (exp.expected, exp.weight) == (4, 2.5)
    assert comp.anchors[0].text == "Reads code with help."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight", "-1", "Number must be between 0 and 10"),
        ("weight", "lots", "Not a valid decimal value"),
        ("expected", "9", "Not a valid choice"),
        ("name", "", "This field is required"),
        ("anchor_2", "", "This field is required"),
    ],
)
def test_bad_competency_input_is_refused_beside_the_field(app, hr_client, field, value, message):
    fields = _form_fields(hr_client.get(URL).get_data(as_text=True))
    engineer = db.session.scalar(select(Level).where(Level.key == "engineer"))
    key = f"{field}_{engineer.id}" if field in ("weight", "expected") else field
    before = db.session.scalar(
        select(Expectation.weight).where(Expectation.level_id == engineer.id)
    )
    fields[key] = value
    response = post(hr_client, URL, fields)
    assert response.status_code == 400
    assert f'id="{key}-error"' in response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.scalar(select(Expectation.weight).where(Expectation.level_id == engineer.id))
        == before
    )


def test_concurrent_competency_edits_refuse_the_later_save(app, hr_client, make_person, login_as):
    first = _form_fields(hr_client.get(URL).get_data(as_text=True))
    second = dict(first)
    first["description"] = "First editor's words."
    assert post(hr_client, URL, first).status_code == 302
    second["description"] = "Second editor's words."
    response = post(hr_client, URL, second)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else saved this" in page
    assert "First editor&#39;s words." in page  # the current content is shown
    comp = db.session.scalar(select(Competency).where(Competency.key == "technical-fluency"))
    assert comp.description == "First editor's words."


def test_level_edit_detects_conflicts_and_duplicates(app, hr_client):
    url = "/framework/levels/engineer/edit"
    form = _form_fields(hr_client.get(url).get_data(as_text=True))
    stale = dict(form)
    assert post(hr_client, url, {**form, "description": "New scope."}).status_code == 302
    assert post(hr_client, url, {**stale, "description": "Old view."}).status_code == 409
    clash = _form_fields(hr_client.get(url).get_data(as_text=True))
    response = post(hr_client, url, {**clash, "name": "Senior Engineer"})
    assert response.status_code == 400
    assert "Another level already has this name." in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(Level.description).where(Level.key == "engineer")) == "New scope."
    )


def test_hr_adds_edits_and_retires_an_opportunity(app, hr_client):
    comp = db.session.scalar(select(Competency).where(Competency.key == "strategic-thinking"))
    senior = db.session.scalar(select(Level).where(Level.key == "senior-engineer"))
    missing = post(
        hr_client,
        "/framework/opportunities/new",
        {"title": "Write a tech strategy memo", "description": "One page.", "duration_weeks": "4"},
    )
    assert missing.status_code == 400
    assert "Choose at least one competency." in missing.get_data(as_text=True)
    created = post(
        hr_client,
        "/framework/opportunities/new",
        {
            "title": "Write a tech strategy memo",
            "description": "One page, reviewed by peers.",
            "duration_weeks": "4",
            "competencies": [str(comp.id)],
            "levels": [str(senior.id)],
        },
    )
    assert created.status_code == 302
    opp = db.session.scalar(
        select(Opportunity).where(Opportunity.title == "Write a tech strategy memo")
    )
    assert opp.key == "write-a-tech-strategy-memo"
    assert [c.key for c in opp.competencies] == ["strategic-thinking"]
    edit_page = hr_client.get(f"/framework/opportunities/{opp.id}/edit").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*name="competencies"[^>]*value="{comp.id}"', edit_page)
    assert post(hr_client, f"/framework/opportunities/{opp.id}/retire").status_code == 302
    card = '<h2 class="card-title">Write a tech strategy memo'
    listing = hr_client.get("/framework/opportunities").get_data(as_text=True)
    assert card not in listing
    assert card in hr_client.get("/framework/opportunities?retired=1").get_data(as_text=True)


def test_everyone_reads_the_ladder(app, make_person, login_as):
    client = login_as(make_person("Eve Engineer"))
    page = client.get("/framework/").get_data(as_text=True)
    for name in LADDER + SKILLS + RESPONSIBILITIES:
        assert name in page
    assert "Edit competency" not in client.get(
        "/framework/competencies/technical-fluency"
    ).get_data(as_text=True)
