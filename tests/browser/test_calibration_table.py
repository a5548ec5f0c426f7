"""The calibration people table at 1280 px (issue 20): change badges, two-word readiness
and long level names, and still no sideways scroll; every Adjust link in view."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from cycle_helpers import calibrate_org, launched_cycle, part, review_of
from test_calibration_ux import _in_department, _keys

from browser.conftest import serving
from reviews import create_app
from reviews.calibration import operations as cal
from reviews.cycles import operations as ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.languages import force_locale, gettext, ngettext
from reviews.people.models import Role


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_people_table_fits_1280_px_with_change_badges(
    app, app_config, make_person, chromium, language
):
    """Change badges, two-word readiness and long level names: the table does not scroll
    sideways in a 1280 px window, and every row's Adjust link is in view; in German too,
    whose headings and readiness ("Innerhalb eines Jahres") are longer."""

    def say(text: str, **values: object) -> str:
        with served.test_request_context(), force_locale(language):
            return str(gettext(text, **values))

    def say_n(one: str, many: str, n: int) -> str:
        with served.test_request_context(), force_locale(language):
            return str(ngettext(one, many, n, count=n))

    hr = make_person("Hana HR", email="hr@example.com", role=Role.HR, level_key=None)
    director = make_person(
        "Marcus Lindqvist", role=Role.MANAGER, level_key="senior-engineering-manager"
    )
    leads = [
        make_person(name, role=Role.MANAGER, manager=director, level_key="engineering-manager")
        for name in ("Ingrid Solberg", "Rahul Mehta")
    ]
    people = [
        make_person(f"Person {lead.name.split()[0]} {i}", manager=lead, level_key=level)
        for lead in leads
        for i, level in enumerate(("senior-engineer", "junior-engineer", "tech-lead"))
    ]
    _in_department("Product Engineering", director, *leads, *people)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = _keys()
    for n, person in enumerate([*leads, *people]):
        manager_part = part(review_of(cycle, person), PartKind.MANAGER)
        ops.save_part(
            person.manager,
            manager_part,
            manager_part.version,
            PartInput(
                ratings=dict.fromkeys(keys, 2 + n % 3),
                overall=2 + n % 3,
                potential="medium",
                readiness="within_a_year",
                answers={"summary": "S.", "strengths": "S.", "growth_areas": "G."},
            ),
            submit=True,
        )
        db.session.commit()
    session = calibrate_org(hr, cycle, director)
    for n, person in enumerate([*leads, *people]):
        review = review_of(cycle, person)
        for _ in range(1 + 3 * n):  # up to 22 changes: "22 changes"
            db.session.refresh(review)
            value = 3 if review.final_rating != 3 else 4
            cal.change_final(
                hr, session, review, review.final_version, cal.FinalChange(value, None, {}), "R."
            )
        db.session.commit()
    email, session_id = hr.email, session.id
    db.session.remove()

    served = create_app(app_config)
    with serving(served) as base:
        context = chromium.new_context(
            viewport={"width": 1280, "height": 900},
            locale="de-DE" if language == "de" else "en-GB",
            extra_http_headers={"Accept-Language": language},
        )
        try:
            page = context.new_page()
            page.goto(f"{base}/auth/login")
            page.get_by_label(say("Email")).fill(email)
            page.get_by_label(say("Password")).fill(PASSWORD)
            page.get_by_role("button", name=say("Sign in")).click()
            page.goto(f"{base}/calibration/{session_id}#people-h")
            assert page.locator("html").get_attribute("lang") == language
            badge = say_n("%(count)s change", "%(count)s changes", 22)
            assert page.locator(".calibration-table .badge", has_text=badge).count() == 1
            region = page.get_by_role("region", name=say("People in this session"))
            scroll, client = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
            widths = page.evaluate(
                "[...document.querySelectorAll('.calibration-table thead th')]"
                ".map(t => [t.innerText, Math.round(t.getBoundingClientRect().width)])"
            )
            assert scroll <= client, f"{scroll} > {client}: {widths}"
            edge = region.bounding_box()
            for link in page.locator(".calibration-table tbody a", has_text=say("Adjust")).all():
                box = link.bounding_box()
                assert box["x"] + box["width"] <= edge["x"] + edge["width"], (box, edge)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        finally:
            context.close()
