"""Bad input to the review-cycle pages is refused, explained, and changes nothing.

Through the web client: the HR cycle form, phase changes, the self and manager
parts (form posts and autosave), peer nominations and declining a request.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from conftest import csrf_token, post, sign_in
from cycle_helpers import advance, approved_peer, launched_cycle, part, review_of
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.cycles.models import (
    Assessment,
    Cycle,
    ParticipantMode,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Department, Person, Role

TODAY = date.today()


@pytest.fixture
def org(make_person: Callable[..., Person]) -> dict[str, Person]:
    hr = make_person("Hanna Hr", email="hr@example.com", role=Role.HR)
    boss = make_person("Mona Manager", email="mona@example.com", role=Role.MANAGER)
    return {
        "hr": hr,
        "boss": boss,
        "emp": make_person("Eli Employee", email="eli@example.com", manager=boss),
        "peer1": make_person("Pia Peer", email="pia@example.com", manager=boss),
        "peer2": make_person("Paul Peer", email="paul@example.com", manager=boss),
        "peer3": make_person("Pete Peer", email="pete@example.com", manager=boss),
    }


@pytest.fixture
def as_user(app: Flask) -> Callable[[Person], FlaskClient]:
    """A separate signed-in client per person (a client stays signed in as one person)."""

    def sign(person: Person) -> FlaskClient:
        client = app.test_client()
        assert sign_in(client, person.email).status_code == 302
        client.csrf = csrf_token(client, "/")  # type: ignore[attr-defined]
        return client

    return sign


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def error_beside(response: Any, field: str, message: str) -> bool:
    """The page shows `message` in the error paragraph of `field`."""
    pattern = rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>'
    return any(message in m for m in re.findall(pattern, text(response)))


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def competency_keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key)))


# The HR cycle form ------------------------------------------------------------------


def cycle_form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "2026 H2 review",
        "period_start": (TODAY - timedelta(days=180)).isoformat(),
        "period_end": TODAY.isoformat(),
        "participant_mode": "all",
        "participant_emails": "",
        "self_review_due": (TODAY + timedelta(days=7)).isoformat(),
        "peer_feedback_due": (TODAY + timedelta(days=14)).isoformat(),
        "manager_review_due": (TODAY + timedelta(days=21)).isoformat(),
        "calibration_due": (TODAY + timedelta(days=28)).isoformat(),
        "peer_min": "1",
        "peer_max": "5",
        "peer_anonymous": "y",
        "anonymity_threshold": "3",
        "peer_names_to_managers": "y",
        "reviewer_load_cap": "5",
        "guidance": "5/20/50/20/5",
    }
    form.update(overrides)
    return form


@pytest.fixture
def hr_client(org: dict[str, Person], as_user: Callable[[Person], FlaskClient]) -> FlaskClient:
    return as_user(org["hr"])


def test_a_valid_cycle_form_creates_the_cycle(hr_client: FlaskClient) -> None:
    """The control for the refusals below: the same form, unspoilt, is accepted."""
    response = post(hr_client, "/cycles/new", cycle_form())
    assert response.status_code == 302, text(response)
    cycle = db.session.scalar(select(Cycle))
    assert cycle is not None
    assert cycle.name == "2026 H2 review"
    assert cycle.state == CycleState.DRAFT
    assert cycle.guidance == [5, 20, 50, 20, 5]


BAD_CYCLE_FORMS = [
    pytest.param({"name": ""}, "name", "Give the cycle a name.", id="empty-name"),
    pytest.param({"name": "   "}, "name", "Give the cycle a name.", id="blank-name"),
    pytest.param(
        {"period_end": (TODAY - timedelta(days=200)).isoformat()},
        "period_end",
        "The period must end after it starts.",
        id="period-end-before-start",
    ),
    pytest.param(
        {"period_start": "2026-13-40"},
        "period_start",
        "Enter a date as YYYY-MM-DD.",
        id="not-a-date",
    ),
    pytest.param(
        {"peer_min": "4", "peer_max": "2"},
        "peer_min",
        "The minimum cannot be above the maximum.",
        id="peer-min-above-max",
    ),
    pytest.param({"peer_max": "0"}, "peer_max", "from 1 to 20", id="peer-max-zero"),
    pytest.param({"peer_min": "x"}, "peer_min", "Enter a whole number", id="peer-min-not-number"),
    pytest.param(
        {"guidance": "5/20/50/20/4"},
        "guidance",
        "The five guidance percentages must add up to 100.",
        id="guidance-sum-99",
    ),
    pytest.param(
        {"guidance": "10/20/50/20"},
        "guidance",
        "The five guidance percentages must add up to 100.",
        id="guidance-four-values",
    ),
    pytest.param(
        {"guidance": "5/20/50/20/5/0"},
        "guidance",
        "The five guidance percentages must add up to 100.",
        id="guidance-six-values",
    ),
    pytest.param(
        {"guidance": "a/b/c/d/e"},
        "guidance",
        "Write five whole percentages separated by /.",
        id="guidance-not-numbers",
    ),
    pytest.param(
        {"guidance": "5/20/50.5/20/4.5"},
        "guidance",
        "Write five whole percentages separated by /.",
        id="guidance-fractions",
    ),
    pytest.param(
        {"guidance": "-10/30/60/10/10"},
        "guidance",
        "percentage",
        id="guidance-negative",
    ),
    pytest.param(
        {"guidance": ""}, "guidance", "Enter the guidance distribution", id="guidance-empty"
    ),
    pytest.param(
        {"self_review_due": (TODAY + timedelta(days=15)).isoformat()},
        "peer_feedback_due",
        "Phase deadlines must follow the order of the phases.",
        id="self-due-after-peer-due",
    ),
    pytest.param(
        {"calibration_due": (TODAY + timedelta(days=20)).isoformat()},
        "peer_feedback_due",
        "Phase deadlines must follow the order of the phases.",
        id="calibration-due-before-manager-due",
    ),
    pytest.param(
        {"participant_mode": "departments"},
        "department_ids",
        "Choose at least one department.",
        id="departments-without-departments",
    ),
    pytest.param(
        {"participant_mode": "list", "participant_emails": "eli@example.com\nghost@example.com"},
        "participant_emails",
        "Nobody has the email ghost@example.com.",
        id="list-with-unknown-email",
    ),
    pytest.param(
        {"participant_mode": "list", "participant_emails": ""},
        "participant_emails",
        "List at least one participant.",
        id="list-empty",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_CYCLE_FORMS)
def test_cycle_form_refuses_bad_input_beside_the_field(
    hr_client: FlaskClient, overrides: dict[str, str], field: str, message: str
) -> None:
    response = post(hr_client, "/cycles/new", cycle_form(**overrides))
    assert response.status_code == 400, text(response)
    assert error_beside(response, field, message), text(response)
    assert count(Cycle) == 0


def test_editing_a_draft_with_bad_input_changes_nothing(
    hr_client: FlaskClient, org: dict[str, Person]
) -> None:
    assert post(hr_client, "/cycles/new", cycle_form()).status_code == 302
    cycle = db.session.scalar(select(Cycle))
    assert cycle is not None
    cycle_id, version = cycle.id, cycle.version
    page = hr_client.get(f"/cycles/{cycle_id}/edit")
    assert page.status_code == 200
    for overrides, field, message in (
        ({"participant_mode": "departments"}, "department_ids", "Choose at least one department"),
        ({"period_end": "2000-01-01"}, "period_end", "The period must end after it starts."),
        (
            {"participant_mode": "list", "participant_emails": "nobody@example.com"},
            "participant_emails",
            "Nobody has the email nobody@example.com.",
        ),
    ):
        form = cycle_form(name="Renamed", version=str(version), **overrides)
        response = post(hr_client, f"/cycles/{cycle_id}/edit", form)
        assert response.status_code == 400
        assert error_beside(response, field, message), text(response)
        db.session.expire_all()
        stored = db.session.get(Cycle, cycle_id)
        assert stored is not None
        assert (stored.name, stored.participant_mode, stored.version) == (
            "2026 H2 review",
            ParticipantMode.ALL,
            version,
        )
        assert stored.departments == []
        assert stored.participants == []


def test_departments_mode_with_a_department_is_accepted(
    hr_client: FlaskClient, org: dict[str, Person]
) -> None:
    department = Department(name="Platform")
    db.session.add(department)
    db.session.commit()
    form = cycle_form(participant_mode="departments", department_ids=str(department.id))
    response = post(hr_client, "/cycles/new", form)
    assert response.status_code == 302, text(response)
    cycle = db.session.scalar(select(Cycle))
    assert cycle is not None
    assert [d.name for d in cycle.departments] == ["Platform"]


def test_editing_a_launched_cycle_is_refused(
    hr_client: FlaskClient, org: dict[str, Person]
) -> None:
    cycle = launched_cycle(org["hr"])
    cycle_id, name, version = cycle.id, cycle.name, cycle.version
    form = cycle_form(name="Renamed", version=str(version), peer_max="9")
    response = post(hr_client, f"/cycles/{cycle_id}/edit", form)
    assert response.status_code in (302, 303, 409)
    if response.status_code != 409:
        assert response.headers["Location"].endswith(f"/cycles/{cycle_id}")
        response = hr_client.get(response.headers["Location"])
    assert "A launched cycle cannot be edited." in text(response)
    assert hr_client.get(f"/cycles/{cycle_id}/edit").status_code in (302, 303, 409)
    db.session.expire_all()
    stored = db.session.get(Cycle, cycle_id)
    assert stored is not None
    assert (stored.name, stored.version, stored.peer_max, stored.state) == (
        name,
        version,
        5,
        CycleState.SELF_REVIEW,
    )


@pytest.mark.parametrize("target", ["bogus", "", "SELF_REVIEW", "self-review", "7"])
def test_advancing_to_a_bogus_target_is_a_bad_request(
    hr_client: FlaskClient, org: dict[str, Person], target: str
) -> None:
    cycle = launched_cycle(org["hr"])
    response = post(hr_client, f"/cycles/{cycle.id}/advance", {"target": target})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).state == CycleState.SELF_REVIEW  # type: ignore[union-attr]


def test_advancing_past_the_next_phase_is_refused_with_a_message(
    hr_client: FlaskClient, org: dict[str, Person]
) -> None:
    cycle = launched_cycle(org["hr"])
    response = post(hr_client, f"/cycles/{cycle.id}/advance", {"target": "manager_review"})
    assert response.status_code in (302, 303)
    page = text(hr_client.get(response.headers["Location"]))
    assert "cannot move to manager review" in page
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).state == CycleState.SELF_REVIEW  # type: ignore[union-attr]


@pytest.mark.parametrize("method", ["get", "post"])
def test_cycle_pages_are_for_hr_only(
    org: dict[str, Person], as_user: Callable[[Person], FlaskClient], method: str
) -> None:
    for who in ("emp", "boss"):
        client = as_user(org[who])
        if method == "get":
            response = client.get("/cycles/new")
        else:
            response = post(client, "/cycles/new", cycle_form())
        assert response.status_code == 403
    assert count(Cycle) == 0
    cycle = launched_cycle(org["hr"])
    client = as_user(org["emp"])
    response = post(client, f"/cycles/{cycle.id}/advance", {"target": "peer_feedback"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).state == CycleState.SELF_REVIEW  # type: ignore[union-attr]


# The self-review part ------------------------------------------------------------------


def self_form(version: int, action: str = "draft", **overrides: str) -> dict[str, str]:
    form = {f"rating_{k}": "3" for k in competency_keys()}
    form.update(
        {
            "comment_technical-fluency": "Rewrote the build.",
            "accomplishments": "Shipped the importer.",
            "growth": "Lead a project.",
            "desired_level": "senior-engineer",
            "version": str(version),
            "action": action,
        }
    )
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def stored(part_id: int) -> tuple[Any, ...]:
    db.session.expire_all()
    found = db.session.get(Assessment, part_id)
    assert found is not None
    return (
        found.state,
        found.version,
        dict(found.ratings),
        dict(found.comments),
        dict(found.answers),
        found.desired_level_key,
        found.overall_rating,
        found.potential,
        found.promotion_readiness,
        found.submitted_at,
        found.updated_at,
    )


class SelfReview:
    def __init__(self, client: FlaskClient, review: Review, part_id: int) -> None:
        self.client = client
        self.review_id = review.id
        self.part_id = part_id
        self.url = f"/reviews/{review.id}/self"

    @property
    def version(self) -> int:
        return int(stored(self.part_id)[1])


@pytest.fixture
def self_review(org: dict[str, Person], as_user: Callable[[Person], FlaskClient]) -> SelfReview:
    """Eli's self-review in a launched cycle, with a saved draft holding some ratings."""
    cycle = launched_cycle(org["hr"], peer_max=2)
    review = review_of(cycle, org["emp"])
    own = part(review, PartKind.SELF)
    assert own is not None
    client = as_user(org["emp"])
    draft = {
        "rating_technical-fluency": "4",
        "rating_culture-building": "2",
        "comment_technical-fluency": "Rewrote the build.",
        "accomplishments": "Shipped the importer.",
        "version": "1",
        "action": "draft",
    }
    response = post(client, f"/reviews/{review.id}/self", draft)
    assert response.status_code == 302, text(response)
    saved = stored(own.id)
    assert saved[0] == PartState.DRAFT
    assert saved[1] == 2
    assert saved[2] == {"technical-fluency": 4, "culture-building": 2}
    return SelfReview(client, review, own.id)


BAD_SELF_POSTS = [
    pytest.param(
        {"rating_communication-and-listening": "6"},
        "rating_communication-and-listening",
        "Choose a rating from 1 to 5.",
        id="rating-6",
    ),
    pytest.param(
        {"rating_technical-fluency": "0"},
        "rating_technical-fluency",
        "Choose a rating from 1 to 5.",
        id="rating-0",
    ),
    pytest.param(
        {"rating_technical-fluency": "3.5"},
        "rating_technical-fluency",
        "Choose a rating from 1 to 5.",
        id="rating-fraction",
    ),
    pytest.param(
        {"rating_bogus": "3"},
        None,
        "'bogus' is not a competency of this cycle",
        id="unknown-rating",
    ),
    pytest.param(
        {"comment_bogus": "hi"},
        None,
        "'bogus' is not a competency of this cycle",
        id="unknown-comment",
    ),
    pytest.param(
        {"accomplishments": "a" * 5001},
        "accomplishments",
        "Keep this under 5000 characters.",
        id="text-5001",
    ),
    pytest.param(
        {"comment_culture-building": "c" * 2001},
        "comment_culture-building",
        "Keep comments under 2000 characters.",
        id="comment-2001",
    ),
    pytest.param(
        {"desired_level": "ceo"},
        "desired_level",
        "Choose a level above your own from the ladder.",
        id="level",
    ),
    # An engineer grows towards a level above theirs, not their own or a lower one.
    pytest.param(
        {"desired_level": "junior-engineer"},
        "desired_level",
        "Choose a level above your own from the ladder.",
        id="level-below",
    ),
    pytest.param(
        {"desired_level": "engineer"},
        "desired_level",
        "Choose a level above your own from the ladder.",
        id="level-own",
    ),
]


@pytest.mark.parametrize("action", ["draft", "submit"])
@pytest.mark.parametrize(("overrides", "field", "message"), BAD_SELF_POSTS)
def test_bad_self_review_input_is_refused_and_changes_nothing(
    self_review: SelfReview,
    action: str,
    overrides: dict[str, str],
    field: str | None,
    message: str,
) -> None:
    before = stored(self_review.part_id)
    form = self_form(self_review.version, action, **overrides)
    response = post(self_review.client, self_review.url, form)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    if field is not None:
        assert error_beside(response, field, message), page
    assert stored(self_review.part_id) == before


def test_submit_with_missing_ratings_is_refused_and_changes_nothing(
    self_review: SelfReview,
) -> None:
    before = stored(self_review.part_id)
    form = self_form(self_review.version, "submit")
    del form["rating_people-management"]
    form["rating_project-planning"] = ""
    response = post(self_review.client, self_review.url, form)
    assert response.status_code == 400
    for key in ("people-management", "project-planning"):
        assert error_beside(response, f"rating_{key}", "Rate this competency before submitting.")
    assert stored(self_review.part_id) == before
    assert before[0] == PartState.DRAFT


def test_submit_with_missing_answers_is_refused(self_review: SelfReview) -> None:
    before = stored(self_review.part_id)
    form = self_form(self_review.version, "submit", growth="  ")
    response = post(self_review.client, self_review.url, form)
    assert response.status_code == 400
    assert error_beside(
        response, "growth", "What you want to grow next is needed before submitting."
    )
    assert stored(self_review.part_id) == before


def test_a_stale_version_is_refused_on_the_form(self_review: SelfReview) -> None:
    before = stored(self_review.part_id)
    for version in ("1", "", "abc", "-2"):
        form = self_form(self_review.version, "draft")
        form["version"] = version
        response = post(self_review.client, self_review.url, form)
        assert response.status_code == 409
        assert "Your changes were not saved" in text(response)
        assert stored(self_review.part_id) == before


def test_writing_someone_elses_self_review_is_forbidden(
    self_review: SelfReview, org: dict[str, Person]
) -> None:
    cycle = db.session.get(Review, self_review.review_id).cycle  # type: ignore[union-attr]
    other_review = review_of(cycle, org["peer1"])
    other_part = part(other_review, PartKind.SELF)
    assert other_part is not None
    before = stored(other_part.id)
    url = f"/reviews/{other_review.id}/self"
    form = self_form(1, "draft")
    assert post(self_review.client, url, form).status_code == 403
    assert post(self_review.client, url, self_form(1, "submit")).status_code == 403
    assert post(self_review.client, f"{url}/autosave", form).status_code == 403
    assert self_review.client.get(url).status_code == 403
    assert stored(other_part.id) == before


@pytest.mark.parametrize("who", ["boss", "hr", "peer1"])
def test_only_the_subject_writes_the_self_review(
    self_review: SelfReview,
    org: dict[str, Person],
    as_user: Callable[[Person], FlaskClient],
    who: str,
) -> None:
    before = stored(self_review.part_id)
    client = as_user(org[who])
    form = self_form(self_review.version, "draft", accomplishments="Written by someone else")
    assert post(client, self_review.url, form).status_code == 403
    assert post(client, f"{self_review.url}/autosave", form).status_code == 403
    assert stored(self_review.part_id) == before


def test_an_unknown_review_is_not_found(self_review: SelfReview) -> None:
    form = self_form(1, "draft")
    assert post(self_review.client, "/reviews/999999/self", form).status_code == 404
    assert post(self_review.client, "/reviews/999999/self/autosave", form).status_code == 404


# Autosave ----------------------------------------------------------------------------


def test_autosave_with_a_bad_rating_answers_422_with_the_fields(self_review: SelfReview) -> None:
    before = stored(self_review.part_id)
    form = self_form(
        self_review.version,
        "draft",
        **{"rating_technical-fluency": "9", "comment_strategic-thinking": "c" * 2001},
    )
    response = post(self_review.client, f"{self_review.url}/autosave", form)
    assert response.status_code == 422
    assert response.is_json
    error = response.get_json()["error"]
    assert error["fields"] == {
        "rating_technical-fluency": "Choose a rating from 1 to 5.",
        "comment_strategic-thinking": "Keep comments under 2000 characters.",
    }
    assert stored(self_review.part_id) == before


def test_autosave_with_an_unknown_competency_answers_422(self_review: SelfReview) -> None:
    before = stored(self_review.part_id)
    form = self_form(self_review.version, "draft", rating_bogus="3")
    response = post(self_review.client, f"{self_review.url}/autosave", form)
    assert response.status_code == 422
    assert "bogus" in response.get_json()["error"]["fields"]["rating_bogus"]
    assert stored(self_review.part_id) == before


def test_autosave_with_a_stale_version_answers_409(self_review: SelfReview) -> None:
    url = f"{self_review.url}/autosave"
    current = self_review.version
    ok = post(self_review.client, url, self_form(current, "draft", growth="First tab"))
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.get_json()["version"] == current + 1
    before = stored(self_review.part_id)
    assert before[4]["growth"] == "First tab"
    stale = post(self_review.client, url, self_form(current, "draft", growth="Second tab"))
    assert stale.status_code == 409
    assert stale.is_json
    error = stale.get_json()["error"]
    assert error["code"] == "conflict"
    assert error["current_version"] == current + 1
    assert stored(self_review.part_id) == before


def test_autosave_never_submits(self_review: SelfReview) -> None:
    url = f"{self_review.url}/autosave"
    response = post(self_review.client, url, self_form(self_review.version, "submit"))
    assert response.status_code == 200
    assert stored(self_review.part_id)[0] == PartState.DRAFT


# Submitted parts are locked -----------------------------------------------------------


def test_a_submitted_self_review_is_locked(self_review: SelfReview) -> None:
    response = post(self_review.client, self_review.url, self_form(self_review.version, "submit"))
    assert response.status_code == 302, text(response)
    before = stored(self_review.part_id)
    assert before[0] == PartState.SUBMITTED
    version = before[1]
    for action in ("draft", "submit"):
        form = self_form(version, action, accomplishments="Changed my mind")
        response = post(self_review.client, self_review.url, form)
        assert response.status_code == 409
        assert "This part is submitted and can no longer be changed." in text(response)
        assert stored(self_review.part_id) == before
    form = self_form(version, "draft", accomplishments="Changed my mind")
    response = post(self_review.client, f"{self_review.url}/autosave", form)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "phase_closed"
    assert stored(self_review.part_id) == before


# Nominations ----------------------------------------------------------------------------


MAX_REACHED = re.compile(r"(allows at most|maximum of) 2 peers")


def nominate(client: FlaskClient, review_id: int, email: str) -> Any:
    return post(client, f"/reviews/{review_id}/nominations", {"action": "add", "email": email})


def requests_of(review_id: int) -> list[tuple[int, RequestState]]:
    db.session.expire_all()
    return [
        (r.reviewer_id, r.state)
        for r in db.session.scalars(
            select(PeerRequest).where(PeerRequest.review_id == review_id).order_by(PeerRequest.id)
        )
    ]


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("eli@example.com", "Nobody can give peer feedback on their own review."),
        ("ELI@example.com ", "Nobody can give peer feedback on their own review."),
        ("ghost@example.com", "Nobody has the email ghost@example.com."),
        ("", "Enter your colleague's name or email."),
    ],
)
def test_bad_nominations_are_refused(self_review: SelfReview, email: str, message: str) -> None:
    response = nominate(self_review.client, self_review.review_id, email)
    assert response.status_code == 400
    assert error_beside(response, "email", message), text(response)
    assert requests_of(self_review.review_id) == []


def test_nominating_the_same_peer_twice_is_refused(
    self_review: SelfReview, org: dict[str, Person]
) -> None:
    assert nominate(self_review.client, self_review.review_id, "pia@example.com").status_code == 302
    response = nominate(self_review.client, self_review.review_id, "PIA@example.com")
    assert response.status_code == 400
    assert error_beside(response, "email", "Pia Peer is already asked."), text(response)
    assert requests_of(self_review.review_id) == [(org["peer1"].id, RequestState.PROPOSED)]


def test_nominating_more_than_peer_max_is_refused(
    self_review: SelfReview, org: dict[str, Person]
) -> None:
    """The cycle allows at most two peers."""
    for email in ("pia@example.com", "paul@example.com"):
        assert nominate(self_review.client, self_review.review_id, email).status_code == 302
    before = requests_of(self_review.review_id)
    assert len(before) == 2
    response = nominate(self_review.client, self_review.review_id, "pete@example.com")
    assert response.status_code == 400
    assert MAX_REACHED.search(text(response)), text(response)
    assert requests_of(self_review.review_id) == before


def test_a_manager_cannot_add_more_than_peer_max_either(
    self_review: SelfReview, org: dict[str, Person], as_user: Callable[[Person], FlaskClient]
) -> None:
    boss = as_user(org["boss"])
    for email in ("pia@example.com", "paul@example.com"):
        assert nominate(boss, self_review.review_id, email).status_code == 302
    response = nominate(boss, self_review.review_id, "pete@example.com")
    assert response.status_code == 400
    assert MAX_REACHED.search(text(response)), text(response)
    assert len(requests_of(self_review.review_id)) == 2


@pytest.mark.parametrize("action", ["approve", "remove", "bogus"])
def test_an_employee_cannot_decide_their_own_nominations(
    self_review: SelfReview, action: str
) -> None:
    assert nominate(self_review.client, self_review.review_id, "pia@example.com").status_code == 302
    before = requests_of(self_review.review_id)
    request_id = db.session.scalar(select(PeerRequest.id))
    response = post(
        self_review.client,
        f"/reviews/{self_review.review_id}/nominations",
        {"action": action, "request_id": str(request_id)},
    )
    assert response.status_code in (400, 403)
    assert requests_of(self_review.review_id) == before


@pytest.mark.parametrize("request_id", ["999999", "", "abc", "99999999999999999999"])
def test_deciding_an_unknown_request_is_not_found(
    self_review: SelfReview,
    org: dict[str, Person],
    as_user: Callable[[Person], FlaskClient],
    request_id: str,
) -> None:
    boss = as_user(org["boss"])
    response = post(
        boss,
        f"/reviews/{self_review.review_id}/nominations",
        {"action": "approve", "request_id": request_id},
    )
    assert response.status_code == 404


# Declining a peer request ------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_declining_without_a_reason_is_refused(
    self_review: SelfReview,
    org: dict[str, Person],
    as_user: Callable[[Person], FlaskClient],
    reason: str,
) -> None:
    review = db.session.get(Review, self_review.review_id)
    assert review is not None
    request = approved_peer(org["boss"], review, org["peer1"])
    request_id = request.id
    peer = as_user(org["peer1"])
    response = post(peer, f"/requests/{request_id}/decline", {"reason": reason})
    assert response.status_code in (302, 303, 400)
    if response.status_code != 400:
        response = peer.get(response.headers["Location"])
    assert "Not declined" in text(response)
    db.session.expire_all()
    stored_request = db.session.get(PeerRequest, request_id)
    assert stored_request is not None
    assert stored_request.state == RequestState.APPROVED
    assert stored_request.decline_reason is None


def test_only_the_person_asked_can_decline(
    self_review: SelfReview, org: dict[str, Person], as_user: Callable[[Person], FlaskClient]
) -> None:
    review = db.session.get(Review, self_review.review_id)
    assert review is not None
    request_id = approved_peer(org["boss"], review, org["peer1"]).id
    other = as_user(org["peer2"])
    response = post(other, f"/requests/{request_id}/decline", {"reason": "Not me"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(PeerRequest, request_id).state == RequestState.APPROVED  # type: ignore[union-attr]


# The manager part ----------------------------------------------------------------------------


def manager_form(version: int, action: str = "draft") -> dict[str, str]:
    form = {f"rating_{k}": "4" for k in competency_keys()}
    form.update(
        summary="Strong half.",
        strengths="Ownership.",
        growth_areas="Delegation.",
        overall="4",
        potential="high",
        readiness="within_a_year",
        version=str(version),
        action=action,
    )
    return form


def test_manager_form_during_self_review_is_refused(
    self_review: SelfReview, org: dict[str, Person], as_user: Callable[[Person], FlaskClient]
) -> None:
    review = db.session.get(Review, self_review.review_id)
    assert review is not None
    manager_part = part(review, PartKind.MANAGER)
    assert manager_part is not None
    before = stored(manager_part.id)
    boss = as_user(org["boss"])
    url = f"/reviews/{self_review.review_id}/manager"
    message = "Manager reviews are written in the manager-review phase."
    for action in ("draft", "submit"):
        response = post(boss, url, manager_form(before[1], action))
        assert response.status_code == 409
        assert message in text(response)
        assert stored(manager_part.id) == before
    response = post(boss, f"{url}/autosave", manager_form(before[1]))
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == message
    assert stored(manager_part.id) == before


@pytest.mark.parametrize("who", ["emp", "peer1", "hr"])
def test_only_the_manager_writes_the_manager_part(
    self_review: SelfReview,
    org: dict[str, Person],
    as_user: Callable[[Person], FlaskClient],
    who: str,
) -> None:
    review = db.session.get(Review, self_review.review_id)
    assert review is not None
    manager_part = part(review, PartKind.MANAGER)
    assert manager_part is not None
    before = stored(manager_part.id)
    client = as_user(org[who])
    url = f"/reviews/{self_review.review_id}/manager"
    assert post(client, url, manager_form(1)).status_code == 403
    assert post(client, f"{url}/autosave", manager_form(1)).status_code == 403
    assert stored(manager_part.id) == before


# One person, two roles: HR staff are reviewed too -------------------------------------------


@pytest.fixture
def hr_subject(make_person: Callable[..., Person], org: dict[str, Person]) -> Person:
    """An HR person who reports to Mona and takes part in the cycle like everyone."""
    return make_person("Hal Hr", email="hal@example.com", role=Role.HR, manager=org["boss"])


def test_an_hr_person_sees_their_own_review_as_its_subject(
    org: dict[str, Person], hr_subject: Person, as_user: Callable[[Person], FlaskClient]
) -> None:
    """SPEC 4: the reviewee never learns who wrote peer feedback, and sees the
    manager assessment and peer feedback only at release; being HR changes nothing."""
    cycle = launched_cycle(org["hr"])
    review = review_of(cycle, hr_subject)
    review_id = review.id
    request_id = approved_peer(org["boss"], review, org["peer1"]).id
    peer = as_user(org["peer1"])
    feedback = {
        "strengths": "PEER-STRENGTHS-TEXT",
        "growth_areas": "More focus.",
        "suggestion": "Write things down.",
        "version": "1",
        "action": "submit",
    }
    assert post(peer, f"/requests/{request_id}", feedback).status_code == 302
    advance(org["hr"], cycle, CycleState.MANAGER_REVIEW)
    boss = as_user(org["boss"])
    form = manager_form(1, "submit")
    form["summary"] = "MANAGER-SUMMARY-TEXT"
    response = post(boss, f"/reviews/{review_id}/manager", form)
    assert response.status_code == 302, text(response)

    page = as_user(hr_subject).get(f"/reviews/{review_id}")
    assert page.status_code == 200
    body = text(page)
    assert "Pia Peer" not in body
    assert "PEER-STRENGTHS-TEXT" not in body
    assert "MANAGER-SUMMARY-TEXT" not in body
    assert "Peer feedback is shared with you when the review is released." in body


def test_an_hr_person_cannot_approve_their_own_peers(
    org: dict[str, Person], hr_subject: Person, as_user: Callable[[Person], FlaskClient]
) -> None:
    """SPEC 3: the employee proposes peers, the manager approves."""
    cycle = launched_cycle(org["hr"])
    review_id = review_of(cycle, hr_subject).id
    client = as_user(hr_subject)
    assert nominate(client, review_id, "pia@example.com").status_code == 302
    assert requests_of(review_id) == [(org["peer1"].id, RequestState.PROPOSED)]
    request_id = db.session.scalar(select(PeerRequest.id))
    response = post(
        client,
        f"/reviews/{review_id}/nominations",
        {"action": "approve", "request_id": str(request_id)},
    )
    assert response.status_code in (400, 403)
    assert requests_of(review_id) == [(org["peer1"].id, RequestState.PROPOSED)]


# Markup of refused forms ---------------------------------------------------------------------


def test_refused_cycle_form_marks_the_bad_field_and_no_attribute_says_none(
    hr_client: FlaskClient,
) -> None:
    response = post(hr_client, "/cycles/new", cycle_form(peer_min="4", peer_max="2"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field = re.search(r'<input[^>]*id="peer_min"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert "peer_min-error" in field.group(0)
    # Optional attributes are left out, not rendered as the string "None"
    # (required="None" would make an optional field required).
    assert '="None"' not in page


def test_every_problem_of_a_cycle_form_is_reported_at_once(hr_client: FlaskClient) -> None:
    """Four problems, one submit: each beside its field and all in the summary."""
    form = cycle_form(
        name="",
        peer_min="x",
        anonymity_threshold="1",
        guidance="5/5",
        period_end=(TODAY - timedelta(days=200)).isoformat(),
    )
    response = post(hr_client, "/cycles/new", form)
    assert response.status_code == 400
    expected = {
        "name": "Give the cycle a name.",
        "peer_min": "Enter a whole number",
        "anonymity_threshold": "needs a threshold of at least 3",
        "guidance": "must add up to 100",
        "period_end": "The period must end after it starts.",
    }
    for field, message in expected.items():
        assert error_beside(response, field, message), (field, text(response))
    assert "5 things need fixing" in text(response)
    assert count(Cycle) == 0


def test_the_api_names_every_problem_of_a_cycle_at_once(hr_client: FlaskClient) -> None:
    body = {
        "name": " ",
        "period_start": TODAY.isoformat(),
        "period_end": (TODAY - timedelta(days=1)).isoformat(),
        "peer_anonymous": True,
        "anonymity_threshold": 2,
        "guidance": [10, 10, 10, 10, 10],
    }
    response = hr_client.post(
        "/api/v1/cycles",
        json=body,
        headers={"X-CSRFToken": hr_client.csrf},  # type: ignore[attr-defined]
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {
        "name",
        "period_end",
        "anonymity_threshold",
        "guidance",
    }
    assert count(Cycle) == 0


def test_the_self_review_offers_only_levels_above_ones_own(self_review: SelfReview) -> None:
    """Eli is an engineer: the choice starts at senior engineer and includes management."""
    page = text(self_review.client.get(self_review.url))
    choice = page.split('id="desired_level"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([a-z-]*)"', choice)
    assert offered == [
        "",
        "senior-engineer",
        "tech-lead",
        "engineering-manager",
        "senior-engineering-manager",
        "director-of-engineering",
    ]


def test_submit_is_confirmed_only_after_the_server_accepts_the_part(
    self_review: SelfReview,
) -> None:
    """Issue 20: "Submit now? You cannot change it afterwards." came before the form was
    checked. Now Submit asks the server to check; an incomplete part is refused with
    every problem and no question; a complete one is saved as a draft and confirmed."""
    client, url = self_review.client, self_review.url
    incomplete = post(client, url, {"version": str(self_review.version), "action": "check"})
    assert incomplete.status_code == 400
    page = text(incomplete)
    assert "Not submitted yet: fix what is marked below." in page
    assert "Submit now" not in page
    assert stored(self_review.part_id)[0] == PartState.DRAFT
    version = self_review.version
    checked = post(client, url, self_form(version, "check", growth="Lead the design review."))
    assert checked.status_code == 200
    page = text(checked)
    assert 'id="confirm-submit"' in page
    assert "Submit now? You cannot change it afterwards." in page
    saved = stored(self_review.part_id)
    assert saved[0] == PartState.DRAFT  # not submitted yet...
    assert saved[1] == version + 1  # ...but saved, at the version the page now carries
    assert saved[4]["growth"] == "Lead the design review."
    assert f'name="version" value="{version + 1}"' in page
    done = post(client, url, self_form(version + 1, "submit", growth="Lead the design review."))
    assert done.status_code == 302
    assert stored(self_review.part_id)[0] == PartState.SUBMITTED
