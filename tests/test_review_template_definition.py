"""The template document and the one reader of answers (reviews.review_templates.definition)."""

from __future__ import annotations

import copy

import pytest
from werkzeug.datastructures import MultiDict

from reviews.review_templates.answers import (
    audiences_for,
    form_value,
    json_value,
    parse_answers,
    readable_answers,
)
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.definition import TemplateError
from reviews.review_templates.parsing import parse_template

# The questions Reviews asked before templates (reviews.cycles.parts.ANSWERS, removed):
# (key, label, required on submit).
ANSWERS = {
    "self": [
        ("accomplishments", "Accomplishments this period", True),
        ("growth", "What you want to grow next", True),
    ],
    "peer": [
        ("strengths", "Strengths", True),
        ("growth_areas", "Growth areas", True),
        ("suggestion", "One concrete suggestion", True),
    ],
    "manager": [
        ("summary", "Summary", True),
        ("strengths", "Strengths", True),
        ("growth_areas", "Growth areas", True),
    ],
}

EVERY_KIND = {
    "name": "Peer feedback, engineering",
    "part": "peer",
    "sections": [
        {
            "title": "Working together",
            "questions": [
                {
                    "key": "change",
                    "kind": "text",
                    "label": "One thing you would change",
                    "help": "About how the team works",
                    "max_length": 40,
                },
                {"key": "again", "kind": "yes_no", "label": "Would you work with them again?"},
                {
                    "key": "often",
                    "kind": "scale",
                    "label": "How often did you work together?",
                    "steps": ["Rarely", "Monthly", "Weekly", "Daily"],
                    "cant_judge": True,
                    "required": False,
                },
            ],
        },
        {
            "title": "For HR",
            "questions": [
                {
                    "key": "role",
                    "kind": "choice",
                    "label": "Your role on their work",
                    "options": [{"key": "lead", "label": "Lead"}, {"key": "peer", "label": "Peer"}],
                },
                {
                    "key": "areas",
                    "kind": "choices",
                    "label": "Where they helped",
                    "options": [
                        {"key": "design", "label": "Design"},
                        {"key": "ops", "label": "Ops"},
                        {"key": "hiring", "label": "Hiring"},
                    ],
                    "audience": "line",
                },
                {
                    "key": "note",
                    "kind": "text",
                    "label": "Private note",
                    "audience": "hr",
                    "required": False,
                },
            ],
        },
    ],
}


def test_the_defaults_ask_exactly_what_reviews_always_asked():
    for part, questions in ANSWERS.items():
        template = DEFAULTS[part]
        assert [(q.key, q.label, q.required) for q in template.questions] == questions
        assert {q.kind for q in template.questions} == {"text"}
        assert {q.audience for q in template.questions} == {"part"}


def test_a_template_round_trips_through_its_json():
    template = parse_template(EVERY_KIND)
    assert [q.kind for q in template.questions] == [
        "text",
        "yes_no",
        "scale",
        "choice",
        "choices",
        "text",
    ]
    assert parse_template(template.as_json()) == template


def test_every_problem_in_a_template_is_listed_at_once():
    doc = copy.deepcopy(EVERY_KIND)
    doc["part"] = "boss"
    first = doc["sections"][0]["questions"]
    first[0]["key"] = "Bad Key"
    first[1]["kind"] = "essay"
    first[2]["steps"] = ["Only one"]
    doc["sections"][1]["questions"][0]["options"] = [
        {"key": "a", "label": "A"},
        {"key": "a", "label": "B"},
    ]
    doc["sections"][1]["questions"][1]["audience"] = "everyone"
    doc["sections"][1]["questions"].append({"key": "overall", "kind": "text", "label": "X"})
    with pytest.raises(TemplateError) as caught:
        parse_template(doc)
    problems = caught.value.problems
    assert len(problems) == 7, problems
    text = " ".join(problems)
    for needle in (
        "part must be one of",
        "question 1: key must be lower-case",
        "kind must be one of",
        "steps must be a list of 2 to 10",
        "option keys must differ",
        "audience must be one of",
        "'overall' is a name the form already uses",
    ):
        assert needle in text


def test_question_keys_must_differ_across_sections_and_labels_are_the_managers():
    doc = copy.deepcopy(EVERY_KIND)
    doc["sections"][1]["questions"][0]["key"] = "change"
    doc["labels"] = {"overall": "Rating"}
    with pytest.raises(TemplateError) as caught:
        parse_template(doc)
    assert caught.value.problems == [
        "Template: question keys must differ (change).",
        "Template: labels name the manager part's fixed fields only.",
    ]
    manager = copy.deepcopy(DEFAULTS["manager"].as_json())
    manager["labels"] = {"overall": "Performance this year"}
    parsed = parse_template(manager)
    assert parsed.label("overall") == "Performance this year"
    assert parsed.label("potential") == "Potential"
    with pytest.raises(TemplateError, match="part must stay 'manager'"):
        parse_template(DEFAULTS["self"].as_json(), part="manager")


def test_answers_of_every_kind_from_a_form():
    template = parse_template(EVERY_KIND)
    form = MultiDict(
        [
            ("change", " Fewer meetings "),
            ("again", "yes"),
            ("often", "cant_judge"),
            ("role", "peer"),
            ("areas", "ops"),
            ("areas", "design"),
            ("note", ""),
        ]
    )
    answers, errors = parse_answers(template.questions, form, submit=True)
    assert errors == {}
    assert answers == {
        "change": "Fewer meetings",
        "again": True,
        "often": "cant_judge",
        "role": "peer",
        "areas": ["design", "ops"],
    }
    # and back into the form's shape, which reads the same
    again = MultiDict()
    for q in template.questions:
        if q.key in answers:
            value = form_value(q, answers[q.key])
            for v in value if isinstance(value, list) else [value]:
                again.add(q.key, v)
    assert parse_answers(template.questions, again, submit=True) == (answers, {})


def test_every_bad_answer_is_named_and_nothing_is_kept_from_it():
    template = parse_template(EVERY_KIND)
    form = {
        "change": "x" * 41,
        "again": "maybe",
        "often": "9",
        "role": "boss",
        "areas": ["ops", "golf"],
    }
    answers, errors = parse_answers(template.questions, form, submit=True)
    assert answers == {}
    assert set(errors) == {"change", "again", "often", "role", "areas"}
    assert errors["change"] == "Keep this under 40 characters."
    assert errors["often"] == "Choose a step from 1 to 4 or can't judge."
    assert "'golf' is not an option" in errors["areas"]
    missing, errors = parse_answers(template.questions, {}, submit=True)
    assert missing == {}
    assert sorted(errors) == ["again", "areas", "change", "role"]  # optional ones not needed
    assert parse_answers(template.questions, {}, submit=False) == ({}, {})


def test_json_answers_are_flattened_so_the_same_reader_judges_them():
    template = parse_template(EVERY_KIND)
    body = {"again": False, "often": 3, "areas": ["hiring"], "role": {"x": 1}}
    flat = {k: json_value(template.question(k), v) for k, v in body.items()}
    answers, errors = parse_answers(template.questions, flat, submit=False)
    assert answers == {"again": False, "often": 3, "areas": ["hiring"]}
    assert list(errors) == ["role"]


def test_who_reads_which_answer():
    template = parse_template(EVERY_KIND)
    answers = {"change": "a", "again": True, "areas": ["ops"], "note": "private"}
    subject = audiences_for(author=False, line=False, hr=False)
    manager = audiences_for(author=False, line=True, hr=False)
    hr = audiences_for(author=False, line=False, hr=True)
    author = audiences_for(author=True, line=False, hr=False)
    assert list(readable_answers(template, answers, subject)) == ["change", "again"]
    assert list(readable_answers(template, answers, manager)) == ["change", "again", "areas"]
    assert list(readable_answers(template, answers, hr)) == ["change", "again", "areas", "note"]
    assert readable_answers(template, answers, author) == answers


def test_answers_read_as_text_for_exports():
    template = parse_template(EVERY_KIND)
    q = template.question
    assert q("again").as_text(False) == "No"  # type: ignore[union-attr]
    assert q("often").as_text(2) == "2 · Monthly"  # type: ignore[union-attr]
    assert q("often").as_text("cant_judge") == "Can't judge"  # type: ignore[union-attr]
    assert q("areas").as_text(["design", "ops"]) == "Design; Ops"  # type: ignore[union-attr]
    assert q("role").as_text(None) == ""  # type: ignore[union-attr]


def test_the_competency_block_is_kept_by_managers_optional_for_peers_and_keyed_once():
    manager = copy.deepcopy(DEFAULTS["manager"].as_json())
    manager["sections"] = [s for s in manager["sections"] if s["title"] != "Competencies"]
    with pytest.raises(TemplateError, match="keep the competency block"):
        parse_template(manager)
    peer = copy.deepcopy(EVERY_KIND)
    peer["sections"][0]["questions"].append(
        {"kind": "competencies", "label": "Ratings", "required": True, "audience": "hr"}
    )
    peer["sections"][1]["questions"].append({"key": "competencies", "kind": "text", "label": "X"})
    with pytest.raises(TemplateError) as caught:
        parse_template(peer)
    text = " ".join(caught.value.problems)
    assert "every reader of the part reads its competency ratings" in text
    assert "peers rate competencies only if they can" in text
    assert "'competencies' is a name the form already uses" in text
    # The block is not an answer: answers skip it, the template knows where it is.
    self_ = DEFAULTS["self"]
    assert self_.competencies is not None
    assert self_.ratings_needed
    assert not DEFAULTS["peer"].ratings_needed
    assert "competencies" not in [q.key for q in self_.questions]
    assert parse_template(EVERY_KIND).competencies is None


def test_keys_are_whole_words_and_odd_json_is_a_problem_not_a_crash():
    doc = copy.deepcopy(EVERY_KIND)
    doc["sections"][0]["questions"][0]["key"] = "change\n"
    doc["sections"][1]["questions"][0]["options"][0]["key"] = "lead\n"
    doc["sections"][1]["questions"][1]["kind"] = ["choices"]
    doc["sections"][1]["questions"][2]["audience"] = {"hr": True}
    with pytest.raises(TemplateError) as caught:
        parse_template(doc)
    assert len(caught.value.problems) == 4, caught.value.problems
    manager = copy.deepcopy(DEFAULTS["manager"].as_json())
    manager["sections"][0]["questions"][0]["required"] = False
    with pytest.raises(TemplateError, match="needed to submit"):
        parse_template(manager)


def test_an_api_answer_of_the_wrong_json_type_is_refused_by_name():
    template = parse_template(EVERY_KIND)
    body = {"change": True, "again": "yes", "often": True, "role": 3, "areas": "design"}
    flat = {k: json_value(template.question(k), v) for k, v in body.items()}
    answers, errors = parse_answers(template.questions, flat, submit=False)
    assert answers == {}
    assert errors == {
        "change": "Answer with text.",
        "again": "Answer with true or false.",
        "often": "Answer with a step number.",
        "role": "Answer with an option key.",
        "areas": "Answer with a list of option keys.",
    }


def test_removing_a_sections_first_question_in_the_editor_keeps_the_section():
    from reviews.review_templates.editor import read_form, to_document

    form = {
        "name": "T",
        "q-0-section": "One",
        "q-0-key": "a",
        "q-0-label": "A",
        "q-0-kind": "text",
        "q-1-section": "Two",
        "q-1-key": "b",
        "q-1-label": "B",
        "q-1-kind": "text",
        "q-1-remove": "1",
        "q-2-key": "c",
        "q-2-label": "C",
        "q-2-kind": "text",
        "q-3-section": "",
        "q-3-key": "",
        "q-3-label": "",  # a spare line
    }
    document, origin = to_document(read_form(form, "peer"))
    assert [(s["title"], [q["key"] for q in s["questions"]]) for s in document["sections"]] == [
        ("One", ["a"]),
        ("Two", ["c"]),
    ]
    assert origin == [(1, 1), (2, 1)]


def test_submit_errors_name_the_fixed_fields_as_the_template_labels_them():
    from reviews.cycles.parts import parse_part

    manager = copy.deepcopy(DEFAULTS["manager"].as_json())
    manager["labels"] = {"overall": "Performance this year", "readiness": "Next step"}
    _clean, errors = parse_part(parse_template(manager), {}, [], [], submit=True)
    assert errors["overall"] == "Give “Performance this year” a rating before submitting."
    assert errors["readiness"] == "Choose “Next step” before submitting."
    assert errors["potential"] == "Choose the potential before submitting."
