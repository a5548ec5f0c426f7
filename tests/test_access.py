"""Authorization matrix: every URL rule x every relation to the data it serves.

A route missing from EXPECTED fails the suite, so no new page ships without a
decision about who may use it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from conftest import sign_in
from cycle_helpers import advance, approved_peer, launched_cycle, part, review_of
from sqlalchemy import func, select

from reviews.api.operations import create_token
from reviews.audit.models import AuditEvent
from reviews.calibration import operations as calibration_ops
from reviews.calibration.models import GroupKind
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.goals import operations as goals_ops
from reviews.jobs import operations as jobs_ops
from reviews.people.models import Role

RELATIONS = [
    "anonymous",
    "subject",
    "peer",
    "other_employee",
    "direct_manager",
    "skip_level",
    "other_manager",
    "hr",
]
EVERYONE = set(RELATIONS) - {"anonymous"}
VIEWERS = {"subject", "direct_manager", "skip_level", "hr"}
HR = {"hr"}

# endpoint -> who may use it (GET, or POST for POST-only routes)
EXPECTED: dict[str, set[str]] = {
    "static": set(RELATIONS),
    "healthz": set(RELATIONS),
    "readyz": set(RELATIONS),
    "notifications.delivery": HR,
    "notifications.settings": EVERYONE,
    "notifications.save": EVERYONE,
    "auth.login": set(RELATIONS),
    "auth.set_password_with_link": set(RELATIONS),
    "auth.logout": EVERYONE,
    "auth.change_password": EVERYONE,
    "auth.language": EVERYONE,
    # Single sign-on: open to anyone (no provider named "testop" here: 404 for all).
    "oidc.start": set(RELATIONS),
    "oidc.callback": set(RELATIONS),
    "oidc.signed_out": set(RELATIONS),
    "saml.metadata": set(RELATIONS),
    "saml.login": set(RELATIONS),
    "saml.acs": set(RELATIONS),
    "saml.signed_out": set(RELATIONS),
    "saml.logout": set(RELATIONS),
    "saml.sls": set(RELATIONS),
    # SCIM answers the provisioning token only: no session reaches it (see SCIM below).
    "scim.users": set(),
    "scim.user": set(),
    "scim.search": set(),
    "scim.provider_config": set(),
    "scim.resource_type_list": set(),
    "scim.resource_type": set(),
    "scim.schema_list": set(),
    "scim.schema": set(),
    "scim.unknown": set(),
    "home.index": EVERYONE,
    "people.directory": EVERYONE,
    "people.profile": EVERYONE,
    "people.search_suggestions": EVERYONE,
    "people.org_chart": EVERYONE,
    "people.department_list": EVERYONE,
    "framework.overview": EVERYONE,
    "framework.level": EVERYONE,
    "framework.competency": EVERYONE,
    "framework.opportunities": EVERYONE,
    "cycles.inbox": EVERYONE,
    "cycles.team": EVERYONE,
    # the managers of people in the cycle (approving their direct reports' nominations)
    "cycles.approve_team_nominations": {"direct_manager", "skip_level", "other_manager"},
    "notifications.outbox": EVERYONE,
    "people.create": HR,
    "people.edit": HR,
    "people.password_link": HR,
    "people.deactivate": HR,
    "people.reactivate": HR,
    "people.import_org": HR,
    "people.import_apply": HR,
    "framework.edit_level": HR,
    "framework.edit_competency": HR,
    "framework.new_opportunity": HR,
    "framework.edit_opportunity": HR,
    "framework.retire_opportunity": HR,
    "framework.restore_opportunity": HR,
    "framework.translations": HR,
    "cycles.cycle_list": HR,
    "cycles.cycle_new": HR,
    "cycles.cycle_edit": HR,
    "cycles.cycle_detail": HR,
    "cycles.cycle_advance": HR,
    "cycles.cycle_delete": HR,
    "cycles.reopen": HR,
    "audit.audit_log": HR,
    "cycles.review": VIEWERS,
    "cycles.my_reviews": EVERYONE,
    "cycles.person_reviews": VIEWERS,  # the subject is sent to their own My reviews
    "cycles.nominations": VIEWERS,
    "cycles.self_part": {"subject"},
    "cycles.self_autosave": {"subject"},
    "cycles.manager_part": {"direct_manager"},
    "cycles.manager_autosave": {"direct_manager"},
    "cycles.peer_request": {"peer"},
    "cycles.peer_autosave": {"peer"},
    "cycles.peer_decline": {"peer"},
    "calibration.sessions": HR,
    "calibration.open_session": HR,
    "calibration.finalise": HR,
    "calibration.finish": HR,
    "calibration.session_page": {"direct_manager", "hr"},
    "calibration.person": {"direct_manager", "hr"},
    "calibration.acknowledge": {"subject"},
    "growth.plan_page": VIEWERS,
    "growth.plan_pdf": VIEWERS,
    "cycles.summary_pdf": VIEWERS,
    "coach.analyse_text": EVERYONE,
    "api.openapi": set(RELATIONS),
    "api.me": EVERYONE,
    "api.people": EVERYONE,
    "api.person": EVERYONE,
    "api.framework": EVERYONE,
    "api.org_import": HR,
    "api.cycles": EVERYONE,
    "api.cycle_create": HR,
    "api.cycle_read": HR,
    "api.cycle_update": HR,
    "api.cycle_delete": HR,
    "api.cycle_advance": HR,
    "api.cycle_progress": HR,
    "api.reviews": EVERYONE,
    "api.review": VIEWERS,
    "api.self_read": {"subject"},
    "api.self_save": {"subject"},
    "api.self_submit": {"subject"},
    "api.manager_read": {"direct_manager"},
    "api.manager_save": {"direct_manager"},
    "api.manager_submit": {"direct_manager"},
    "api.inbox": EVERYONE,
    "api.peer_read": {"peer"},
    "api.peer_save": {"peer"},
    "api.peer_submit": {"peer"},
    "api.peer_decline": {"peer"},
    "api.nominations": VIEWERS,
    "api.nominate": {"subject", "direct_manager", "hr"},
    "api.nomination_approve": {"direct_manager", "hr"},
    "api.nomination_remove": {"direct_manager", "hr"},
    "api.nomination_withdraw": {"subject"},
    "api.calibration_sessions": {"direct_manager", "hr"},
    "api.calibration_open": HR,
    "api.calibration_finalise": HR,
    "api.calibration_session": {"direct_manager", "hr"},
    "api.calibration_change": {"direct_manager", "hr"},
    "api.calibration_finish": HR,
    "api.acknowledge": {"subject"},
    "api.plan": VIEWERS,
    "api.plan_agree": {"subject", "direct_manager"},
    "api.plan_pdf": VIEWERS,
    "api.report_csv": {"direct_manager", "skip_level", "other_manager", "hr"},
    "api.report_xlsx": {"direct_manager", "skip_level", "other_manager", "hr"},
    "api.audit": HR,
    "api.feedback_timeline": {"subject", "direct_manager", "skip_level"},
    "api.feedback_give": EVERYONE - {"subject"},
    "api.goals": {"subject", "direct_manager", "skip_level"},
    "api.upward": {"direct_manager", "skip_level", "hr"},
    "tokens.tokens": EVERYONE,
    "tokens.revoke": {"subject"},
    "tokens.reference": EVERYONE,
    "reports.dashboard": HR,
    "reports.feedback_quality": HR,
    "reports.manager_completion": HR,
    "reports.remind": HR,
    "reports.report_csv": {"direct_manager", "skip_level", "other_manager", "hr"},
    "reports.report_xlsx": {"direct_manager", "skip_level", "other_manager", "hr"},
    "reports.ledger_csv": HR,
    "reports.summary_pdf": HR,
    "audit.audit_csv": HR,
    "people.personal_data_json": HR,
    "people.personal_data_pdf": HR,
    "people.anonymise": HR,
    "jobs.start_plans_zip": {"direct_manager", "skip_level", "other_manager", "hr"},
    "jobs.job_page": HR,
    "jobs.download": HR,
    "jobs.retry": HR,
    "feedback.give": EVERYONE,
    "feedback.mine": EVERYONE,
    "feedback.timeline": {"subject", "direct_manager", "skip_level"},
    "goals.mine": EVERYONE,
    "goals.new": EVERYONE,
    "goals.person_goals": {"subject", "direct_manager", "skip_level"},
    "goals.goal_page": {"subject", "direct_manager", "skip_level"},
    "goals.edit_goal": {"subject", "direct_manager"},
    "goals.add_checkin": {"subject"},
    "goals.add_comment": {"direct_manager", "skip_level"},
    # Everyone with a manager in the cycle rates that manager (the director and HR have none).
    "upward.give": {"subject", "peer", "other_employee", "direct_manager", "other_manager"},
    "upward.summary": {"direct_manager", "skip_level", "hr"},
    "upward.summary_csv": HR,
    "templates.template_list": HR,
    "templates.new_template": HR,
    "templates.copy_template": HR,
    "templates.edit_template": HR,
    "templates.preview_template": HR,
    "templates.preview_default": HR,
    "templates.export_template": HR,
    "templates.import_template": HR,
    "templates.archive_template": HR,
    "templates.restore_template": HR,
    "templates.delete_template": HR,
    "api.cycle_templates": HR,
}
# POSTs whose allowed callers would change state the matrix does not want changed.
SKIP_ALLOWED_POST = {
    "calibration.finish",
    "calibration.finalise",
    "calibration.open_session",
    "auth.logout",
    "cycles.cycle_advance",
    "cycles.cycle_delete",
    "people.deactivate",
    "people.reactivate",
    "cycles.peer_decline",
    "cycles.reopen",
    "framework.retire_opportunity",
    "framework.restore_opportunity",
    "people.password_link",
    "api.cycle_advance",
    "api.cycle_delete",
    "api.calibration_open",
    "api.calibration_finalise",
    "api.calibration_finish",
    "api.peer_decline",
    "templates.delete_template",
}


def _keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key)))


@pytest.fixture
def world(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dee Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person(
        "Bo Boss", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    other_manager = make_person(
        "Omar Other", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    subject = make_person("Sam Subject", manager=boss)
    peer = make_person("Pia Peer", manager=other_manager)
    other = make_person("Otto Other", manager=other_manager)
    earlier = launched_cycle(hr, CycleState.MANAGER_REVIEW, name="Earlier cycle")
    earlier_review = review_of(earlier, subject)
    manager_part = part(earlier_review, PartKind.MANAGER)
    with app.test_request_context():
        cycle_ops.save_part(
            boss,
            manager_part,
            manager_part.version,
            PartInput(
                ratings=dict.fromkeys(_keys(), 3),
                overall=3,
                potential="medium",
                readiness="not_yet",
                answers={"summary": "s", "strengths": "s", "growth_areas": "g"},
            ),
            submit=True,
        )
        db.session.commit()
    advance(hr, earlier, CycleState.CALIBRATION)
    with app.test_request_context():
        session = calibration_ops.open_session(
            hr,
            earlier,
            GroupKind.MANAGER_ORG,
            department=None,
            manager=boss,
            managers_calibrate=True,
        )
        # Release the earlier cycle: its reviews get growth plans.
        calibration_ops.finish_session(hr, session)
        db.session.commit()
    advance(hr, earlier, CycleState.RELEASED)
    with app.test_request_context():
        job = jobs_ops.start_plans_zip(hr, earlier, None)
        db.session.commit()
    with app.test_request_context():
        token, _secret = create_token(subject, subject, "matrix")
        db.session.commit()
    cycle = launched_cycle(hr, upward_feedback=True)
    review = review_of(cycle, subject)
    with app.test_request_context():
        goal = goals_ops.create_goal(
            subject,
            subject,
            goals_ops.GoalFields(
                title="Ship the migration runway",
                outcome="Three services moved",
                period_start=date.today(),
                period_end=date.today() + timedelta(days=90),
                due_date=date.today() + timedelta(days=90),
            ),
            known_competencies=set(),
        )
        db.session.commit()
    request = approved_peer(boss, review, peer)
    self_part = part(review, PartKind.SELF)
    with app.test_request_context():
        from reviews.review_templates.builtin import DEFAULTS
        from reviews.review_templates.operations import create_template

        template = create_template(hr, DEFAULTS["peer"].as_json())
        db.session.commit()
    people = {
        "subject": subject,
        "peer": peer,
        "other_employee": other,
        "direct_manager": boss,
        "skip_level": director,
        "other_manager": other_manager,
        "hr": hr,
    }
    values = {
        "person_id": subject.id,
        "opportunity_id": 1,
        "key": "engineer",
        "token": "x" * 43,
        "filename": "app.css",
        "cycle_id": cycle.id,
        "review_id": review.id,
        "request_id": request.id,
        "part_id": self_part.id,
        "session_id": session.id,
        "job_id": job.id,
        "token_id": token.id,
        "goal_id": goal.id,
        "name": "testop",
        "scim_id": subject.id,
        "rest": "x",
        "template_id": template.id,
        "part": "self",
    }
    # Routes about the calibrated and released review use the earlier cycle's review.
    earlier_ids = {"review_id": earlier_review.id, "cycle_id": earlier.id}
    overrides = {
        "calibration.person": earlier_ids,
        "growth.plan_page": earlier_ids,
        "growth.plan_pdf": earlier_ids,
        "cycles.summary_pdf": earlier_ids,
        "api.calibration_change": earlier_ids,
        "api.calibration_sessions": earlier_ids,
        "api.acknowledge": earlier_ids,
        "api.plan": earlier_ids,
        "api.plan_agree": earlier_ids,
        "api.plan_pdf": earlier_ids,
        "api.report_csv": earlier_ids,
        "api.report_xlsx": earlier_ids,
        # Upward feedback about the subject's manager.
        "upward.summary": {"person_id": boss.id},
        "api.upward": {"person_id": boss.id},
    }
    return people, values, overrides


def _url(rule, values, overrides=None) -> str:
    values = {**values, **(overrides or {}).get(rule.endpoint, {})}
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(values[arg]), url)
    if "/framework/competencies/" in url:
        url = url.replace("competencies/engineer", "competencies/technical-fluency")
    return url


def test_every_route_has_an_access_decision(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints - EXPECTED.keys() == set(), "routes without an entry in the matrix"
    assert EXPECTED.keys() - endpoints == set(), "matrix entries for routes that are gone"
    missing = [e for e in endpoints if getattr(app.view_functions[e], "access_rule", None) is None]
    assert missing == []


@pytest.mark.parametrize("relation", RELATIONS)
def test_authorization_matrix(app, world, relation):
    people, values, overrides = world
    client = app.test_client()
    if relation != "anonymous":
        assert sign_in(client, people[relation].email).status_code == 302
        client.csrf = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)
        ).group(1)

    def audit_count() -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0

    checked = 0
    for rule in app.url_map.iter_rules():
        allowed = relation in EXPECTED[rule.endpoint]
        url = _url(rule, values, overrides)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:
            if method != "GET" and allowed and rule.endpoint in SKIP_ALLOWED_POST:
                continue
            before = audit_count()
            if method != "GET" and relation != "anonymous":
                response = client.open(url, method=method, data={"csrf_token": client.csrf})
            else:
                response = client.open(url, method=method)
            code = response.status_code
            if not allowed:
                assert audit_count() == before, ("a refused call wrote", method, url)
            response.close()
            checked += 1
            if url.startswith("/scim/"):
                # A session cookie, even HR's, is no provisioning token.
                assert code == 401, (relation, method, url, code)
                assert response.content_type == "application/scim+json"
            elif allowed:
                assert code not in (401, 403), (relation, method, url, code)
                if rule.endpoint == "auth.set_password_with_link":
                    assert code in (400, 404)  # made-up token (POST: no CSRF token)
                else:
                    assert code < 500, (relation, method, url, code)
            elif relation == "anonymous" and url.startswith("/api/"):
                assert code == 401, (method, url, code)  # JSON, no redirect, for the API
            elif relation == "anonymous":
                assert code == 302 or (method == "POST" and code == 400), (method, url, code)
                if code == 302:
                    assert "/auth/login" in response.headers["Location"]
            else:
                assert code == 403, (relation, method, url, code)
    assert checked > 50


@pytest.mark.parametrize("relation", RELATIONS)
def test_api_matrix_with_bearer_tokens(app, world, relation):
    """The same decisions for scripts: every /api/ route called with the person's token."""
    people, values, overrides = world
    client = app.test_client()
    headers = {}
    if relation != "anonymous":
        with app.test_request_context():
            person = db.session.merge(people[relation])
            _row, secret = create_token(person, person, "matrix")
            db.session.commit()
        headers = {"Authorization": f"Bearer {secret}"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        allowed = relation in EXPECTED[rule.endpoint]
        url = _url(rule, values, overrides)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method != "GET" and allowed and rule.endpoint in SKIP_ALLOWED_POST:
                continue
            before = db.session.scalar(select(func.count()).select_from(AuditEvent))
            response = client.open(url, method=method, headers=headers, json={})
            response.close()
            code = response.status_code
            assert response.content_type.startswith(
                ("application/json", "application/pdf", "text/csv", "application/vnd")
            ), (method, url, response.content_type)
            checked += 1
            if allowed:
                assert code not in (401, 403), (relation, method, url, code)
                assert code < 500, (relation, method, url, code)
            else:
                expected = 401 if relation == "anonymous" else 403
                assert code == expected, (relation, method, url, code)
                assert response.get_json()["error"]["code"]
                after = db.session.scalar(select(func.count()).select_from(AuditEvent))
                assert after == before, ("a refused call wrote", method, url)
    assert checked >= 38  # every API route and method, less the skipped state changes
