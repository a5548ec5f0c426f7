"""Pure rules of review cycles (SPEC 3 and 4), without a database.

The state machine (`workflow`), the field-by-field checks of every part
(`parts.parse_part`) and who sees which peer feedback (`visibility`).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from reviews.cycles.parts import MAX_COMMENT, MAX_TEXT, PartInput, parse_part
from reviews.cycles.visibility import (
    CyclePolicy,
    PeerFeedback,
    Viewer,
    VisibleFeedback,
    peer_feedback_view,
    peer_figures_shown,
)
from reviews.cycles.workflow import (
    LABELS,
    MANAGER_OPEN,
    NOMINATION_OPEN,
    ORDER,
    PEER_OPEN,
    SELF_OPEN,
    TRANSITIONS,
    CycleFacts,
    CycleState,
    TransitionRefused,
    check_transition,
    next_transition,
    reached,
)
from reviews.review_templates.builtin import DEFAULTS

FRAMEWORK = json.loads(
    (Path(__file__).parents[1] / "reviews" / "framework" / "default_framework.json").read_text()
)
KEYS = [c["key"] for c in FRAMEWORK["competencies"]]
LEVELS = [lv["key"] for lv in FRAMEWORK["levels"]]
S = CycleState


def test_the_framework_under_test_has_eleven_competencies() -> None:
    assert len(KEYS) == 11
    assert "technical-fluency" in KEYS
    assert "culture-building" in KEYS
    assert "engineer" in LEVELS


# Workflow -------------------------------------------------------------------------

READY = CycleFacts(participants=3, has_deadlines=True, framework_ready=True)


def test_states_run_in_the_specified_order() -> None:
    assert [s.value for s in ORDER] == [
        "draft",
        "self_review",
        "peer_feedback",
        "manager_review",
        "calibration",
        "released",
        "closed",
    ]


def test_every_legal_transition_in_order() -> None:
    state = S.DRAFT
    walked = [state]
    while (transition := next_transition(state)) is not None:
        checked = check_transition(state, transition.target, READY)
        assert checked is transition
        assert checked.source == state
        assert checked.action
        state = checked.target
        walked.append(state)
    assert walked == ORDER
    assert next_transition(S.CLOSED) is None
    assert [(t.source, t.target) for t in TRANSITIONS] == list(itertools.pairwise(ORDER))


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.DRAFT, S.PEER_FEEDBACK),
        (S.DRAFT, S.CLOSED),
        (S.DRAFT, S.DRAFT),
        (S.SELF_REVIEW, S.DRAFT),
        (S.SELF_REVIEW, S.SELF_REVIEW),
        (S.SELF_REVIEW, S.MANAGER_REVIEW),
        (S.PEER_FEEDBACK, S.SELF_REVIEW),
        (S.MANAGER_REVIEW, S.RELEASED),
        (S.CALIBRATION, S.CLOSED),
        (S.RELEASED, S.CALIBRATION),
        *((S.CLOSED, target) for target in ORDER),
    ],
)
def test_illegal_jumps_are_refused_with_a_reason(source: CycleState, target: CycleState) -> None:
    with pytest.raises(TransitionRefused) as refused:
        check_transition(source, target, READY)
    assert str(refused.value) == (
        f"a cycle in {LABELS[source].lower()} cannot move to {LABELS[target].lower()}"
    )


def test_illegal_jump_names_both_states() -> None:
    with pytest.raises(TransitionRefused, match="a cycle in draft cannot move to peer feedback"):
        check_transition(S.DRAFT, S.PEER_FEEDBACK, READY)
    with pytest.raises(TransitionRefused, match="a cycle in self-review cannot move to draft"):
        check_transition(S.SELF_REVIEW, S.DRAFT, READY)
    with pytest.raises(TransitionRefused, match="a cycle in closed cannot move to released"):
        check_transition(S.CLOSED, S.RELEASED, READY)


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (replace(READY, participants=0), "the cycle has no participants"),
        (replace(READY, has_deadlines=False), "set a deadline for every phase before launching"),
        (replace(READY, framework_ready=False), "the competency framework is empty"),
    ],
)
def test_launch_refused_when_not_ready(facts: CycleFacts, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message):
        check_transition(S.DRAFT, S.SELF_REVIEW, facts)


def test_launch_allowed_when_ready() -> None:
    assert check_transition(S.DRAFT, S.SELF_REVIEW, READY).action == "Launch"


def test_launch_guard_applies_only_to_launch() -> None:
    nothing = CycleFacts(participants=0, has_deadlines=False, framework_ready=False)
    for source, target in itertools.pairwise(ORDER[1:]):
        assert check_transition(source, target, nothing).target == target


@pytest.mark.parametrize(
    ("sessions", "message"),
    [
        (1, "1 calibration session is still open; finish them first"),
        (2, "2 calibration sessions are still open; finish them first"),
    ],
)
def test_release_refused_while_calibration_sessions_are_open(sessions: int, message: str) -> None:
    facts = replace(READY, open_calibration_sessions=sessions)
    with pytest.raises(TransitionRefused, match=message):
        check_transition(S.CALIBRATION, S.RELEASED, facts)
    # Only the release waits for calibration sessions.
    assert check_transition(S.MANAGER_REVIEW, S.CALIBRATION, facts).target == S.CALIBRATION
    assert check_transition(S.RELEASED, S.CLOSED, facts).target == S.CLOSED


def test_release_allowed_when_sessions_are_finished() -> None:
    assert check_transition(S.CALIBRATION, S.RELEASED, READY).target == S.RELEASED


@pytest.mark.parametrize("state", ORDER)
@pytest.mark.parametrize("phase", ORDER)
def test_reached(state: CycleState, phase: CycleState) -> None:
    assert reached(state, phase) is (ORDER.index(state) >= ORDER.index(phase))


def test_reached_examples() -> None:
    assert reached(S.RELEASED, S.RELEASED)
    assert reached(S.CLOSED, S.RELEASED)
    assert not reached(S.CALIBRATION, S.RELEASED)
    assert not reached(S.DRAFT, S.SELF_REVIEW)


def test_which_parts_are_open_in_which_phase() -> None:
    assert {S.SELF_REVIEW} == SELF_OPEN
    assert {S.SELF_REVIEW} == NOMINATION_OPEN
    assert {S.SELF_REVIEW, S.PEER_FEEDBACK} == PEER_OPEN
    assert {S.MANAGER_REVIEW} == MANAGER_OPEN


# Parts --------------------------------------------------------------------------


def ratings(value: str = "3", keys: list[str] = KEYS) -> dict[str, str]:
    return {f"rating_{k}": value for k in keys}


def full_form(kind: str) -> dict[str, str]:
    form = ratings("3")
    form.update({f"comment_{k}": f"About {k}" for k in KEYS[:2]})
    if kind == "self":
        form.update(accomplishments="Shipped it", growth="Lead more", desired_level="tech-lead")
    elif kind == "peer":
        form.update(strengths="Calm", growth_areas="Delegation", suggestion="Pair more")
    else:
        form.update(
            summary="Solid",
            strengths="Calm",
            growth_areas="Delegation",
            overall="4",
            potential="high",
            readiness="within_a_year",
        )
    return form


def parse(kind: str, form: dict[str, str], *, submit: bool) -> tuple[PartInput, dict[str, str]]:
    return parse_part(DEFAULTS[kind], form, KEYS, LEVELS, submit=submit)


@pytest.mark.parametrize("kind", ["self", "peer", "manager"])
@pytest.mark.parametrize("submit", [False, True])
def test_complete_input_is_accepted(kind: str, submit: bool) -> None:
    clean, errors = parse(kind, full_form(kind), submit=submit)
    assert errors == {}
    assert clean.ratings == dict.fromkeys(KEYS, 3)
    assert clean.comments == {k: f"About {k}" for k in KEYS[:2]}


def test_complete_self_and_manager_values() -> None:
    clean, _ = parse("self", full_form("self"), submit=True)
    assert clean.answers == {"accomplishments": "Shipped it", "growth": "Lead more"}
    assert clean.desired_level == "tech-lead"
    assert clean.overall is None
    assert clean.potential is None
    clean, _ = parse("manager", full_form("manager"), submit=True)
    assert clean.answers == {"summary": "Solid", "strengths": "Calm", "growth_areas": "Delegation"}
    assert (clean.overall, clean.potential, clean.readiness) == (4, "high", "within_a_year")
    assert clean.desired_level is None


@pytest.mark.parametrize("kind", ["self", "peer", "manager"])
def test_drafts_accept_partial_input(kind: str) -> None:
    assert parse(kind, {}, submit=False) == (PartInput(), {})
    form = {"rating_technical-fluency": "4", "comment_culture-building": "  Kind  "}
    clean, errors = parse(kind, form, submit=False)
    assert errors == {}
    assert clean.ratings == {"technical-fluency": 4}
    assert clean.comments == {"culture-building": "Kind"}


def test_draft_answers_are_stripped_and_empty_ones_left_out() -> None:
    clean, errors = parse(
        "self", {"accomplishments": "  Did things \n", "growth": "   "}, submit=False
    )
    assert errors == {}
    assert clean.answers == {"accomplishments": "Did things"}


@pytest.mark.parametrize("kind", ["self", "manager"])
def test_submit_requires_every_rating(kind: str) -> None:
    form = full_form(kind)
    del form["rating_culture-building"]
    form["rating_technical-fluency"] = ""
    _, errors = parse(kind, form, submit=True)
    assert errors == {
        "rating_culture-building": "Rate this competency before submitting.",
        "rating_technical-fluency": "Rate this competency before submitting.",
    }
    # The same input is a fine draft.
    assert parse(kind, form, submit=False)[1] == {}


@pytest.mark.parametrize("kind", ["self", "manager"])
def test_skip_is_not_a_rating_for_self_or_manager(kind: str) -> None:
    form = {**full_form(kind), "rating_technical-fluency": "skip"}
    _, errors = parse(kind, form, submit=True)
    assert errors == {"rating_technical-fluency": "Rate this competency before submitting."}


def test_submit_requires_every_answer() -> None:
    _, errors = parse("self", ratings(), submit=True)
    assert errors == {
        "accomplishments": "Accomplishments this period is needed before submitting.",
        "growth": "What you want to grow next is needed before submitting.",
    }
    _, errors = parse("peer", {}, submit=True)
    assert set(errors) == {"strengths", "growth_areas", "suggestion"}


def test_peer_may_skip_ratings_when_submitting() -> None:
    form = {**full_form("peer"), **ratings("skip")}
    form["rating_technical-fluency"] = "5"
    del form["rating_culture-building"]
    clean, errors = parse("peer", form, submit=True)
    assert errors == {}
    assert clean.ratings == {"technical-fluency": 5}


def test_peer_can_submit_without_any_rating() -> None:
    form = {"strengths": "Calm", "growth_areas": "Delegation", "suggestion": "Pair more"}
    clean, errors = parse("peer", form, submit=True)
    assert errors == {}
    assert clean.ratings == {}


@pytest.mark.parametrize("kind", ["self", "peer", "manager"])
@pytest.mark.parametrize("submit", [False, True])
@pytest.mark.parametrize("value", ["0", "6", "3.5", "x", "10", "-1", "+3", "1e0", "1/2"])
def test_out_of_range_ratings_are_refused_on_that_field(
    kind: str, submit: bool, value: str
) -> None:
    form = {**full_form(kind), "rating_communication-and-listening": value}
    clean, errors = parse(kind, form, submit=submit)
    assert errors == {"rating_communication-and-listening": "Choose a rating from 1 to 5."}
    assert "communication-and-listening" not in clean.ratings


@pytest.mark.parametrize("value", ["1", "2", "3", "4", "5", " 4 "])
def test_every_rating_on_the_scale_is_accepted(value: str) -> None:
    clean, errors = parse("self", {"rating_technical-fluency": value}, submit=False)
    assert errors == {}
    assert clean.ratings == {"technical-fluency": int(value)}


@pytest.mark.parametrize("kind", ["self", "peer", "manager"])
@pytest.mark.parametrize("name", ["rating_bogus", "comment_bogus"])
def test_unknown_competency_is_an_error_on_that_field_naming_it(kind: str, name: str) -> None:
    clean, errors = parse(kind, {**full_form(kind), name: "3"}, submit=False)
    assert set(errors) == {name}
    assert "bogus" in errors[name]
    assert "not a competency of this cycle" in errors[name]
    assert "bogus" not in clean.ratings
    assert "bogus" not in clean.comments


def test_competency_keys_come_from_the_cycle_not_a_fixed_list() -> None:
    form = {"rating_technical-fluency": "4"}
    _, errors = parse_part(DEFAULTS["self"], form, ["culture-building"], LEVELS, submit=False)
    assert "technical-fluency" in errors["rating_technical-fluency"]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("self", "accomplishments"),
        ("self", "growth"),
        ("peer", "strengths"),
        ("peer", "growth_areas"),
        ("peer", "suggestion"),
        ("manager", "summary"),
        ("manager", "strengths"),
        ("manager", "growth_areas"),
    ],
)
@pytest.mark.parametrize("submit", [False, True])
def test_too_long_text_is_refused(kind: str, name: str, submit: bool) -> None:
    form = full_form(kind)
    form[name] = "x" * MAX_TEXT
    assert parse(kind, form, submit=submit)[1] == {}
    form[name] = "x" * (MAX_TEXT + 1)
    clean, errors = parse(kind, form, submit=submit)
    assert MAX_TEXT == 5000
    assert errors == {name: "Keep this under 5000 characters."}
    assert name not in clean.answers


@pytest.mark.parametrize("kind", ["self", "peer", "manager"])
def test_too_long_comment_is_refused(kind: str) -> None:
    form = full_form(kind)
    form["comment_strategic-thinking"] = "c" * MAX_COMMENT
    assert parse(kind, form, submit=False)[1] == {}
    form["comment_strategic-thinking"] = "c" * (MAX_COMMENT + 1)
    clean, errors = parse(kind, form, submit=False)
    assert MAX_COMMENT == 2000
    assert errors == {"comment_strategic-thinking": "Keep comments under 2000 characters."}
    assert "strategic-thinking" not in clean.comments


@pytest.mark.parametrize("value", ["0", "6", "x", "3.5", "10"])
def test_manager_overall_must_be_on_the_scale(value: str) -> None:
    for submit in (False, True):
        _, errors = parse("manager", {**full_form("manager"), "overall": value}, submit=submit)
        assert errors == {"overall": "Choose an overall rating from 1 to 5."}


def test_manager_potential_and_readiness_must_be_known_choices() -> None:
    form = {**full_form("manager"), "potential": "huge", "readiness": "tomorrow"}
    _, errors = parse("manager", form, submit=False)
    assert errors == {
        "potential": "Choose one of: Low, Medium, High.",
        "readiness": "Choose one of: Not yet, Within a year, Ready now.",
    }


@pytest.mark.parametrize("potential", ["low", "medium", "high"])
@pytest.mark.parametrize("readiness", ["not_yet", "within_a_year", "ready_now"])
def test_manager_choices_accepted(potential: str, readiness: str) -> None:
    form = {**full_form("manager"), "potential": potential, "readiness": readiness}
    clean, errors = parse("manager", form, submit=True)
    assert errors == {}
    assert (clean.potential, clean.readiness) == (potential, readiness)


def test_manager_submit_requires_overall_potential_and_readiness() -> None:
    form = full_form("manager")
    for name in ("overall", "potential", "readiness"):
        del form[name]
    clean, errors = parse("manager", form, submit=False)
    assert errors == {}
    assert (clean.overall, clean.potential, clean.readiness) == (None, None, None)
    _, errors = parse("manager", form, submit=True)
    assert errors == {
        "overall": "Give an overall rating before submitting.",
        "potential": "Choose the potential before submitting.",
        "readiness": "Choose the promotion readiness before submitting.",
    }


@pytest.mark.parametrize("value", ["ceo", "Engineer", "tech lead", "engineer-2"])
@pytest.mark.parametrize("submit", [False, True])
def test_desired_level_must_be_a_known_level(value: str, submit: bool) -> None:
    _, errors = parse("self", {**full_form("self"), "desired_level": value}, submit=submit)
    assert errors == {"desired_level": "Choose a level above your own from the ladder."}


def test_desired_level_is_optional() -> None:
    clean, errors = parse("self", {**full_form("self"), "desired_level": ""}, submit=True)
    assert errors == {}
    assert clean.desired_level is None
    for key in LEVELS:
        assert parse("self", {"desired_level": key}, submit=False)[0].desired_level == key


def test_fields_of_other_parts_are_ignored() -> None:
    form = {"overall": "9", "potential": "huge", "desired_level": "ceo", "summary": "x"}
    clean, errors = parse("peer", form, submit=False)
    assert errors == {}
    assert clean == PartInput()


# Visibility ------------------------------------------------------------------------

SALT = b"s" * 32
DAY = date(2026, 6, 1)


def feedback(n: int, *, ratings: list[dict[str, int]] | None = None) -> list[PeerFeedback]:
    """n submitted feedbacks; ids, names and dates all ascending together."""
    return [
        PeerFeedback(
            id=100 + i,
            author_name=f"Author {chr(65 + i)}",
            ratings=(ratings[i] if ratings else {"technical-fluency": 3}),
            comments={"technical-fluency": f"comment {i}"},
            answers={"strengths": f"marker {i}"},
            submitted_on=DAY + timedelta(days=i),
        )
        for i in range(n)
    ]


def policy(**kw: bool | int) -> CyclePolicy:
    values: dict[str, bool | int] = {
        "anonymous": True,
        "threshold": 3,
        "names_to_managers": True,
        "released": True,
    }
    values.update(kw)
    return CyclePolicy(**values)  # type: ignore[arg-type]


def markers(entries: list[VisibleFeedback]) -> list[str]:
    return [e.answers["strengths"] for e in entries]


@pytest.mark.parametrize("anonymous", [True, False])
def test_subject_sees_nothing_before_release(anonymous: bool) -> None:
    view = peer_feedback_view(
        Viewer.SUBJECT, policy(anonymous=anonymous, released=False), feedback(5), SALT
    )
    assert view.entries == []
    assert view.averages == {}
    assert view.withheld == "Peer feedback is shared with you when the review is released."


def test_anonymous_below_threshold_shows_nothing_to_the_subject() -> None:
    view = peer_feedback_view(Viewer.SUBJECT, policy(threshold=3), feedback(2), SALT)
    assert view.entries == []
    assert view.averages == {}
    assert view.submitted == 2
    assert view.withheld is not None
    assert view.withheld.startswith("Too few peers")
    assert "at least 3" in view.withheld


def test_no_feedback_at_all_is_below_threshold() -> None:
    view = peer_feedback_view(Viewer.SUBJECT, policy(threshold=1), [], SALT)
    assert view.entries == []
    assert view.withheld is not None
    assert "Too few peers" in view.withheld


def test_anonymous_at_threshold_shows_entries_without_name_or_date() -> None:
    items = feedback(3)
    view = peer_feedback_view(Viewer.SUBJECT, policy(threshold=3), items, SALT)
    assert view.withheld is None
    assert view.submitted == 3
    assert len(view.entries) == 3
    for entry in view.entries:
        assert entry.author_name is None
        assert entry.submitted_on is None
    assert sorted(markers(view.entries)) == ["marker 0", "marker 1", "marker 2"]
    by_marker = {e.answers["strengths"]: e for e in view.entries}
    for i, item in enumerate(items):
        assert by_marker[f"marker {i}"].ratings == item.ratings
        assert by_marker[f"marker {i}"].comments == item.comments


def test_nothing_identifying_is_in_an_anonymous_entry() -> None:
    view = peer_feedback_view(Viewer.SUBJECT, policy(), feedback(3), SALT)
    text = repr(view)
    for i in range(3):
        assert f"Author {chr(65 + i)}" not in text
        assert str(100 + i) not in text
        assert (DAY + timedelta(days=i)).isoformat() not in text
        assert repr(DAY + timedelta(days=i)) not in text


def test_anonymous_order_is_stable_and_independent_of_input_order() -> None:
    items = feedback(6)
    first = peer_feedback_view(Viewer.SUBJECT, policy(), items, SALT).entries
    again = peer_feedback_view(Viewer.SUBJECT, policy(), list(items), SALT).entries
    assert first == again
    rng = random.Random(7)
    for _ in range(10):
        shuffled = items[:]
        rng.shuffle(shuffled)
        assert peer_feedback_view(Viewer.SUBJECT, policy(), shuffled, SALT).entries == first


def test_anonymous_order_is_independent_of_author_and_date() -> None:
    items = feedback(6)
    first = markers(peer_feedback_view(Viewer.SUBJECT, policy(), items, SALT).entries)
    names = [f.author_name for f in items][::-1]
    days = [f.submitted_on for f in items][::-1]
    swapped = [
        replace(f, author_name=n, submitted_on=d)
        for f, n, d in zip(items, names, days, strict=True)
    ]
    again = markers(peer_feedback_view(Viewer.SUBJECT, policy(), swapped, SALT).entries)
    assert again == first


def test_anonymous_order_does_not_follow_id_time_or_author_order() -> None:
    """Over salts (one per review) the order is scrambled, not submission order."""
    items = feedback(5)
    chronological = [f"marker {i}" for i in range(5)]
    orders = {
        tuple(markers(peer_feedback_view(Viewer.SUBJECT, policy(), items, bytes([s]) * 32).entries))
        for s in range(40)
    }
    assert len(orders) > 5
    # Position of the earliest submission varies from review to review.
    assert len({order.index("marker 0") for order in orders}) > 1
    assert len({order.index("marker 4") for order in orders}) > 1
    assert any(list(order) != chronological for order in orders)
    assert any(list(order) != chronological[::-1] for order in orders)


def test_named_cycle_shows_names_and_dates_to_the_subject() -> None:
    items = feedback(3)
    view = peer_feedback_view(Viewer.SUBJECT, policy(anonymous=False), items, SALT)
    assert view.withheld is None
    assert sorted(e.author_name or "" for e in view.entries) == [
        "Author A",
        "Author B",
        "Author C",
    ]
    assert {e.author_name: e.submitted_on for e in view.entries} == {
        f.author_name: f.submitted_on for f in items
    }


def test_named_cycle_has_no_anonymity_threshold() -> None:
    view = peer_feedback_view(
        Viewer.SUBJECT, policy(anonymous=False, threshold=3), feedback(1), SALT
    )
    assert view.withheld is None
    assert [e.author_name for e in view.entries] == ["Author A"]


@pytest.mark.parametrize("viewer", [Viewer.MANAGER, Viewer.HR])
@pytest.mark.parametrize("released", [False, True])
def test_managers_and_hr_see_names_when_the_cycle_says_so(viewer: Viewer, released: bool) -> None:
    items = feedback(2)  # below the threshold: that rule protects the subject only
    view = peer_feedback_view(
        viewer, policy(names_to_managers=True, released=released), items, SALT
    )
    assert view.withheld is None
    assert [e.author_name for e in view.entries] == ["Author A", "Author B"]
    assert [e.submitted_on for e in view.entries] == [DAY, DAY + timedelta(days=1)]


@pytest.mark.parametrize("viewer", [Viewer.MANAGER, Viewer.HR])
def test_managers_and_hr_see_no_names_when_the_cycle_says_not(viewer: Viewer) -> None:
    items = feedback(4)
    view = peer_feedback_view(viewer, policy(names_to_managers=False), items, SALT)
    assert view.withheld is None
    assert len(view.entries) == 4
    assert all(e.author_name is None and e.submitted_on is None for e in view.entries)
    subject_view = peer_feedback_view(Viewer.SUBJECT, policy(), items, SALT)
    assert markers(view.entries) == markers(subject_view.entries)
    rng = random.Random(3)
    shuffled = items[:]
    rng.shuffle(shuffled)
    assert peer_feedback_view(viewer, policy(names_to_managers=False), shuffled, SALT) == view


@pytest.mark.parametrize("viewer", [Viewer.MANAGER, Viewer.HR])
def test_named_cycle_shows_names_to_managers_regardless_of_setting(viewer: Viewer) -> None:
    view = peer_feedback_view(
        viewer, policy(anonymous=False, names_to_managers=False), feedback(2), SALT
    )
    assert [e.author_name for e in view.entries] == ["Author A", "Author B"]


RATINGS = [
    {"technical-fluency": 4, "culture-building": 2},
    {"technical-fluency": 2},
    {"technical-fluency": 3, "culture-building": 5},
]


@pytest.mark.parametrize(
    "viewer_policy",
    [(Viewer.SUBJECT, policy(anonymous=False)), (Viewer.MANAGER, policy())],
)
def test_viewers_who_see_names_get_every_average_with_its_count(
    viewer_policy: tuple[Viewer, CyclePolicy],
) -> None:
    viewer, pol = viewer_policy
    view = peer_feedback_view(viewer, pol, feedback(3, ratings=RATINGS), SALT)
    assert view.averages == {"technical-fluency": (3.0, 3), "culture-building": (3.5, 2)}
    assert "communication-and-listening" not in view.averages  # nobody rated it


@pytest.mark.parametrize(
    "viewer_policy",
    [(Viewer.SUBJECT, policy()), (Viewer.HR, policy(names_to_managers=False, released=False))],
)
def test_anonymous_averages_need_the_threshold_of_ratings_counts_included(
    viewer_policy: tuple[Viewer, CyclePolicy],
) -> None:
    """Two peers rated culture building, the threshold is three: no figure at all."""
    viewer, pol = viewer_policy
    view = peer_feedback_view(viewer, pol, feedback(3, ratings=RATINGS), SALT)
    assert view.averages == {"technical-fluency": (3.0, 3)}


@pytest.mark.parametrize("viewer", [Viewer.MANAGER, Viewer.HR])
def test_names_hidden_staff_see_entries_only_as_a_batch_after_the_peer_phase(
    viewer: Viewer,
) -> None:
    hidden = policy(names_to_managers=False, released=False, collected=False)
    for n in range(6):  # peers submitting one at a time, past the threshold too
        view = peer_feedback_view(viewer, hidden, feedback(n), SALT)
        assert view.entries == []
        assert view.averages == {}
        assert view.withheld is not None
        assert "all at once" in view.withheld
    collected = replace(hidden, collected=True)
    assert peer_feedback_view(viewer, collected, feedback(2), SALT).entries == []
    assert "Too few" in (peer_feedback_view(viewer, collected, feedback(2), SALT).withheld or "")
    batch = peer_feedback_view(viewer, collected, feedback(3), SALT)
    assert len(batch.entries) == 3
    assert all(e.author_name is None and e.submitted_on is None for e in batch.entries)


def test_peer_figures_follow_names_and_the_threshold() -> None:
    hidden = policy(names_to_managers=False)
    assert peer_figures_shown(Viewer.MANAGER, policy(), 1)
    assert not peer_figures_shown(Viewer.MANAGER, hidden, 2)
    assert peer_figures_shown(Viewer.HR, hidden, 3)
    assert not peer_figures_shown(Viewer.SUBJECT, policy(), 2)
    assert peer_figures_shown(Viewer.SUBJECT, policy(anonymous=False), 1)


def test_submitted_count_is_reported_for_every_viewer() -> None:
    for viewer in Viewer:
        for pol in (policy(), policy(released=False), policy(anonymous=False)):
            assert peer_feedback_view(viewer, pol, feedback(4), SALT).submitted == 4
