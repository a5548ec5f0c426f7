"""Issue 17: rules the API, the pages and the exports break today (SPEC 3 and 4).

Each test states the behaviour people rely on; they fail on the current code.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date, timedelta
from typing import Any

from between_helpers import client_for
from conftest import post
from cycle_helpers import (
    advance,
    approved_peer,
    launched_cycle,
    part,
    release_with_manager_ratings,
    review_of,
    submit_manager_review,
)
from flask import current_app
from sqlalchemy import func, select
from test_cycle_bad_input import cycle_form
from test_exports import fetch, pdf_text

from reviews.api.operations import create_token
from reviews.cycles import operations as ops
from reviews.cycles.models import Cycle, PartKind, PartState
from reviews.cycles.parts import PartInput
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role
from reviews.upward.models import UpwardAnswer

TODAY = date.today()
PM = "people-management"
CM = "coaching-and-mentorship"
NAMES_HIDDEN = {"peer_anonymous": True, "peer_names_to_managers": False}


# Helpers ------------------------------------------------------------------------------


def _bearer(app, person) -> dict[str, str]:
    with app.test_request_context():
        _row, secret = create_token(person, person, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


class Api:
    """One person's bearer calls, on a client of its own (no cookie)."""

    def __init__(self, app, person) -> None:
        self.client = app.test_client()
        self.headers = _bearer(app, person)

    def call(self, method: str, url: str, **kw: Any) -> Any:
        return self.client.open("/api/v1" + url, method=method, headers=self.headers, **kw)

    def get(self, url: str) -> Any:
        return self.call("GET", url)


def _save(actor, assessment, data: PartInput, *, submit: bool = True) -> None:
    with current_app.test_request_context():
        ops.save_part(actor, assessment, assessment.version, data, submit=submit)
        db.session.commit()


def _peer_writes(manager, review, peer, ratings: dict[str, int], text: str) -> None:
    """The manager adds `peer` (approved at once) and the peer submits feedback."""
    request = approved_peer(manager, review, peer)
    with current_app.test_request_context():
        feedback = ops.peer_assessment(request)
        db.session.commit()
    _save(
        peer,
        feedback,
        PartInput(
            ratings=ratings,
            answers={"strengths": text, "growth_areas": "Scope.", "suggestion": "Pair more."},
        ),
    )


def _upward(author, cycle, ratings: dict[str, int], comment: str) -> None:
    from reviews.upward import operations as upward_ops

    with current_app.test_request_context():
        upward_ops.submit(author, cycle, ratings, {"comment": comment} if comment else {})
        db.session.commit()


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _snapshot(cycle) -> FrameworkSnapshot:
    db.session.refresh(cycle)
    return FrameworkSnapshot(cycle.framework_snapshot)


def _cycles() -> int:
    return db.session.scalar(select(func.count()).select_from(Cycle)) or 0


def _cycle_body(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Defects cycle",
        "period_start": (TODAY - timedelta(days=180)).isoformat(),
        "period_end": TODAY.isoformat(),
        "self_review_due": (TODAY + timedelta(days=7)).isoformat(),
        "peer_feedback_due": (TODAY + timedelta(days=14)).isoformat(),
        "manager_review_due": (TODAY + timedelta(days=21)).isoformat(),
        "calibration_due": (TODAY + timedelta(days=28)).isoformat(),
        **fields,
    }


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


TABLE_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
TAG = re.compile(r"<[^>]+>")


def _table_rows(page: str) -> list[str]:
    """The text of each table row (cells joined by " | ")."""
    return [
        html.unescape(TAG.sub(" | ", row))
        for row in TABLE_ROW.findall(page)
        if "<td" in row  # body rows, not the header
    ]


def _mentions(text: str, person) -> bool:
    return person.name in text or person.email in text


def _names_parameter(page: str, name: str) -> bool:
    """The page's own content (not its menus) names the query parameter: quoted, as code,
    as `name=`, or as the error of a field of that name."""
    found = re.search(r'<main id="main"[^>]*>(.*)</main>', page, re.S)
    assert found, "no <main> on the page"
    raw = html.unescape(found.group(1))
    text = html.unescape(TAG.sub(" ", found.group(1)))
    n = re.escape(name)
    return bool(
        re.search(rf"[\"'`\u2018\u201c]{n}[\"'`\u2019\u201d]|(?<![\w-]){n}=", text)
        or re.search(rf'<code>{n}</code>|id="{n}-error"[^>]*>\s*[^<\s]', raw)
    )


# 1 ------------------------------------------------------------------------------------


def test_api_review_hides_a_draft_self_review_from_the_line(app, make_person):
    """Managers and HR read a self-review only once the person submitted it."""
    draft = "Half-written thoughts about the outage, not for anyone yet"
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    cycle = launched_cycle(hr)
    review = review_of(cycle, sam)
    _save(
        sam,
        part(review, PartKind.SELF),
        PartInput(answers={"accomplishments": draft}),
        submit=False,
    )
    for viewer in (boss, hr):
        answer = Api(app, viewer).get(f"/reviews/{review.id}")
        assert answer.status_code == 200
        assert answer.get_json()["self"] is None, viewer.name
        assert draft not in answer.get_data(as_text=True), viewer.name
    own = Api(app, sam).get(f"/reviews/{review.id}").get_json()
    assert own["self"]["state"] == "draft"
    assert own["self"]["answers"]["accomplishments"] == draft


# 2 ------------------------------------------------------------------------------------


def test_api_cycle_patch_keeps_and_exposes_upward_feedback(app, make_person):
    """HR sets upward feedback through the API, and editing other fields keeps it."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    api = Api(app, hr)
    created = api.call("POST", "/cycles", json=_cycle_body(upward_feedback=True))
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["upward_feedback"] is True
    cycle_id = data["id"]
    assert api.get(f"/cycles/{cycle_id}").get_json()["upward_feedback"] is True

    renamed = api.call(
        "PATCH", f"/cycles/{cycle_id}", json={"name": "Renamed", "version": data["version"]}
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["name"] == "Renamed"
    assert renamed.get_json()["upward_feedback"] is True
    assert db.session.get(Cycle, cycle_id, populate_existing=True).upward_feedback is True

    off = api.call(
        "PATCH",
        f"/cycles/{cycle_id}",
        json={"upward_feedback": False, "version": renamed.get_json()["version"]},
    )
    assert off.status_code == 200, off.get_json()
    assert off.get_json()["upward_feedback"] is False
    assert db.session.get(Cycle, cycle_id, populate_existing=True).upward_feedback is False


# 3 ------------------------------------------------------------------------------------


def test_anonymising_a_departed_manager_removes_upward_comments_about_them(app, make_person):
    """Anonymising a former manager also removes what their reports wrote about them."""
    from reviews.people.operations import deactivate_person
    from reviews.privacy import anonymise

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    successor = make_person("Sue Successor", role=Role.MANAGER, level_key="engineering-manager")
    reports = [make_person(f"Report{n} Zed", manager=boss) for n in range(3)]
    cycle = launched_cycle(hr, upward_feedback=True)
    for n, person in enumerate(reports):
        _upward(person, cycle, {PM: 2 + n}, f"Bo Boss cancels our one-to-ones ({n})")
    before = sorted(
        (a.id, json.dumps(a.ratings, sort_keys=True))
        for a in db.session.scalars(select(UpwardAnswer).where(UpwardAnswer.manager_id == boss.id))
    )
    assert len(before) == 3
    for person in reports:
        person.manager = successor
    db.session.commit()
    with current_app.test_request_context():
        deactivate_person(hr, boss)
        anonymise(hr, boss)
        db.session.commit()
    answers = list(
        db.session.scalars(
            select(UpwardAnswer)
            .where(UpwardAnswer.manager_id == boss.id)
            .execution_options(populate_existing=True)
        )
    )
    assert [a.answers for a in answers] == [{}, {}, {}]
    assert sorted((a.id, json.dumps(a.ratings, sort_keys=True)) for a in answers) == before


# 4 ------------------------------------------------------------------------------------


def test_names_hidden_cycle_shows_staff_no_peer_entry_while_peers_submit(app, make_person):
    """Where names are hidden, staff see peer feedback only as a batch after the phase."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    peers = [make_person(f"Peer{n} Quill") for n in range(4)]
    cycle = launched_cycle(hr, CycleState.PEER_FEEDBACK, anonymity_threshold=3, **NAMES_HIDDEN)
    review = review_of(cycle, sam)
    requests = [approved_peer(boss, review, peer) for peer in peers]
    texts = [f"Distinctive peer note number {n} on Sam" for n in range(3)]
    staff = {
        "hr": (Api(app, hr), client_for(app, hr)),
        "manager": (Api(app, boss), client_for(app, boss)),
    }
    for n, (request, text) in enumerate(zip(requests[:3], texts, strict=True)):
        with current_app.test_request_context():
            feedback = ops.peer_assessment(request)
            db.session.commit()
        _save(
            request.reviewer,
            feedback,
            PartInput(
                ratings={PM: 3},
                answers={"strengths": text, "growth_areas": "Scope.", "suggestion": "Pair."},
            ),
        )
        assert db.session.get(Cycle, cycle.id).state == CycleState.PEER_FEEDBACK
        for who, (api, web) in staff.items():
            answer = api.get(f"/reviews/{review.id}")
            assert answer.status_code == 200
            assert answer.get_json()["peers"]["entries"] == [], (who, n)
            body = answer.get_data(as_text=True)
            page = _page(web, f"/reviews/{review.id}")
            for written in texts[: n + 1]:
                assert written not in body, (who, n, "api")
                assert written not in page, (who, n, "page")

    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    api, web = staff["manager"]
    entries = api.get(f"/reviews/{review.id}").get_json()["peers"]["entries"]
    assert len(entries) == 3
    assert all(e["author_name"] is None for e in entries)
    page = _page(web, f"/reviews/{review.id}")
    for written in texts:
        assert written in page


# 5 ------------------------------------------------------------------------------------


def _values(data: Any) -> list[Any]:
    """Every value inside a JSON document, nested ones included."""
    if isinstance(data, dict):
        return [v for item in data.values() for v in _values(item)]
    if isinstance(data, list):
        return [v for item in data for v in _values(item)]
    return [data]


def test_audit_log_never_pairs_a_peer_with_the_person_they_reviewed(app, make_person):
    """In a names-hidden cycle the audit log does not tell HR who reviewed whom."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", email="sam.subject@example.com", manager=boss)
    pia = make_person("Pia Peerwriter", email="pia.peerwriter@example.com")
    cycle = launched_cycle(hr, CycleState.PEER_FEEDBACK, anonymity_threshold=3, **NAMES_HIDDEN)
    review = review_of(cycle, sam)
    _peer_writes(boss, review, pia, {PM: 4}, "Sam explains designs well.")

    items = Api(app, hr).get("/audit?limit=200").get_json()["items"]
    assert items
    for item in items:
        pair = (item["event"], item["actor"], item["subject"])
        assert not (item["actor"] == pia.email and item["subject"] == sam.email), pair
        if item["actor"] == pia.email:
            values = _values(item["details"])
            assert sam.id not in values, (pair, item["details"])
            assert not any(sam.email in str(v) for v in values), (pair, item["details"])

    web = client_for(app, hr)
    status, data, _headers = fetch(web, "/audit.csv")
    assert status == 200
    header, *rows = _csv_rows(data)
    assert header[:4] == ["When (UTC)", "Event", "Actor", "Subject"]
    # Who was asked (peer.added) is the nominations' record, which HR reads on the
    # nominations page too; no other event may pair the peer with the subject.
    assert any(row[1] == "peer.added" for row in rows)
    for row in rows:
        line = ",".join(row)
        if not row[1].startswith("peer."):
            assert not (_mentions(line, pia) and _mentions(line, sam)), row

    page = web.get("/audit").get_data(as_text=True)
    for row in _table_rows(page):
        if "peer.added" not in row:
            assert not (_mentions(row, pia) and _mentions(row, sam)), row


# 6 ------------------------------------------------------------------------------------


def test_audit_log_does_not_name_who_answered_upward_feedback(app, make_person):
    """Upward feedback is never attributable, the audit log included."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person(
        "Bo Boss", email="bo.boss@example.com", role=Role.MANAGER, level_key="engineering-manager"
    )
    rae = make_person("Rae Reporter", email="rae.reporter@example.com", manager=boss)
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, upward_feedback=True)
    _upward(rae, cycle, {PM: 2}, "Cancels our one-to-ones.")

    items = Api(app, hr).get("/audit?limit=200").get_json()["items"]
    assert items
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        assert not (_mentions(text, rae) and _mentions(text, boss)), item
        assert not (item["event"].startswith("upward.") and item["actor"] == rae.email), item

    web = client_for(app, hr)
    status, data, _headers = fetch(web, "/audit.csv")
    assert status == 200
    for row in _csv_rows(data)[1:]:
        line = ",".join(row)
        assert not (_mentions(line, rae) and _mentions(line, boss)), row
        assert not (row[1].startswith("upward.") and row[2] == rae.email), row

    page = web.get("/audit").get_data(as_text=True)
    for row in _table_rows(page):
        assert not (_mentions(row, rae) and _mentions(row, boss)), row


# 7 ------------------------------------------------------------------------------------


def test_personal_data_export_does_not_name_anonymous_peer_authors(app, make_person):
    """A person's own data export keeps their anonymous peers anonymous."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    peers = [
        make_person(name, email=email)
        for name, email in (
            ("Quincy Quillfeather", "quincy.quillfeather@example.com"),
            ("Ramona Rookwood", "ramona.rookwood@example.com"),
            ("Silas Sternbridge", "silas.sternbridge@example.com"),
        )
    ]
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, anonymity_threshold=3, peer_anonymous=True)
    review = review_of(cycle, sam)
    keys = _snapshot(cycle).keys
    for n, peer in enumerate(peers):
        _peer_writes(boss, review, peer, {keys[0]: 3 + n % 2}, f"Feedback {n} for Sam.")
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    release_with_manager_ratings(hr, cycle, lambda r: (3, {}))

    web = client_for(app, hr)
    status, data, _headers = fetch(web, f"/people/{sam.id}/data.json")
    assert status == 200
    exported = data.decode("utf-8")
    assert "Feedback 0 for Sam." in exported  # the feedback is there, only its authors not
    status, data, _headers = fetch(web, f"/people/{sam.id}/data.pdf")
    assert status == 200
    printed = " ".join(pdf_text(data).split())
    assert "Sam Subject" in printed
    for where, text in (("data.json", exported), ("data.pdf", printed)):
        for peer in peers:
            assert peer.name not in text, (where, peer.name)
            for word in peer.name.split():
                assert word not in text, (where, word)
            assert peer.email not in text, (where, peer.email)


# 8 ------------------------------------------------------------------------------------


def test_upward_api_withholds_counts_below_the_threshold(app, make_person):
    """A competency fewer than the threshold rated shows no figure, not even a count."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    reports = [make_person(f"Report{n} Zed", manager=boss) for n in range(3)]
    cycle = launched_cycle(hr, upward_feedback=True, anonymity_threshold=3)
    _upward(reports[0], cycle, {PM: 4, CM: 4}, "")
    _upward(reports[1], cycle, {PM: 2, CM: 3}, "")
    _upward(reports[2], cycle, {CM: 5}, "")  # skips People Management
    advance(hr, cycle, CycleState.CALIBRATION)

    answer = Api(app, hr).get(f"/cycles/{cycle.id}/upward/{boss.id}")
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["shown"] is True
    coaching = next(c for c in data["competencies"] if c["key"] == CM)
    assert coaching["responses"] == 3  # the control: at the threshold the count shows
    managing = next(c for c in data["competencies"] if c["key"] == PM)
    assert managing.get("responses") is None, managing
    assert managing["mean"] is None

    page = _page(client_for(app, hr), f"/cycles/{cycle.id}/upward/{boss.id}")
    (row,) = re.findall(r'<th scope="row">People Management</th>(.*?)</tr>', page, re.S)
    assert "Too few answers on this competency to show." in row
    assert not re.search(r"\d", TAG.sub("", row)), row


# 9 ------------------------------------------------------------------------------------


def test_reviewee_sees_no_peer_average_from_fewer_raters_than_the_threshold(app, make_person):
    """The person reviewed sees a peer average only where enough peers rated."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    peers = [make_person(f"Peer{n} Quill") for n in range(3)]
    cycle = launched_cycle(hr, anonymity_threshold=3, peer_anonymous=True)
    snapshot = _snapshot(cycle)
    x, y = snapshot.competencies[0], snapshot.competencies[1]
    review = review_of(cycle, sam)
    for peer, ratings in zip(
        peers, ({x.key: 5, y.key: 4}, {x.key: 2, y.key: 4}, {y.key: 4}), strict=True
    ):
        _peer_writes(boss, review, peer, ratings, f"{peer.name} on Sam.")
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    release_with_manager_ratings(hr, cycle, lambda r: (3, {}))

    own = Api(app, sam).get(f"/reviews/{review.id}").get_json()
    averages = own["peers"]["averages"]
    assert averages[y.key]["n"] == 3
    assert averages.get(x.key) is None, averages[x.key]

    page = _page(client_for(app, sam), f"/reviews/{review.id}")

    def average_cells(name: str) -> list[str]:
        return re.findall(rf'<th scope="row">{re.escape(name)}</th>\s*<td[^>]*>([^<]*)<', page)

    assert "4.0" in [c.strip() for c in average_cells(y.name)]  # the control
    for cell in average_cells(x.name):
        assert not re.search(r"\d", cell), cell


# 10 -----------------------------------------------------------------------------------


def test_anonymous_cycle_needs_a_threshold_of_three(app, make_person):
    """An anonymous cycle cannot be set to show feedback from fewer than three peers."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    api = Api(app, hr)
    refused = api.call(
        "POST", "/cycles", json=_cycle_body(peer_anonymous=True, anonymity_threshold=1)
    )
    assert refused.status_code == 422, refused.get_json()
    assert "anonymity_threshold" in refused.get_json()["error"]["fields"]
    assert _cycles() == 0

    web = client_for(app, hr)
    form = post(web, "/cycles/new", cycle_form(anonymity_threshold="2", peer_anonymous="y"))
    assert form.status_code == 400
    assert _cycles() == 0
    beside = re.findall(
        r'<p class="error" id="anonymity_threshold-error">([^<]*)</p>',
        form.get_data(as_text=True),
    )
    assert any(message.strip() for message in beside), "no error beside the threshold"

    named = api.call(
        "POST", "/cycles", json=_cycle_body(peer_anonymous=False, anonymity_threshold=1)
    )
    assert named.status_code == 201, named.get_json()
    named_form = cycle_form(name="Named cycle", anonymity_threshold="1")
    del named_form["peer_anonymous"]
    assert post(web, "/cycles/new", named_form).status_code == 302
    assert _cycles() == 2


# 11 -----------------------------------------------------------------------------------

WARNING = re.compile(
    r'<(\w+)[^>]*(?:class="[^"]*warn[^"]*"|role="alert")[^>]*>(.*?)</\1>', re.S | re.I
)


def _warnings(page: str) -> list[str]:
    return [html.unescape(TAG.sub(" ", body)) for _tag, body in WARNING.findall(page)]


def test_cycle_warns_when_the_threshold_exceeds_the_minimum_of_peers(app, make_person):
    """HR is told when an anonymous cycle's minimum of peers cannot reach its threshold."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    api = Api(app, hr)
    low = api.call(
        "POST",
        "/cycles",
        json=_cycle_body(peer_anonymous=True, peer_min=2, anonymity_threshold=3),
    )
    assert low.status_code == 201, low.get_json()
    warnings = low.get_json().get("warnings")
    assert isinstance(warnings, list), low.get_json()
    assert all(set(w) >= {"field", "message"} for w in warnings), warnings
    assert "peer_min" in [w["field"] for w in warnings]
    web = client_for(app, hr)
    shown = _warnings(_page(web, f"/cycles/{low.get_json()['id']}"))
    assert any("threshold" in w.lower() for w in shown), shown

    enough = api.call(
        "POST",
        "/cycles",
        json=_cycle_body(name="Enough", peer_anonymous=True, peer_min=3, anonymity_threshold=3),
    )
    assert enough.status_code == 201, enough.get_json()
    assert enough.get_json().get("warnings") == []
    shown = _warnings(_page(web, f"/cycles/{enough.get_json()['id']}"))
    assert not any("threshold" in w.lower() for w in shown), shown

    assert ops.CycleFields.for_everyone("Defaults", TODAY).peer_min == 3
    new = _page(web, "/cycles/new")
    (field,) = re.findall(r'<input[^>]*name="peer_min"[^>]*>', new)
    assert re.search(r'value="3"', field), field


# 12 -----------------------------------------------------------------------------------


def test_released_review_shows_the_subject_only_the_calibrated_result(app, make_person):
    """After calibration the person sees the final rating, not the proposal it replaced."""
    from reviews.calibration import operations as cal
    from reviews.calibration.models import GroupKind

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    snapshot = _snapshot(cycle)
    review = review_of(cycle, sam)
    submit_manager_review(boss, review, 4, dict.fromkeys(snapshot.keys, 3))
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        session = cal.open_session(
            hr, cycle, GroupKind.MANAGER_ORG, department=None, manager=boss, managers_calibrate=True
        )
        db.session.flush()
        db.session.refresh(review)
        cal.change_final(
            hr,
            session,
            review,
            review.final_version,
            cal.FinalChange(overall=3, potential=None, ratings={}),
            "Against the level's expectations the half was on target.",
        )
        cal.finish_session(hr, session)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)

    own = Api(app, sam).get(f"/reviews/{review.id}").get_json()
    assert own["result"]["final_rating"] == 3
    assert (own["manager"] or {}).get("overall") is None, own["manager"]
    by_manager = Api(app, boss).get(f"/reviews/{review.id}").get_json()
    assert by_manager["manager"]["overall"] == 4

    exceeds = snapshot.performance[3]["label"]
    assert exceeds == "Exceeds expectations"
    page = _page(client_for(app, sam), f"/reviews/{review.id}")
    assert snapshot.performance[2]["label"] in page  # the final rating, 3
    assert f"4 · {exceeds}" not in page


# 13 -----------------------------------------------------------------------------------


def _keys_of(cycle) -> list[str]:
    return _snapshot(cycle).keys


def _put_draft(api, review_id: int, data: dict[str, Any]) -> int:
    version = api.get(f"/reviews/{review_id}/self").get_json()["version"]
    saved = api.call("PUT", f"/reviews/{review_id}/self", json={**data, "version": version})
    assert saved.status_code == 200, saved.get_json()
    return saved.get_json()["version"]


def test_api_put_of_ratings_keeps_the_drafts_texts(app, make_person):
    """Saving only ratings through the API leaves the draft's written text alone."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    sam = make_person("Sam Subject")
    cycle = launched_cycle(hr)
    keys = _keys_of(cycle)
    review = review_of(cycle, sam)
    api = Api(app, sam)
    comments = {keys[0]: "Led the billing migration without downtime."}
    answers = {"accomplishments": "Shipped the importer.", "growth": "Design reviews."}
    version = _put_draft(
        api, review.id, {"ratings": {keys[0]: 3}, "comments": comments, "answers": answers}
    )
    ratings = {keys[0]: 4, keys[1]: 2}
    second = api.call(
        "PUT",
        f"/reviews/{review.id}/self",
        json={"ratings": ratings, "version": version},
    )
    assert second.status_code == 200, second.get_json()
    for data in (second.get_json(), api.get(f"/reviews/{review.id}/self").get_json()):
        assert data["ratings"] == ratings
        assert data["comments"] == comments
        assert data["answers"] == answers


# 14 -----------------------------------------------------------------------------------


def test_api_submit_uses_the_saved_draft(app, make_person):
    """Submitting through the API submits the draft as saved, or says all that is missing."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    sam = make_person("Sam Subject")
    tia = make_person("Tia Other")
    cycle = launched_cycle(hr)
    keys = _keys_of(cycle)
    review = review_of(cycle, sam)
    api = Api(app, sam)
    ratings = {k: 1 + n % 5 for n, k in enumerate(keys)}
    answers = {"accomplishments": "Shipped the importer.", "growth": "Design reviews."}
    version = _put_draft(api, review.id, {"ratings": ratings, "answers": answers})
    submitted = api.call("POST", f"/reviews/{review.id}/self/submit", json={"version": version})
    assert submitted.status_code == 200, submitted.get_json()
    data = submitted.get_json()
    assert data["state"] == "submitted"
    assert (data["ratings"], data["answers"]) == (ratings, answers)
    stored = part(review, PartKind.SELF)
    db.session.refresh(stored)
    assert stored.state == PartState.SUBMITTED
    assert (stored.ratings, stored.answers) == (ratings, answers)

    other = review_of(cycle, tia)
    tia_api = Api(app, tia)
    rated = keys[:3]
    version = _put_draft(
        tia_api,
        other.id,
        {"ratings": dict.fromkeys(rated, 3), "answers": {"growth": "Design reviews."}},
    )
    incomplete = tia_api.call("POST", f"/reviews/{other.id}/self/submit", json={"version": version})
    assert incomplete.status_code == 422, incomplete.get_json()
    fields = incomplete.get_json()["error"]["fields"]
    missing = {f"ratings.{k}" for k in keys[3:]} | {"answers.accomplishments"}
    assert len(missing) > 1
    assert missing <= set(fields), fields
    saved = {f"ratings.{k}" for k in rated} | {"answers.growth"}
    assert not saved & set(fields), fields
    assert part(other, PartKind.SELF).state == PartState.DRAFT


# 15 -----------------------------------------------------------------------------------


def test_malformed_query_parameters_answer_400_naming_them(app, make_person):
    """A filter that cannot be read is refused and named, not silently dropped."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    make_person("Sam Subject", manager=boss)
    cycle = launched_cycle(hr)
    api = Api(app, hr)
    report = api.get(f"/cycles/{cycle.id}/report.csv?manager=abc")
    body = report.get_data()
    report.close()
    assert report.status_code == 400, report.status_code
    assert "manager" in json.loads(body)["error"]["fields"]
    audit = api.get("/audit?to=notadate")
    assert audit.status_code == 400, audit.status_code
    assert "to" in audit.get_json()["error"]["fields"]

    web = client_for(app, hr)
    status, data, _headers = fetch(web, f"/cycles/{cycle.id}/report.csv?manager=abc")
    assert status == 400
    assert _names_parameter(data.decode("utf-8"), "manager")
    status, data, _headers = fetch(web, "/audit?to=notadate")
    assert status == 400
    assert _names_parameter(data.decode("utf-8"), "to")
