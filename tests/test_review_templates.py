"""Review templates through the product: HR designs them on pages and by JSON, a cycle
freezes them, every kind of question is answered on the forms and by the API, and each
answer reaches only the readers its question names, on every surface."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import count_queries, post
from cycle_helpers import advance, approved_peer, cycle_fields, launched_cycle, part, review_of
from sqlalchemy import select
from test_cycle_flow import login_as_fresh
from test_exports import fetch, pdf_text

from reviews.api.operations import create_token
from reviews.cycles import operations as ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Role
from reviews.privacy import export_person
from reviews.review_templates import operations as template_ops
from reviews.review_templates.models import ReviewTemplate
from reviews.review_templates.queries import template_of


def _doc(part: str, marker: str = "", extra: int = 0) -> dict[str, Any]:
    """A template of `part` with one question of every kind and one per audience."""
    questions = [
        {
            "key": "change",
            "kind": "text",
            "label": f"One thing you would change{marker}",
            "max_length": 300,
        },
        {"key": "again", "kind": "yes_no", "label": "Would you work with them again?"},
        {
            "key": "often",
            "kind": "scale",
            "label": "How often did you work together?",
            "steps": ["Rarely", "Monthly", "Weekly", "Daily"],
            "cant_judge": True,
        },
        {
            "key": "role",
            "kind": "choice",
            "label": "Your role",
            "options": [{"key": "lead", "label": "Lead"}, {"key": "partner", "label": "Partner"}],
        },
        {
            "key": "areas",
            "kind": "choices",
            "label": "Where it showed",
            "required": False,
            "options": [
                {"key": "design", "label": "Design"},
                {"key": "ops", "label": "Operations"},
                {"key": "hiring", "label": "Hiring"},
            ],
        },
        {
            "key": "for_line",
            "kind": "text",
            "label": "For the manager line",
            "audience": "line",
            "required": False,
        },
        {
            "key": "for_hr",
            "kind": "text",
            "label": "Private note to HR",
            "audience": "hr",
            "required": False,
        },
    ]
    questions += [
        {"key": f"extra_{n}", "kind": "text", "label": f"Extra {n}", "required": False}
        for n in range(extra)
    ]
    return {
        "name": f"Custom {part}",
        "part": part,
        "sections": [
            {"title": "Working together", "questions": questions[:3]},
            {"title": "More", "questions": questions[3:]},
            {
                "title": "Competencies",
                "questions": [
                    {"kind": "competencies", "label": "Competencies", "required": part != "peer"}
                ],
            },
        ],
    }


def _world(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    skip = make_person("Dora Director", role=Role.MANAGER, level_key="engineering-manager")
    manager = make_person("Max Manager", role=Role.MANAGER, manager=skip)
    subject = make_person("Sam Subject", manager=manager)
    other = make_person("Olga Other", role=Role.MANAGER, manager=skip)
    peers = [make_person(f"Peer {n}", manager=other) for n in range(3)]
    return hr, skip, manager, subject, peers


def _templates(hr) -> dict[str, int]:
    ids = {}
    for kind in ("self", "peer", "manager"):
        ids[kind] = template_ops.create_template(hr, _doc(kind)).id
    db.session.commit()
    return ids


def _keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key).order_by(Competency.key)))


def test_a_template_of_every_kind_walks_a_cycle_through_pages_and_the_api(app, make_person):
    hr, _skip, manager, subject, peers = _world(app, make_person)
    hr_client = login_as_fresh(app, hr)
    # HR imports the self template on its page and the others by copy and edit.
    imported = post(
        hr_client, "/templates/import", {"document": json.dumps(_doc("self", " (self)"))}
    )
    assert imported.status_code == 302, imported.get_data(as_text=True)
    ids = {"self": db.session.scalar(select(ReviewTemplate.id))}
    ids["peer"] = template_ops.create_template(hr, _doc("peer")).id
    ids["manager"] = template_ops.create_template(hr, _doc("manager")).id
    db.session.commit()
    # The cycle chooses them on the new-cycle page's select lists (the API sends the same).
    _row, secret = create_token(None, hr, "t")
    db.session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    created = hr_client.post(
        "/api/v1/cycles",
        json={
            "name": "Templated",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
            "peer_min": 1,
            "self_review_due": "2026-07-07",
            "peer_feedback_due": "2026-07-14",
            "manager_review_due": "2026-07-21",
            "calibration_due": "2026-07-28",
            **{f"{k}_template": v for k, v in ids.items()},
        },
        headers=bearer,
    )
    assert created.status_code == 201, created.get_json()
    cycle_id = created.get_json()["id"]
    asked = hr_client.get(f"/api/v1/cycles/{cycle_id}/templates", headers=bearer).get_json()
    assert {k: v["template_id"] for k, v in asked.items()} == {**ids, "upward": None}
    edit_page = hr_client.get(f"/cycles/{cycle_id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{ids["self"]}">Custom self</option>', edit_page)
    from reviews.cycles.models import Cycle

    cycle = db.session.get(Cycle, cycle_id)
    advance(hr, cycle, CycleState.SELF_REVIEW)
    review = review_of(cycle, subject)
    keys = _keys()

    # The subject's form asks every kind; a submit lists every missing answer at once.
    me = login_as_fresh(app, subject)
    form = me.get(f"/reviews/{review.id}/self").get_data(as_text=True)
    assert "One thing you would change (self)" in form
    assert 'type="checkbox" name="areas" value="ops"' in form
    assert 'name="often" value="cant_judge"' in form
    assert "Read by HR only" in form
    ratings = {f"rating_{k}": "3" for k in keys}
    refused = post(me, f"/reviews/{review.id}/self", {**ratings, "action": "check", "version": "1"})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    for label in (
        "One thing you would change (self)",
        "Would you work with them again?",
        "How often did you work together?",
        "Your role",
    ):
        assert f"{label} is needed before submitting." in body
    answers = {
        "change": "Fewer meetings",
        "again": "yes",
        "often": "3",
        "role": "lead",
        "areas": ["design", "ops"],
        "for_hr": "qzselfhronly",
    }
    part_ = part(review, PartKind.SELF)
    saved = post(
        me,
        f"/reviews/{review.id}/self",
        {**ratings, **answers, "action": "submit", "version": str(part_.version)},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.refresh(part_)
    assert part_.answers == {"change": "Fewer meetings", "for_hr": "qzselfhronly"}
    assert part_.choices == {"again": True, "often": 3, "role": "lead", "areas": ["design", "ops"]}

    # A peer answers through the API, typed; a wrong answer is named and changes nothing.
    request = approved_peer(manager, review, peers[0])
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    _row, peer_secret = create_token(None, peers[0], "t")
    db.session.commit()
    peer_bearer = {"Authorization": f"Bearer {peer_secret}"}
    url = f"/api/v1/requests/{request.id}/feedback"
    current = me.get(url, headers=peer_bearer)
    assert current.status_code == 200, current.get_json()
    assert [q["key"] for s in current.get_json()["questions"]["sections"] for q in s["questions"]][
        :3
    ] == ["change", "again", "often"]
    bad = me.put(
        url,
        json={
            "version": current.get_json()["version"],
            "answers": {"again": "perhaps", "often": 9, "areas": ["golf"], "nothing": "x"},
        },
        headers=peer_bearer,
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert set(fields) == {"answers.again", "answers.often", "answers.areas", "answers.nothing"}
    good = me.post(
        f"{url}/submit",
        json={
            "version": current.get_json()["version"],
            "answers": {
                "change": "Pair more",
                "again": False,
                "often": "cant_judge",
                "role": "partner",
                "areas": ["hiring"],
            },
        },
        headers=peer_bearer,
    )
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["answers"] == {
        "change": "Pair more",
        "again": False,
        "often": "cant_judge",
        "role": "partner",
        "areas": ["hiring"],
    }

    # The released review reads every answer as text, in the template's order.
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    boss = part(review, PartKind.MANAGER)
    ops.save_part(
        manager,
        boss,
        boss.version,
        PartInput(
            ratings=dict.fromkeys(keys, 3),
            overall=3,
            potential="medium",
            readiness="not_yet",
            answers={"change": "Write more docs"},
            choices={"again": True, "often": 4, "role": "lead"},
        ),
        submit=True,
    )
    db.session.commit()
    page = login_as_fresh(app, manager).get(f"/reviews/{review.id}").get_data(as_text=True)
    for text in (
        "Fewer meetings",
        "Design; Operations",
        "3 · Weekly",
        "Can&#39;t judge",
        "Partner",
        "Hiring",
        "4 · Daily",
    ):
        assert text in page, text
    assert "qzselfhronly" not in page


def _audience_world(app, make_person):
    hr, skip, manager, subject, peers = _world(app, make_person)
    ids = _templates(hr)
    cycle = launched_cycle(
        hr,
        anonymity_threshold=3,
        peer_anonymous=True,
        peer_names_to_managers=True,
        template_ids=ids,
    )
    review = review_of(cycle, subject)
    keys = _keys()

    def write(kind, author, prefix, request=None):
        target = ops.peer_assessment(request) if request else part(review, kind)
        data = PartInput(
            ratings=dict.fromkeys(keys, 3),
            answers={
                "change": f"qz{prefix}part",
                "for_line": f"qz{prefix}line",
                "for_hr": f"qz{prefix}hr",
            },
            choices={"again": True, "often": 2, "role": "lead"},
        )
        if kind == PartKind.MANAGER:
            data.overall, data.potential, data.readiness = 3, "medium", "not_yet"
        ops.save_part(author, target, target.version, data, submit=True)
        db.session.commit()

    write(PartKind.SELF, subject, "self")
    requests = [approved_peer(manager, review, p) for p in peers]
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    for n, (peer, request) in enumerate(zip(peers, requests, strict=True)):
        write(PartKind.PEER, peer, f"peer{n}", request)
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    write(PartKind.MANAGER, manager, "mgr")
    advance(hr, cycle, CycleState.CALIBRATION)
    from reviews.calibration import operations as calibration_ops

    calibration_ops.finalise_uncalibrated(hr, cycle)
    db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    return hr, skip, manager, subject, peers, cycle, review


MARK = re.compile(r"qz(self|peer\d|mgr)(part|line|hr)")


def _found(text: str) -> set[str]:
    return {m.group(0) for m in MARK.finditer(text)}


def test_each_answer_reaches_only_the_readers_its_question_names(app, make_person):
    hr, skip, manager, subject, peers, _cycle, review = _audience_world(app, make_person)
    every = {
        f"qz{who}{aud}"
        for who in ("self", "peer0", "peer1", "peer2", "mgr")
        for aud in ("part", "line", "hr")
    }
    expected = {
        # the subject: what every reader reads, and all they wrote themselves
        "subject": {m for m in every if m.endswith("part")} | {"qzselfline", "qzselfhr"},
        "skip": {m for m in every if not m.endswith("hr")},
        # the manager also wrote their own HR note
        "manager": {m for m in every if not m.endswith("hr")} | {"qzmgrhr"},
        "hr": every,
    }
    readers = {"subject": subject, "manager": manager, "skip": skip, "hr": hr}
    for name, person in readers.items():
        client = login_as_fresh(app, person)
        _row, secret = create_token(None, person, "t")
        db.session.commit()
        status, page, _ = fetch(client, f"/reviews/{review.id}")
        assert status == 200
        api = client.get(
            f"/api/v1/reviews/{review.id}", headers={"Authorization": f"Bearer {secret}"}
        ).get_json()
        status, pdf, _ = fetch(client, f"/reviews/{review.id}/summary.pdf")
        assert status == 200
        surfaces = {
            "page": _found(page.decode()),
            "api": _found(json.dumps(api)),
            "pdf": _found(pdf_text(pdf).replace("\n", "")),
        }
        for surface, found in surfaces.items():
            assert found == expected[name], (name, surface, found ^ expected[name])
    # The personal-data export reads the reviews as their subject does; a peer's holds
    # everything they wrote.
    assert _found(json.dumps(export_person(subject))) == expected["subject"]
    assert _found(json.dumps(export_person(peers[0]))) == {
        "qzpeer0part",
        "qzpeer0line",
        "qzpeer0hr",
    }
    pdf_status, data, _ = fetch(login_as_fresh(app, hr), f"/people/{subject.id}/data.pdf")
    assert pdf_status == 200
    assert _found(pdf_text(data).replace("\n", "")) == expected["subject"]


def test_chosen_peer_answers_reach_an_anonymous_reader_only_counted(app, make_person):
    _hr, _skip, manager, subject, _peers, _cycle, review = _audience_world(app, make_person)
    client = login_as_fresh(app, subject)
    _row, secret = create_token(None, subject, "t")
    db.session.commit()
    api = client.get(
        f"/api/v1/reviews/{review.id}", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()["peers"]
    assert len(api["entries"]) == 3
    assert all(set(e["answers"]) == {"change"} for e in api["entries"])
    assert api["tallies"] == {
        "again": {"counts": {"yes": 3}, "n": 3},
        "often": {"counts": {"2": 3}, "n": 3},
        "role": {"counts": {"lead": 3}, "n": 3},
    }
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Chosen answers, all peers together" in page
    assert re.search(r"Would you work with them again\?.*?Yes: 3", page, re.S)
    assert "2 · Monthly: 3" in page
    # Managers, who know the authors in this cycle, read each peer's answers as written.
    mine = login_as_fresh(app, manager).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Chosen answers, all peers together" not in mine
    assert mine.count("2 · Monthly") == 5  # three peers, the self-review and their own


def test_a_stale_template_edit_is_refused_and_shows_the_current_version(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    row = template_ops.create_template(hr, _doc("self"))
    db.session.commit()
    first, second = login_as_fresh(app, hr), login_as_fresh(app, hr)
    page = first.get(f"/templates/{row.id}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in page
    fields = {
        "name": "Renamed by one",
        "version": "1",
        "q-0-section": "Only",
        "q-0-key": "change",
        "q-0-kind": "text",
        "q-0-label": "What would you change?",
        "q-0-required": "1",
        "q-0-audience": "part",
    }
    assert post(first, f"/templates/{row.id}/edit", fields).status_code == 302
    stale = post(second, f"/templates/{row.id}/edit", {**fields, "name": "Renamed by two"})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Someone else saved this template" in body
    assert 'name="version" value="2"' in body  # saving again replaces the current one
    assert 'value="Renamed by two"' in body  # what they typed is kept
    db.session.expire_all()
    assert db.session.get(ReviewTemplate, row.id).name == "Renamed by one"


def test_the_editor_lists_every_problem_beside_its_question_and_saves_nothing(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    row = template_ops.create_template(hr, _doc("peer"))
    db.session.commit()
    client = login_as_fresh(app, hr)
    refused = post(
        client,
        f"/templates/{row.id}/edit",
        {
            "name": "",
            "version": "1",
            "q-0-section": "",
            "q-0-key": "Bad Key",
            "q-0-kind": "text",
            "q-0-label": "First",
            "q-1-key": "pick",
            "q-1-kind": "choice",
            "q-1-label": "Pick one",
            "q-1-options": "Only",
            "q-2-key": "pick",
            "q-2-kind": "yes_no",
            "q-2-label": "",
        },
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "things need fixing" in body
    for problem in (
        "Name is needed",
        "Title is needed",
        "Key must be lower-case",
        "Options must be a list of 2",
        "Label is needed",
        "question keys must differ",
    ):
        assert problem.lower() in body.lower(), problem
    assert 'id="name-error"' in body  # the name's problem beside it
    assert 'id="q-1-error"' in body
    assert 'id="q-2-error"' in body
    # the duplicated key is named beside both questions that have it, and in the summary
    assert body.lower().count("question keys must differ (pick)") == 4
    db.session.expire_all()
    assert db.session.get(ReviewTemplate, row.id).version == 1


def test_a_template_change_after_launch_changes_nothing_in_the_running_cycle(app, make_person):
    hr, _skip, _manager, subject, _peers = _world(app, make_person)
    ids = _templates(hr)
    cycle = launched_cycle(hr, template_ids=ids)
    row = db.session.get(ReviewTemplate, ids["self"])
    changed = _doc("self")
    changed["sections"][0]["questions"][0]["label"] = "Changed after launch"
    template_ops.update_template(hr, row, row.version, changed)
    db.session.commit()
    assert template_of(cycle, "self").questions[0].label == "One thing you would change"
    review = review_of(cycle, subject)
    form = login_as_fresh(app, subject).get(f"/reviews/{review.id}/self").get_data(as_text=True)
    assert "One thing you would change" in form
    assert "Changed after launch" not in form
    # A draft cycle previews the template as it is now.
    draft = ops.create_cycle(hr, cycle_fields(name="Next", template_ids={"self": row.id}))
    db.session.commit()
    assert template_of(draft, "self").questions[0].label == "Changed after launch"


def test_a_chosen_template_is_archived_not_deleted_and_new_cycles_cannot_choose_it(
    app, make_person
):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    ids = _templates(hr)
    launched_cycle(hr, template_ids=ids)
    client = login_as_fresh(app, hr)
    refused = post(client, f"/templates/{ids['peer']}/delete", follow_redirects=True)
    assert "archive it instead" in refused.get_data(as_text=True)
    assert db.session.get(ReviewTemplate, ids["peer"]) is not None
    assert post(client, f"/templates/{ids['peer']}/archive").status_code == 302
    _row, secret = create_token(None, hr, "t")
    db.session.commit()
    again = client.post(
        "/api/v1/cycles",
        json={
            "name": "Next",
            "period_start": "2026-07-01",
            "period_end": "2026-12-31",
            "peer_template": ids["peer"],
            "self_template": ids["manager"],
        },
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert again.status_code == 422
    assert set(again.get_json()["error"]["fields"]) == {"peer_template", "self_template"}
    unused = template_ops.create_template(hr, _doc("self")).id
    db.session.commit()
    assert post(client, f"/templates/{unused}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(ReviewTemplate, unused) is None


def test_an_import_lists_every_problem_and_imports_nothing(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    client = login_as_fresh(app, hr)
    bad = _doc("peer")
    bad["part"] = "boss"
    bad["sections"][0]["questions"][1]["kind"] = "essay"
    response = post(client, "/templates/import", {"document": json.dumps(bad)})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "2 problems" in body
    assert "kind must be one of" in body
    assert post(client, "/templates/import", {"document": "{oops"}).status_code == 400
    assert db.session.scalar(select(ReviewTemplate.id)) is None
    good = post(client, "/templates/import", {"document": json.dumps(_doc("peer"))})
    assert good.status_code == 302
    exported = client.get(good.headers["Location"].replace("/edit", ".json"))
    assert exported.get_json() == json.loads(json.dumps(template_of_doc(_doc("peer"))))


def template_of_doc(document: dict[str, Any]) -> dict[str, Any]:
    from reviews.review_templates.parsing import parse_template

    return parse_template(document).as_json()


def test_the_review_form_reads_a_constant_number_of_statements_whatever_the_questions(
    app, make_person
):
    hr, _skip, _manager, subject, _peers = _world(app, make_person)
    counts = []
    for extra in (0, 30):
        row = template_ops.create_template(hr, _doc("self", extra=extra))
        db.session.commit()
        cycle = launched_cycle(hr, name=f"Q{extra}", template_ids={"self": row.id})
        review = review_of(cycle, subject)
        client = login_as_fresh(app, subject)
        with count_queries() as statements:
            page = client.get(f"/reviews/{review.id}/self")
        assert page.status_code == 200
        assert ("Extra 29" in page.get_data(as_text=True)) == (extra == 30)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_report_has_a_column_per_question_its_reader_may_read(app, make_person):
    from test_exports import csv_rows

    hr, _skip, manager, subject, _peers, cycle, _review = _audience_world(app, make_person)
    for reader, hidden in ((hr, set()), (manager, {"hr"})):
        status, data, _ = fetch(login_as_fresh(app, reader), f"/cycles/{cycle.id}/report.csv")
        assert status == 200
        rows = csv_rows(data)
        header = rows[0]
        asked = [h for h in header if h.startswith(("Self: ", "Manager: "))]
        assert asked[:7] == [
            "Self: One thing you would change",
            "Self: Would you work with them again?",
            "Self: How often did you work together?",
            "Self: Your role",
            "Self: Where it showed",
            "Self: For the manager line",
            *(
                ["Self: Private note to HR"]
                if not hidden
                else ["Manager: One thing you would change"]
            ),
        ]
        row = dict(zip(header, next(r for r in rows if r[0] == subject.name), strict=True))
        assert row["Self: Would you work with them again?"] == "Yes"
        assert row["Self: How often did you work together?"] == "2 · Monthly"
        assert row["Manager: For the manager line"] == "qzmgrline"
        found = _found(data.decode("utf-8-sig"))
        expected = {f"qz{w}{a}" for w in ("self", "mgr") for a in ("part", "line", "hr")}
        assert found == {m for m in expected if not m.endswith(tuple(hidden))}


def test_a_new_cycle_started_from_an_earlier_one_asks_its_templates(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    make_person("Sam Subject")
    ids = _templates(hr)
    earlier = launched_cycle(hr, template_ids={"peer": ids["peer"], "manager": ids["manager"]})
    page = login_as_fresh(app, hr).get(f"/cycles/new?from={earlier.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{ids["peer"]}">Custom peer</option>', page)
    assert re.search(rf'<option selected value="{ids["manager"]}">Custom manager</option>', page)
    assert re.search(r'<option selected value="">Built-in questions</option>', page)  # self
    # An archived template is not offered to the copy: it starts from the built-in one.
    template_ops.set_archived(hr, db.session.get(ReviewTemplate, ids["peer"]), archived=True)
    db.session.commit()
    page = login_as_fresh(app, hr).get(f"/cycles/new?from={earlier.id}").get_data(as_text=True)
    assert "Custom peer" not in page
    built_in = re.findall(r'<option selected value="">Built-in questions</option>', page)
    assert len(built_in) == 3  # self, peer and upward


def test_the_report_reads_a_constant_number_of_statements_whatever_the_questions(app, make_person):
    hr, _skip, _manager, _subject, _peers = _world(app, make_person)
    client = login_as_fresh(app, hr)
    counts = []
    for extra in (0, 30):
        ids = {
            part: template_ops.create_template(hr, _doc(part, extra=extra)).id
            for part in ("self", "manager")
        }
        db.session.commit()
        cycle = launched_cycle(hr, name=f"Q{extra}", template_ids=ids)
        with count_queries() as statements:
            status, data, _ = fetch(client, f"/cycles/{cycle.id}/report.csv")
        assert status == 200
        assert data.decode("utf-8-sig").count("Extra 29") == (2 if extra else 0)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_self_review_template_may_move_or_drop_the_competency_ratings(app, make_person):
    hr, _skip, _manager, subject, _peers = _world(app, make_person)
    moved = _doc("self")
    moved["sections"] = [moved["sections"][1], moved["sections"][2], moved["sections"][0]]
    dropped = _doc("self")
    dropped["sections"] = dropped["sections"][:2]
    keys = _keys()
    for document, rates in ((moved, True), (dropped, False)):
        row = template_ops.create_template(hr, document)
        db.session.commit()
        cycle = launched_cycle(
            hr, name=document["name"] + str(rates), template_ids={"self": row.id}
        )
        review = review_of(cycle, subject)
        client = login_as_fresh(app, subject)
        form = client.get(f"/reviews/{review.id}/self").get_data(as_text=True)
        assert ('name="rating_' in form) == rates
        if rates:  # after the section it now follows
            assert (
                form.index('name="role"')
                < form.index('name="rating_')
                < form.index('name="change"')
            )
        answers = {"change": "x", "again": "no", "often": "1", "role": "lead"}
        if not rates:  # the API cannot rate what the part does not ask
            _row, secret = create_token(None, subject, "t")
            db.session.commit()
            refused = client.put(
                f"/api/v1/reviews/{review.id}/self",
                json={"version": part(review, PartKind.SELF).version, "ratings": {keys[0]: 3}},
                headers={"Authorization": f"Bearer {secret}"},
            )
            assert refused.status_code == 422
            assert list(refused.get_json()["error"]["fields"]) == [f"ratings.{keys[0]}"]
        part_ = part(review, PartKind.SELF)
        submitted = post(
            client,
            f"/reviews/{review.id}/self",
            {**answers, "action": "submit", "version": str(part_.version)},
        )
        if rates:  # every competency must be rated before submitting
            assert submitted.status_code == 400
            assert "Rate this competency before submitting." in submitted.get_data(as_text=True)
            continue
        assert submitted.status_code == 302, submitted.get_data(as_text=True)
        page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
        assert "Competency</th>" not in page  # no empty table of ratings


def test_odd_input_to_the_template_pages_is_refused_without_a_crash(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    row = template_ops.create_template(hr, _doc("peer"))
    db.session.commit()
    client = login_as_fresh(app, hr)
    for document in ("[" * 5000, '{"name": ' + "1" * 5000 + "}", json.dumps({"part": ["x"]})):
        assert post(client, "/templates/import", {"document": document}).status_code == 400
    odd = post(
        client,
        f"/templates/{row.id}/edit",
        {
            "name": "N",
            "version": "²",
            "q-0-key": "k",
            "q-0-label": "L",
            "q-0-kind": "text",
            "q-0-position": "²",
            "q-0-max_length": "³",
            "q-0-section": "S",
        },
    )
    assert odd.status_code == 400  # max_length named; the version is not a number
    assert "max_length must be a whole number" in odd.get_data(as_text=True).lower()
    assert db.session.scalar(select(ReviewTemplate.id).where(ReviewTemplate.id != row.id)) is None


def test_an_hr_admins_own_row_of_the_report_holds_no_answer_kept_from_them(app, make_person):
    from test_exports import csv_rows

    hr, _skip, manager, _subject, _peers = _world(app, make_person)
    colleague = make_person("Hal Hr", role=Role.HR, manager=manager)
    ids = _templates(hr)
    cycle = launched_cycle(hr, template_ids=ids)
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    review = review_of(cycle, colleague)
    boss = part(review, PartKind.MANAGER)
    ops.save_part(
        manager,
        boss,
        boss.version,
        PartInput(
            ratings=dict.fromkeys(_keys(), 3),
            overall=3,
            potential="medium",
            readiness="not_yet",
            answers={"change": "qzmgrpart", "for_line": "qzmgrline", "for_hr": "qzmgrhr"},
            choices={"again": True, "often": 2, "role": "lead"},
        ),
        submit=True,
    )
    db.session.commit()
    for reader, found in ((hr, {"qzmgrpart", "qzmgrline", "qzmgrhr"}), (colleague, set())):
        status, data, _ = fetch(login_as_fresh(app, reader), f"/cycles/{cycle.id}/report.csv")
        assert status == 200
        row = next(r for r in csv_rows(data) if r[0] == "Hal Hr")
        assert _found(",".join(row)) == found, reader.name
