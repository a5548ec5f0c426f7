"""An attacker's walk: in a cycle anonymous to the person and hiding peer names from their
manager and HR, HR and the manager read every page, API answer, export and the audit
log after each peer submits, one at a time, and try to tie a peer's feedback to its
author. Nothing they can read lets them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta

from cycle_helpers import advance, approved_peer, launched_cycle, review_of
from sqlalchemy import func, select
from test_cycle_flow import login_as_fresh
from test_exports import fetch

from reviews.api.operations import create_token
from reviews.audit.models import AuditEvent
from reviews.cycles import operations as ops
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role

PEERS = ("Quinn Quillfeather", "Rory Rookwood", "Sasha Sandpiper", "Tove Thistlewood")
TEXTS = ("qzfirstpeertext", "qzsecondpeertext", "qzthirdpeertext", "qzfourthpeertext")
DAY = date.today()


def _readable(data: bytes, url: str) -> str:
    if url.endswith(".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return data.decode("utf-8", "replace")


def test_staff_cannot_tie_any_peer_entry_to_its_author_while_peers_submit(app, make_person):
    hr = make_person("Hana Hr", role=Role.HR, level_key=None)
    manager = make_person("Max Manager", role=Role.MANAGER, level_key="engineering-manager")
    subject = make_person("Sam Subject", manager=manager)
    make_person("Tia Teammate", manager=manager)
    other = make_person("Olga Other", role=Role.MANAGER, level_key="engineering-manager")
    peers = [make_person(name, manager=other) for name in PEERS]
    # Every deadline has passed, so the overdue lists are on the dashboard too.
    cycle = launched_cycle(
        hr,
        peer_anonymous=True,
        peer_names_to_managers=False,
        anonymity_threshold=3,
        self_review_due=DAY - timedelta(days=9),
        peer_feedback_due=DAY - timedelta(days=6),
        manager_review_due=DAY - timedelta(days=3),
        calibration_due=DAY - timedelta(days=1),
    )
    review = review_of(cycle, subject)
    requests = [approved_peer(manager, review, peer) for peer in peers]
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    readers = {"hr": hr, "manager": manager}
    clients = {k: login_as_fresh(app, p) for k, p in readers.items()}
    tokens = {k: create_token(None, p, "attack")[1] for k, p in readers.items()}
    db.session.commit()
    identities = [(p.name, p.email) for p in peers]
    web = {
        "hr": [
            f"/reviews/{review.id}",
            f"/reviews/{review.id}/nominations",
            f"/cycles/{cycle.id}",
            f"/cycles/{cycle.id}/dashboard",
            f"/cycles/{cycle.id}/report.csv",
            f"/cycles/{cycle.id}/report.xlsx",
            "/audit",
            "/audit.csv",
            f"/people/{subject.id}",
            f"/people/{subject.id}/data.json",
            *(f"/people/{p.id}" for p in peers),
            *(f"/people/{p.id}/data.json" for p in peers),
            "/notifications",
        ],
        "manager": [
            f"/reviews/{review.id}",
            f"/reviews/{review.id}/nominations",
            f"/cycles/{cycle.id}/team",
            f"/cycles/{cycle.id}/report.csv",
            "/notifications",
        ],
    }
    api = {
        "hr": [
            f"/reviews/{review.id}",
            f"/reviews/{review.id}/nominations",
            f"/cycles/{cycle.id}/progress",
            f"/reviews?cycle_id={cycle.id}&limit=200",
            "/audit?limit=200",
        ],
        "manager": [
            f"/reviews/{review.id}",
            f"/reviews/{review.id}/nominations",
            f"/reviews?cycle_id={cycle.id}&limit=200",
            f"/cycles/{cycle.id}/report.csv",
        ],
    }

    def everything() -> dict[str, str]:
        seen = {}
        for who, client in clients.items():
            for url in web[who]:
                status, data, _ = fetch(client, url)
                assert status == 200, (who, url, status)
                seen[f"{who} {url}"] = _readable(data, url)
            for url in api[who]:
                answer = client.get(
                    "/api/v1" + url, headers={"Authorization": f"Bearer {tokens[who]}"}
                )
                assert answer.status_code == 200, (who, url, answer.status_code)
                seen[f"{who} api{url}"] = answer.get_data(as_text=True)
                answer.close()
        return seen

    def named(text: str) -> bool:
        return any(n in text or e in text or e.split("@")[0] in text for n, e in identities)

    def ties(where: str, text: str) -> list[str]:
        """A peer's text held together with a peer's identity: in one line or row of a
        page or file, or in an API answer outside its list of who was asked (the
        nominations' record, which holds no text)."""
        if " api" in where and not where.endswith(".csv"):
            data = json.loads(text)
            if isinstance(data, dict):
                data.pop("requests", None)
            text = json.dumps(data)
            return [t for t in TEXTS if t in text] if named(text) else []
        return [line for line in text.splitlines() if any(t in line for t in TEXTS) and named(line)]

    keys = cycle.framework_snapshot and [c["key"] for c in cycle.framework_snapshot["competencies"]]
    for i, (peer, request) in enumerate(zip(peers, requests, strict=True)):
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        part = ops.peer_assessment(request)
        ops.save_part(
            peer,
            part,
            part.version,
            PartInput(
                ratings={keys[0]: 2 + i % 3},
                answers={"strengths": TEXTS[i], "growth_areas": "Pace.", "suggestion": "Pair."},
            ),
            submit=True,
        )
        db.session.commit()
        # The submission itself leaves no trace that names the peer or the person.
        new = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)))
        assert [e for e in new if e.actor_id == peer.id or e.subject_id == subject.id] == []
        # While peers submit, no output shows any peer's text, to HR or to the manager
        # (even past the threshold: entries come only as the whole batch).
        for where, text in everything().items():
            squashed = re.sub(r"\s+", "", text)
            assert not [t for t in TEXTS if t in squashed], (i, where)

    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    seen = everything()
    shown = [where for where, text in seen.items() if TEXTS[0] in text]
    assert sorted(shown) == sorted(
        [
            f"hr /reviews/{review.id}",
            f"manager /reviews/{review.id}",
            f"hr api/reviews/{review.id}",
            f"manager api/reviews/{review.id}",
        ]
    )
    for where, text in seen.items():
        assert ties(where, text) == [], where
    for who in ("hr", "manager"):
        entries = json.loads(seen[f"{who} api/reviews/{review.id}"])["peers"]["entries"]
        assert len(entries) == 4
        assert all(e["author_name"] is None and e["submitted_on"] is None for e in entries)
    # The batch is in an order that is not the order of submission, on the page and API.
    for where in shown:
        order = sorted(TEXTS, key=lambda t: seen[where].index(t))
        assert order == sorted(TEXTS, key=lambda t: seen[shown[0]].index(t)), where
