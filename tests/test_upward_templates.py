"""Upward feedback asks the cycle's own questions: HR designs them in a template, launch
freezes them, reports answer every kind on the form, and each reader of the results gets
only the aggregates of the questions meant for them, on the page, the API, HR's CSV and
the personal-data export."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from between_helpers import client_for
from conftest import post
from cycle_helpers import advance, launched_cycle
from sqlalchemy import func, select
from test_exports import pdf_text

from reviews.api.operations import create_token
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role
from reviews.privacy import export_person
from reviews.review_templates import operations as template_ops
from reviews.review_templates.definition import TemplateError
from reviews.review_templates.parsing import parse_template
from reviews.upward import queries
from reviews.upward.aggregate import summarise
from reviews.upward.models import UpwardAnswer, UpwardParticipation

PM = "people-management"
DOC: dict[str, Any] = {
    "name": "Our upward feedback",
    "part": "upward",
    "sections": [
        {
            "title": "Your manager",
            "questions": [
                {
                    "key": "competencies",
                    "kind": "competencies",
                    "label": "Management",
                    "required": False,
                },
                {
                    "key": "one_to_ones",
                    "kind": "scale",
                    "label": "How useful are your one-to-ones?",
                    "steps": ["Not useful", "Somewhat", "Useful", "Very useful"],
                    "cant_judge": True,
                },
                {"key": "recommend", "kind": "yes_no", "label": "Would you recommend them?"},
                {
                    "key": "setting",
                    "kind": "choice",
                    "label": "Where you meet",
                    "required": False,
                    "options": [
                        {"key": "walk", "label": "Walking"},
                        {"key": "desk", "label": "At a desk"},
                    ],
                },
                {
                    "key": "topics",
                    "kind": "choices",
                    "label": "What you talk about",
                    "required": False,
                    "options": [
                        {"key": "career", "label": "Career"},
                        {"key": "work", "label": "Work"},
                        {"key": "life", "label": "Life"},
                    ],
                },
                {
                    "key": "keep",
                    "kind": "text",
                    "label": "What should they keep doing?",
                    "required": False,
                    "max_length": 500,
                },
            ],
        },
        {
            "title": "Private",
            "questions": [
                {
                    "key": "line_note",
                    "kind": "text",
                    "label": "A word for their managers",
                    "required": False,
                    "audience": "line",
                },
                {
                    "key": "hr_note",
                    "kind": "text",
                    "label": "A word for HR",
                    "required": False,
                    "audience": "hr",
                },
            ],
        },
    ],
}
# What each of five reports answers: (one-to-ones step, recommend, setting, topics).
ANSWERS = [
    ("4", "yes", "walk", ["career", "work"]),
    ("3", "yes", "walk", ["work"]),
    ("4", "yes", "desk", ["career"]),
    ("2", "no", "", ["life"]),
    ("cant_judge", "yes", "walk", ["work", "life"]),
]


@pytest.fixture
def org(make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dee Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person("Bo Boss", role=Role.MANAGER, manager=director)
    reports = [
        make_person(f"Report{n} Zed", email=f"report{n}@example.com", manager=boss)
        for n in range(5)
    ]
    return hr, director, boss, reports


def _cycle(hr, doc=DOC):
    template = template_ops.create_template(hr, doc)
    db.session.commit()
    cycle = launched_cycle(hr, upward_feedback=True, template_ids={"upward": template.id})
    return template, cycle


def _answer(app, person, cycle, n: int) -> Any:
    step, recommend, setting, topics = ANSWERS[n]
    data: dict[str, Any] = {
        f"rating_{PM}": str(3 + n % 3),
        "one_to_ones": step,
        "recommend": recommend,
        "setting": setting,
        "topics": topics,
        "keep": f"KEEP-{n} the weekly demos",
        "line_note": f"LINENOTE-{n}",
        "hr_note": f"HRNOTE-{n}",
    }
    return post(client_for(app, person), f"/cycles/{cycle.id}/upward", data)


def _bearer(person) -> dict[str, str]:
    _row, secret = create_token(None, person, "t")
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_every_kind_is_asked_and_each_reader_gets_only_the_questions_meant_for_them(app, org):
    hr, director, boss, reports = org
    _template, cycle = _cycle(hr)
    form = client_for(app, reports[0]).get(f"/cycles/{cycle.id}/upward").get_data(as_text=True)
    for label in ("How useful are your one-to-ones?", "Would you recommend them?", "Walking"):
        assert label in form
    assert "Read by their managers and HR only" in form
    assert "Read by HR only" in form
    assert 'name="topics" value="life"' in form
    # Every problem at once, beside its field and in the summary; nothing is kept.
    refused = post(
        client_for(app, reports[0]),
        f"/cycles/{cycle.id}/upward",
        {f"rating_{PM}": "9", "setting": "sofa", "topics": ["work", "golf"]},
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    for message in (
        "How useful are your one-to-ones? is needed before submitting.",
        "Would you recommend them? is needed before submitting.",
        "Choose one of: Walking, At a desk.",
        "&#39;golf&#39; is not an option",
        "Choose a rating from 1 to 5, or skip.",
    ):
        assert page.count(message) == 2, message  # beside the field and in the summary
    assert 'value="work" checked' in page  # what they chose is kept
    assert db.session.scalar(select(func.count()).select_from(UpwardParticipation)) == 0

    for n, person in enumerate(reports):
        response = _answer(app, person, cycle, n)
        assert response.status_code == 302, response.get_data(as_text=True)
    stored = list(db.session.scalars(select(UpwardAnswer.answers)))
    assert sorted(a["one_to_ones"] for a in stored if a["one_to_ones"] != "cant_judge") == [
        2,
        3,
        4,
        4,
    ]
    assert sorted(a["recommend"] for a in stored) == [False, True, True, True, True]
    assert {"walk", "desk"} == {a["setting"] for a in stored if "setting" in a}

    # Collecting still: nobody reads anything yet.
    collecting = client_for(app, boss).get(f"/cycles/{cycle.id}/upward/{boss.id}")
    assert "KEEP-" not in collecting.get_data(as_text=True)
    advance(hr, cycle, CycleState.CALIBRATION)

    def page_of(person) -> str:
        response = client_for(app, person).get(f"/cycles/{cycle.id}/upward/{boss.id}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def api_of(person) -> dict[str, Any]:
        response = client_for(app, person).get(
            f"/api/v1/cycles/{cycle.id}/upward/{boss.id}", headers=_bearer(person)
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    seen = {
        "boss": (page_of(boss), api_of(boss), json.dumps(export_person(boss))),
        "director": (page_of(director), api_of(director)),
        "hr": (page_of(hr), api_of(hr)),
    }
    for who, (page, api, *rest) in seen.items():
        text = page + json.dumps(api) + "".join(rest)
        assert "KEEP-4 the weekly demos" in text
        assert ("LINENOTE-" in text) is (who != "boss"), who
        assert ("A word for their managers" in text) is (who != "boss"), who
        assert ("HRNOTE-" in text) is (who == "hr"), who
        assert ("A word for HR" in text) is (who == "hr"), who
    # The personal-data PDF HR downloads for the manager reads as the manager may.
    pdf = client_for(app, hr).get(f"/people/{boss.id}/data.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "Would you recommend them? (5 answers: Yes 4; No 1)" in " ".join(text.split())
    assert "KEEP-4 the weekly demos" in text
    assert "LINENOTE-" not in text
    assert "HRNOTE-" not in text
    # The chosen answers are counted, all reports together, from five answers on.
    questions = {q["key"]: q for q in seen["boss"][1]["questions"]}
    assert questions["recommend"]["counts"] == [["Yes", 4], ["No", 1]]
    assert questions["one_to_ones"]["mean"] == 3.25  # can't judge left out
    # four chose a step: counts per step show from five
    assert questions["one_to_ones"]["counts"] is None
    assert questions["setting"]["responses"] == 4
    assert questions["setting"]["counts"] is None  # four answered it: counts show from five
    assert questions["topics"]["counts"] == [["Career", 2], ["Work", 3], ["Life", 2]]
    assert questions["keep"]["texts"] == sorted(f"KEEP-{n} the weekly demos" for n in range(5))
    assert "Yes</span>" in seen["boss"][0]
    assert "<meter" in seen["boss"][0]

    # HR's CSV: a column per question that is not free text; words stay on the page.
    csv = client_for(app, hr).get(f"/cycles/{cycle.id}/upward.csv").get_data(as_text=True)
    header, *rows = csv.splitlines()
    assert "How useful are your one-to-ones?" in header
    assert "Would you recommend them?" in header
    assert "What should they keep doing?" not in header
    (row,) = [r for r in rows if r.startswith("Bo Boss")]
    assert "Yes: 4; No: 1" in row
    assert not re.search("KEEP-|LINENOTE-|HRNOTE-", csv)


def test_forgetting_a_manager_drops_every_word_about_them_and_keeps_the_figures(app, org):
    from flask import current_app

    from reviews.people.operations import deactivate_person
    from reviews.privacy import anonymise

    hr, _director, boss, reports = org
    _template, cycle = _cycle(hr)
    for n, person in enumerate(reports):
        assert _answer(app, person, cycle, n).status_code == 302
    for person in reports:
        person.manager = hr
    db.session.commit()
    with current_app.test_request_context():
        deactivate_person(hr, boss)
        anonymise(hr, boss)
        db.session.commit()
    kept = list(
        db.session.scalars(select(UpwardAnswer.answers).where(UpwardAnswer.manager_id == boss.id))
    )
    assert len(kept) == 5
    assert not re.search("KEEP-|LINENOTE-|HRNOTE-", json.dumps(kept))
    assert sorted(a["recommend"] for a in kept) == [False, True, True, True, True]


def test_a_template_changed_after_launch_changes_nothing_in_the_running_cycle(app, org):
    hr, _director, _boss, reports = org
    template, cycle = _cycle(hr)
    changed = json.loads(json.dumps(DOC))
    changed["sections"][0]["questions"][2]["label"] = "CHANGED recommend label"
    changed["sections"][1]["questions"].append(
        {"key": "extra", "kind": "text", "label": "A NEW question", "required": True}
    )
    template_ops.update_template(hr, template, template.version, changed)
    db.session.commit()
    form = client_for(app, reports[0]).get(f"/cycles/{cycle.id}/upward").get_data(as_text=True)
    assert "Would you recommend them?" in form
    assert "CHANGED" not in form
    assert "A NEW question" not in form
    # Still answerable with the frozen questions alone: the new required one is not asked.
    assert _answer(app, reports[0], cycle, 0).status_code == 302
    assert queries.template(cycle).question("extra") is None


def test_a_choice_question_shows_its_counts_only_from_five_answers():
    template = parse_template(DOC)
    questions = template.questions
    three = [
        ({}, {"recommend": True, "one_to_ones": 4}),
        ({}, {"recommend": False}),
        ({}, {"recommend": True, "one_to_ones": 2}),
    ]
    summary = summarise(1, three, [], questions, threshold=3, closed=True)
    by_key = {q.key: q for q in summary.questions}
    assert by_key["recommend"].responses == 3
    assert by_key["recommend"].tallies is None  # three answers: each would be told apart
    # Two answered the scale: below the threshold, no figure and no count.
    assert by_key["one_to_ones"].responses is None
    assert by_key["one_to_ones"].mean is None
    # Three answered it, two of them "can't judge": counted, but an average of one step
    # would be that report's answer.
    judged = [({}, {"one_to_ones": "cant_judge"})] * 2 + [({}, {"one_to_ones": 2})]
    scale = summarise(1, judged, [], questions, threshold=3, closed=True).questions[0]
    assert scale.key == "one_to_ones"
    assert scale.responses == 3
    assert scale.mean is None
    # Five answered it, four "can't judge": no count per step either (it would show that
    # one report's step), only how many answered.
    five = [({}, {"one_to_ones": "cant_judge"})] * 4 + [({}, {"one_to_ones": 2})]
    scale = summarise(1, five, [], questions, threshold=3, closed=True).questions[0]
    assert scale.responses == 5
    assert scale.mean is None
    assert scale.tallies is None


def test_hr_never_reads_what_is_meant_for_hr_about_themselves(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    colleague = make_person("Ines HR", role=Role.HR, level_key=None)
    reports = [make_person(f"Report{n} Zed", manager=hr) for n in range(5)]
    doc = json.loads(json.dumps(DOC))
    doc["sections"][1]["questions"].append(
        {"key": "hr_flag", "kind": "yes_no", "label": "HRFLAG question", "audience": "hr"}
    )
    _template, cycle = _cycle(hr, doc)
    for n, person in enumerate(reports):
        data = {"one_to_ones": "3", "recommend": "yes", "hr_flag": "no", "hr_note": f"HRNOTE-{n}"}
        assert post(client_for(app, person), f"/cycles/{cycle.id}/upward", data).status_code == 302
    advance(hr, cycle, CycleState.CALIBRATION)

    def csv_row(reader) -> tuple[list[str], list[str]]:
        text = client_for(app, reader).get(f"/cycles/{cycle.id}/upward.csv").get_data(as_text=True)
        header, *rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        return header, next(r for r in rows if r[0] == "Hana HR")

    header, own = csv_row(hr)
    column = header.index("HRFLAG question")
    assert own[column] == ""  # HR reading about themselves: not theirs to read
    assert own[header.index("Would you recommend them?")] == "Yes: 5; No: 0"
    _header, seen_by_colleague = csv_row(colleague)
    assert seen_by_colleague[column] == "Yes: 0; No: 5"
    page = client_for(app, hr).get(f"/cycles/{cycle.id}/upward/{hr.id}").get_data(as_text=True)
    assert "HRNOTE-" not in page
    assert "HRFLAG" not in page
    other = client_for(app, colleague).get(f"/cycles/{cycle.id}/upward/{hr.id}")
    assert "HRNOTE-3" in other.get_data(as_text=True)


def test_upward_results_need_three_answers_whatever_the_cycle_threshold(app, org):
    hr, _director, boss, reports = org
    template = template_ops.create_template(hr, DOC)
    db.session.commit()
    cycle = launched_cycle(
        hr,
        upward_feedback=True,
        peer_anonymous=False,
        anonymity_threshold=1,
        template_ids={"upward": template.id},
    )
    assert cycle.anonymity_threshold == 1
    for n in range(2):
        assert _answer(app, reports[n], cycle, n).status_code == 302
    advance(hr, cycle, CycleState.CALIBRATION)
    page = client_for(app, boss).get(f"/cycles/{cycle.id}/upward/{boss.id}").get_data(as_text=True)
    assert "fewer than 3" in page
    assert "KEEP-" not in page
    api = client_for(app, boss).get(
        f"/api/v1/cycles/{cycle.id}/upward/{boss.id}", headers=_bearer(boss)
    )
    assert api.get_json() == {"manager_id": boss.id, "threshold": 3, "shown": False}


def test_upward_templates_are_checked_as_a_whole(app):
    required = json.loads(json.dumps(DOC))
    required["sections"][0]["questions"][0]["required"] = True
    required["labels"] = {"overall": "Overall"}
    with pytest.raises(TemplateError) as refused:
        parse_template(required)
    assert any("reports rate competencies only if they can" in p for p in refused.value.problems)
    assert any(
        "labels name the manager part's fixed fields only" in p for p in refused.value.problems
    )


def test_the_api_chooses_an_upward_template_for_a_cycle_and_refuses_one_of_another_part(app, org):
    hr, *_rest = org
    upward = template_ops.create_template(hr, DOC)
    peer = template_ops.copy_template(hr, "peer")
    db.session.commit()
    bearer = _bearer(hr)
    client = client_for(app, hr)
    body = {
        "name": "With upward",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "upward_feedback": True,
    }
    wrong = client.post("/api/v1/cycles", json={**body, "upward_template": peer.id}, headers=bearer)
    assert wrong.status_code == 422
    assert "upward_template" in json.dumps(wrong.get_json())
    made = client.post(
        "/api/v1/cycles", json={**body, "upward_template": upward.id}, headers=bearer
    )
    assert made.status_code == 201, made.get_json()
    asked = client.get(f"/api/v1/cycles/{made.get_json()['id']}/templates", headers=bearer)
    assert asked.get_json()["upward"]["template_id"] == upward.id
    assert asked.get_json()["upward"]["document"]["name"] == "Our upward feedback"


def test_their_managers_and_hr_find_a_managers_results_on_the_profile(app, org):
    hr, director, boss, reports = org
    _template, cycle = _cycle(hr)
    link = f'href="/cycles/{cycle.id}/upward/{boss.id}"'
    for reader in (director, hr):
        page = client_for(app, reader).get(f"/people/{boss.id}").get_data(as_text=True)
        assert link in page, reader.name
        head = page[
            page.index('<div class="page-head">') : page.index(
                "</div>", page.index('<div class="page-head">')
            )
        ]
        assert link not in head  # a section of the page, not in its heading
    for reader in (reports[0], boss):  # a report never; the manager has it on their home
        page = client_for(app, reader).get(f"/people/{boss.id}").get_data(as_text=True)
        assert link not in page, reader.name
    home = client_for(app, boss).get("/").get_data(as_text=True)
    assert link in home
