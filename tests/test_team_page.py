"""The manager's team page reads a large org a page at a time, direct reports first, from
the org paths: in statements and rows that do not grow with the org below the viewer."""

from __future__ import annotations

import re

from cycle_helpers import launched_cycle
from sqlalchemy import event, select, text, update

from reviews.cycles import org as org_module
from reviews.cycles.org import ORG_PAGE
from reviews.extensions import db
from reviews.people import paths
from reviews.people.models import Person, Role

NAMES = r">(Lead \d|Member \d{3})</a>"


def _org(make_person, members: int = ORG_PAGE):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    leads = [
        make_person(f"Lead {i}", role=Role.MANAGER, manager=boss, level_key="tech-lead")
        for i in range(3)
    ]
    for i in range(members):
        make_person(f"Member {i:03d}", manager=leads[i % 3])
    return hr, boss, leads


def test_a_large_org_is_paged_with_the_direct_reports_first(app, make_person, login_as):
    hr, boss, _leads = _org(make_person)  # 3 leads and 100 people below them
    cycle = launched_cycle(hr)
    web = login_as(boss)
    first = web.get(f"/cycles/{cycle.id}/team").get_data(as_text=True)
    names = re.findall(NAMES, first)
    assert set(names[:3]) == {"Lead 0", "Lead 1", "Lead 2"}  # direct reports lead the list
    assert len(names) == ORG_PAGE
    assert "103 people" in first
    after = re.search(r'team\?after=(\d+)" rel="next"', first)
    assert after, "a link to the next page"
    second = web.get(f"/cycles/{cycle.id}/team?after={after.group(1)}").get_data(as_text=True)
    rest = re.findall(NAMES, second)
    assert len(rest) == 3
    assert not set(rest) & set(names)  # each person on exactly one page
    assert 'rel="next"' not in second
    assert "Back to the start" in second
    # not a review of this org, or not a number: refused, naming the parameter
    for wild in ("0", "abc", "-1", "999999"):
        answer = web.get(f"/cycles/{cycle.id}/team?after={wild}")
        assert answer.status_code == 400
        assert "parameter “after”" in answer.get_data(as_text=True)


def test_an_org_larger_than_the_count_limit_says_more_than(app, make_person, login_as, monkeypatch):
    monkeypatch.setattr(org_module, "COUNT_LIMIT", 50)
    monkeypatch.setattr("reviews.cycles.views.cycles.COUNT_LIMIT", 50)
    hr, boss, _leads = _org(make_person, members=60)
    cycle = launched_cycle(hr)
    page = login_as(boss).get(f"/cycles/{cycle.id}/team").get_data(as_text=True)
    assert "more than 50 people" in page
    assert len(re.findall(NAMES, page)) == 63


def _statements(web, url):
    seen = []

    def keep(_conn, _cursor, statement, *args):
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "COMMIT")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert web.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return len(seen)


def test_the_team_page_statements_do_not_grow_with_the_org(app, make_person, login_as):
    hr, boss, leads = _org(make_person, members=10)
    cycle = launched_cycle(hr)
    web = login_as(boss)
    small = _statements(web, f"/cycles/{cycle.id}/team")
    for i in range(150):
        make_person(f"Member {100 + i:03d}", manager=leads[i % 3])
    bigger = launched_cycle(hr, name="Bigger")
    assert _statements(web, f"/cycles/{bigger.id}/team") == small


def recomputed() -> dict[int, str]:
    """Every path, recomputed from the manager links (rolled back)."""
    with db.engine.connect() as conn:
        paths.fill(conn)
        found = dict(conn.execute(text("SELECT id, org_path FROM person")).all())
        conn.rollback()
    return found


def stored() -> dict[int, str]:
    db.session.commit()
    with db.engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, org_path FROM person")).all())


def test_paths_follow_moves_of_whole_subtrees(app, make_person):
    _hr, boss, leads = _org(make_person, members=9)
    now = stored()
    assert now == recomputed()
    member = db.session.scalar(select(Person).where(Person.name == "Member 000"))
    assert now[member.id] == f"/{boss.id}/{leads[0].id}/{member.id}/"
    # a lead and their team move under another lead: everyone below them moves
    leads[0].manager_id = leads[1].id
    db.session.commit()
    assert stored()[member.id] == f"/{boss.id}/{leads[1].id}/{leads[0].id}/{member.id}/"
    assert stored() == recomputed()
    # several moves in one statement, whatever order its rows are written in: the
    # boss goes under a new top, the lead back under the boss
    top = make_person("Tia Top", role=Role.MANAGER, level_key="engineering-manager")
    db.session.execute(
        update(Person),
        [
            {"id": leads[0].id, "manager_id": boss.id},
            {"id": boss.id, "manager_id": top.id},
        ],
    )
    assert stored()[member.id] == f"/{top.id}/{boss.id}/{leads[0].id}/{member.id}/"
    assert stored() == recomputed()
    # someone leaves the tree's top: their org keeps its shape
    db.session.execute(update(Person).where(Person.id == boss.id).values(manager_id=None))
    assert stored()[member.id] == f"/{boss.id}/{leads[0].id}/{member.id}/"
    assert stored() == recomputed()
