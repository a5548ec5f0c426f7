"""Large groups on the calibration page and the HR dashboard: the figures cover
everyone, the tables show a page, and nothing is out of reach."""

from __future__ import annotations

import re

import pytest
from conftest import sign_in
from cycle_helpers import calibrate_org, launched_cycle
from sqlalchemy import func, select, update

from reviews.calibration.models import CalibrationMember
from reviews.cycles.models import Assessment, PartKind, PartState, Potential, Review
from reviews.cycles.workflow import CycleState
from reviews.demo import DEMO_PASSWORD, build_synthetic_org
from reviews.extensions import db
from reviews.people.models import Person

ROW = re.compile(r'<tr id="row-(\d+)">')


@pytest.fixture
def as_demo(client):
    """Sign in a person of the synthetic org (demo password)."""

    def signed_in(person: Person):
        assert sign_in(client, person.email, DEMO_PASSWORD).status_code == 302
        return client

    return signed_in


@pytest.fixture
def big_session(app):
    """An org of 400 under one director, every manager review submitted with ratings
    spread 1-5 and potential high for the ones rated 5, in one calibration session."""
    build_synthetic_org(400)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    director = db.session.scalar(
        select(Person).where(Person.email != "hr@example.com", Person.manager_id.is_(None))
    )
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    rating = (Assessment.review_id % 5) + 1
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.MANAGER)
        .values(
            state=PartState.SUBMITTED,
            overall_rating=rating,
            potential=Potential.HIGH,
            ratings={"technical-fluency": 3},
            answers={"summary": "In March she cut the build time by half."},
            submitted_at=func.now(),
        )
    )
    db.session.commit()
    session = calibrate_org(hr, cycle, director)
    members = db.session.scalar(
        select(func.count()).where(CalibrationMember.session_id == session.id)
    )
    return session, hr, members


def test_the_people_table_pages_through_everyone_once(big_session, as_demo):
    session, hr, members = big_session
    web = as_demo(hr)
    seen: list[str] = []
    page = 1
    while True:
        html = web.get(f"/calibration/{session.id}?sort=name&page={page}").get_data(as_text=True)
        rows = ROW.findall(html)
        assert rows
        assert len(rows) <= 100
        seen.extend(rows)
        if 'rel="next"' not in html:
            break
        assert f"page={page + 1}" in html
        page += 1
    assert page == -(-members // 100) > 1
    assert len(seen) == len(set(seen)) == members  # everyone, nobody twice
    expected = {
        str(i)
        for i in db.session.scalars(
            select(CalibrationMember.review_id).where(CalibrationMember.session_id == session.id)
        )
    }
    assert set(seen) == expected
    # A page past the last shows the last; a malformed one is refused, naming it.
    answer = web.get(f"/calibration/{session.id}?page=9999")
    assert answer.status_code == 200
    assert ROW.search(answer.get_data(as_text=True))
    for wild in ("0", "-1", "x", "9" * 30):
        answer = web.get(f"/calibration/{session.id}?page={wild}")
        assert answer.status_code == 400
        assert "parameter “page”" in answer.get_data(as_text=True)


def test_the_distribution_counts_everyone_not_just_the_page(big_session, as_demo):
    session, hr, members = big_session
    html = as_demo(hr).get(f"/calibration/{session.id}").get_data(as_text=True)
    table = html.split('id="dist-h"')[1].split("</table>")[0]
    counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td><td class="num">\d+%', table)]
    assert sum(counts) == members


def test_a_full_nine_box_cell_links_to_the_rest_in_the_table(big_session, as_demo):
    session, hr, _members = big_session
    web = as_demo(hr)
    html = web.get(f"/calibration/{session.id}").get_data(as_text=True)
    cell = html.split('class="box box-2-high"')[1].split("</td>")[0]
    in_box = int(re.search(r'<span class="box-count">(\d+)</span>', cell).group(1))
    assert in_box > 12  # ratings 4 and 5 with high potential: about 2 in 5 people
    assert cell.count("/reviews/") == 12
    assert f"and {in_box - 12} more" in cell
    link = re.search(r'href="([^"]*band=2[^"]*)"', cell).group(1).replace("&amp;", "&")
    assert "potential=high" in link
    filtered = web.get(link).get_data(as_text=True)
    assert f"of {in_box:,} people matching the filters" in filtered
    shown = [int(r) for r in ROW.findall(filtered)]
    finals = db.session.execute(
        select(Review.final_rating, Review.final_potential).where(Review.id.in_(shown))
    ).all()
    assert finals
    assert all(r >= 4 and p == Potential.HIGH for r, p in finals)


def test_the_rater_table_shows_twenty_managers_until_asked_for_all(big_session, as_demo):
    session, hr, _members = big_session
    raters = db.session.scalar(
        select(func.count(func.distinct(Review.manager_id)))
        .join(CalibrationMember, CalibrationMember.review_id == Review.id)
        .where(CalibrationMember.session_id == session.id)
    )
    assert raters > 20
    web = as_demo(hr)

    def bias_rows(url: str) -> int:
        html = web.get(url).get_data(as_text=True)
        return html.split('id="bias-h"')[1].split("</table>")[0].count('<th scope="row">')

    assert bias_rows(f"/calibration/{session.id}") == 20
    assert bias_rows(f"/calibration/{session.id}?raters=all") == raters


def test_the_dashboard_lists_the_managers_furthest_behind_and_links_to_all(app, as_demo):
    build_synthetic_org(400)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    # One manager has finished every review; everyone else has not started.
    done_manager = db.session.scalar(
        select(Review.manager_id).where(Review.manager_id.is_not(None)).limit(1)
    )
    done_name = db.session.get(Person, done_manager).name
    db.session.execute(
        update(Assessment)
        .where(
            Assessment.kind == PartKind.MANAGER,
            Assessment.review_id.in_(select(Review.id).where(Review.manager_id == done_manager)),
        )
        .values(state=PartState.SUBMITTED, overall_rating=3, submitted_at=func.now())
    )
    db.session.commit()
    managers = db.session.scalar(
        select(func.count(func.distinct(Review.manager_id))).where(Review.cycle_id == cycle.id)
    )
    assert managers > 25
    web = as_demo(hr)
    html = web.get(f"/cycles/{cycle.id}/dashboard").get_data(as_text=True)
    # one row per manager, and one for the reviews with no manager (the director's)
    groups = managers + 1
    assert f"The 25 managers furthest behind (of {groups:,}" in html
    assert done_name not in html  # the one who is done is not among those behind
    link = f"/cycles/{cycle.id}/dashboard/managers"
    assert link in html
    everyone = web.get(f"{link}?sort=behind").get_data(as_text=True)
    rows = everyone.count('<tr><th scope="row">')
    assert rows == min(100, groups)
    if groups <= 100:
        # furthest behind first: the finished manager comes last
        assert everyone.rindex('<tr><th scope="row">') < everyone.index(done_name)
    by_name = web.get(f"{link}?sort=name")
    assert by_name.status_code == 200
    # the list pages by its links: a page number past the first is refused, not ignored
    assert web.get(f"{link}?sort=name&page=9999").status_code == 400
    assert by_name.get_data(as_text=True).count('<tr><th scope="row">') == min(100, groups)


def test_only_hr_sees_the_managers_completion_page(app, make_person):
    from conftest import PASSWORD

    from reviews.people.models import Role

    def login_as(person):
        client = app.test_client()
        assert sign_in(client, person.email, PASSWORD).status_code == 302
        return client

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bea Boss", role=Role.MANAGER, level_key="engineering-manager")
    make_person("Pat Person", manager=boss)
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW)
    url = f"/cycles/{cycle.id}/dashboard/managers"
    assert login_as(boss).get(url).status_code == 403
    page = login_as(hr).get(url)
    assert page.status_code == 200
    assert "Bea Boss" in page.get_data(as_text=True)
