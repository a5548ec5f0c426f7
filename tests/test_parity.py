"""One read model, every surface: for each role and relation, in each phase and under each
anonymity setting, the review page, the review-summary PDF and the API expose the same
facts, and those facts are the ones the rules allow.

Every text of the review carries a marker; a surface's facts are the markers, peer
authors' names, the manager's proposal ("Far exceeds expectations", which calibration
replaces by 4) and a potential it shows.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from cycle_helpers import advance, approved_peer, launched_cycle, part, review_of
from test_cycle_flow import login_as_fresh
from test_exports import fetch, pdf_text

from reviews.api.operations import create_token
from reviews.calibration import operations as cal_ops
from reviews.calibration.inputs import FinalChange
from reviews.calibration.models import GroupKind
from reviews.cycles import operations as ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Role

VARIANTS = {
    "named": {"peer_anonymous": False},
    "anonymous": {"peer_anonymous": True, "peer_names_to_managers": True},
    "names_hidden": {"peer_anonymous": True, "peer_names_to_managers": False},
}
PEERS = ("Peera Alpha", "Peerb Beta", "Peerc Gamma")
PROPOSAL = "Far exceeds expectations"  # the manager's overall 5; calibration makes it 4
VIEWERS = ("subject", "manager", "skip", "hr")


def _markers(prefix: str, keys: list[str], answers: tuple[str, ...]) -> PartInput:
    return PartInput(
        ratings=dict.fromkeys(keys, 3),
        comments={keys[0]: f"qz{prefix}comment"},
        answers={name: f"qz{prefix}{name.replace('_', '')}" for name in answers},
    )


def _facts(text: str, markers: set[str]) -> set[str]:
    squashed = re.sub(r"\s+", "", html.unescape(text))
    found = {m for m in markers if m in squashed}
    found |= {f"author:{name}" for name in PEERS if name.replace(" ", "") in squashed}
    if PROPOSAL.replace(" ", "") in squashed:
        found.add("proposal")
    if re.search(r"potential:?high", squashed, re.IGNORECASE):
        found.add("potential")
    return found


def _api_facts(data: dict[str, Any], markers: set[str]) -> set[str]:
    # Who was asked (`requests`) is the nominations' fact, shown on the page one link away.
    content = {k: v for k, v in data.items() if k != "requests"}
    found = _facts(json.dumps(content, ensure_ascii=False), markers) - {"proposal", "potential"}
    manager = data.get("manager") or {}
    if manager.get("overall") == 5:
        found.add("proposal")
    if manager.get("potential") == "high" or (data.get("result") or {}).get("final_potential"):
        found.add("potential")
    return found


class World:
    def __init__(self, app, make_person, variant: str) -> None:
        self.app = app
        hr = make_person("Hana Hr", role=Role.HR, level_key=None)
        skip = make_person("Dora Director", role=Role.MANAGER, level_key="engineering-manager")
        manager = make_person("Max Manager", role=Role.MANAGER, manager=skip)
        subject = make_person("Sam Subject", manager=manager)
        other = make_person("Olga Other", role=Role.MANAGER, manager=skip)
        peers = [make_person(name, manager=other) for name in PEERS]
        self.hr, self.skip, self.manager, self.subject, self.peers = (
            hr,
            skip,
            manager,
            subject,
            peers,
        )
        self.keys = list(db.session.scalars(db.select(Competency.key).order_by(Competency.key)))
        self.cycle = launched_cycle(hr, anonymity_threshold=3, **VARIANTS[variant])
        self.review = review_of(self.cycle, subject)
        self.markers: set[str] = set()
        self.readers = {
            "subject": subject,
            "manager": manager,
            "skip": skip,
            "hr": hr,
        }
        self.clients = {k: login_as_fresh(app, p) for k, p in self.readers.items()}
        self.tokens = {}
        for k, p in self.readers.items():
            _row, secret = create_token(None, p, "parity")
            self.tokens[k] = secret
        db.session.commit()

    def write(self, kind: PartKind, author, prefix: str, *, submit: bool, request=None, **kw):
        answers = {
            PartKind.SELF: ("accomplishments", "growth"),
            PartKind.PEER: ("strengths", "growth_areas", "suggestion"),
            PartKind.MANAGER: ("summary", "strengths", "growth_areas"),
        }[kind]
        data = _markers(prefix, self.keys, answers)
        for name, value in kw.items():
            setattr(data, name, value)
        self.markers |= {f"qz{prefix}comment"} | set(data.answers.values())
        target = ops.peer_assessment(request) if request else part(self.review, kind)
        ops.save_part(author, target, target.version, data, submit=submit)
        db.session.commit()

    def surfaces(self, viewer: str, *, pdf: bool) -> dict[str, set[str]]:
        client = self.clients[viewer]
        status, page, _ = fetch(client, f"/reviews/{self.review.id}")
        assert status == 200, (viewer, status)
        api = client.get(
            f"/api/v1/reviews/{self.review.id}",
            headers={"Authorization": f"Bearer {self.tokens[viewer]}"},
        )
        assert api.status_code == 200
        found = {
            "page": _facts(page.decode(), self.markers),
            "api": _api_facts(api.get_json(), self.markers),
        }
        if pdf:
            status, data, _ = fetch(client, f"/reviews/{self.review.id}/summary.pdf")
            assert status == 200
            found["pdf"] = _facts(pdf_text(data), self.markers)
        return found


def _expected(world: World, variant: str, phase: str, viewer: str) -> set[str]:
    """What the rules (SPEC 4) allow this reader to know in this phase."""
    m = world.markers
    mine = {"subject": "self", "manager": "mgr"}.get(viewer)
    facts = {x for x in m if x.startswith(("qzself", "qzmgr")) and "draft" not in x}
    if viewer == "subject":
        facts = {x for x in facts if x.startswith("qzself") or phase == "released"}
    if phase in ("self", "peer", "manager"):  # the manager's part is a draft or unwritten
        facts = {x for x in facts if not x.startswith("qzmgr")}
    facts |= {x for x in m if mine and x.startswith(f"qz{mine}draft")}
    peers = {x for x in m if x.startswith("qzpeer") and "draft" not in x}
    submitted = {"self": 0, "peer": 1}.get(phase, 3)
    names = variant == "named" or (variant == "anonymous" and viewer != "subject")
    if viewer == "subject":
        show = phase == "released" and (variant == "named" or submitted >= 3)
    elif variant == "names_hidden":
        show = phase in ("manager", "calibration", "released") and submitted >= 3
    else:
        show = True
    if show:
        facts |= peers
        if names:
            facts |= {f"author:{name}" for name in PEERS[:submitted]}
    if viewer != "subject" and phase in ("calibration", "released"):
        facts |= {"proposal", "potential"}
    if viewer == "manager" and phase == "manager":
        facts.add("proposal")  # their own draft's overall rating
    return facts


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_page_pdf_and_api_show_each_reader_the_same_allowed_facts(app, make_person, variant):
    world = World(app, make_person, variant)
    subject, manager = world.subject, world.manager

    def check(phase: str) -> None:
        for viewer in VIEWERS:
            found = world.surfaces(viewer, pdf=phase == "released")
            expected = _expected(world, variant, phase, viewer)
            for surface, facts in found.items():
                assert facts == expected, (phase, viewer, surface, facts ^ expected)

    world.write(PartKind.SELF, subject, "selfdraft", submit=False)
    check("self")
    world.write(PartKind.SELF, subject, "self", submit=True)
    world.markers -= {x for x in world.markers if x.startswith("qzselfdraft")}
    requests = [approved_peer(manager, world.review, p) for p in world.peers]
    advance(world.hr, world.cycle, CycleState.PEER_FEEDBACK)
    world.write(PartKind.PEER, world.peers[0], "peera", submit=True, request=requests[0])
    world.write(PartKind.PEER, world.peers[1], "peerdraftb", submit=False, request=requests[1])
    check("peer")
    world.write(PartKind.PEER, world.peers[1], "peerb", submit=True, request=requests[1])
    world.write(PartKind.PEER, world.peers[2], "peerc", submit=True, request=requests[2])
    world.markers -= {x for x in world.markers if x.startswith("qzpeerdraft")}
    advance(world.hr, world.cycle, CycleState.MANAGER_REVIEW)
    world.write(PartKind.MANAGER, manager, "mgrdraft", submit=False, overall=5)
    check("manager")
    world.write(
        PartKind.MANAGER,
        manager,
        "mgr",
        submit=True,
        overall=5,
        potential="high",
        readiness="ready_now",
    )
    world.markers -= {x for x in world.markers if x.startswith("qzmgrdraft")}
    advance(world.hr, world.cycle, CycleState.CALIBRATION)
    session = cal_ops.open_session(
        world.hr, world.cycle, GroupKind.MANAGER_ORG, department=None, manager=world.skip,
        managers_calibrate=False,
    )  # fmt: skip
    db.session.refresh(world.review)
    cal_ops.change_final(
        world.hr, session, world.review, world.review.final_version,
        FinalChange(4, None, {}), "Strong, not yet beyond the level.",
    )  # fmt: skip
    db.session.commit()
    check("calibration")
    cal_ops.finish_session(world.hr, session)
    db.session.commit()
    advance(world.hr, world.cycle, CycleState.RELEASED)
    check("released")
