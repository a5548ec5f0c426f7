"""List pages that grow with the org or the log are read a page at a time after a key
(keyset paging), with bounded counts: every row on exactly one page, in order, in a
number of statements that does not grow with the rows, from an index."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, insert
from sqlalchemy import text as sql

from reviews.audit import reading as audit_reading
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.people.models import Role

# Helpers ------------------------------------------------------------------------------


def statements_of(web, url: str) -> tuple[int, str]:
    seen: list[str] = []

    def keep(_conn, _cursor, statement, *args):
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "COMMIT")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        answer = web.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert answer.status_code == 200, (url, answer.status_code)
    return len(seen), answer.get_data(as_text=True)


def plan_of(statement: str, parameters, *, sorts: bool = True) -> str:
    """The plan of a statement; on PostgreSQL, of tiny tables as of large ones: no
    sequential scan (nor, with `sorts` False, sorting a few rows rather than walking an
    index in order)."""
    db.session.commit()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            if not sorts:
                conn.exec_driver_sql("SET enable_sort = off")
            return " ".join(
                str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
        return " ".join(
            str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        )


def captured(fn):
    """Run `fn`, and return the statements (with their parameters) it executed."""
    seen: list = []

    def keep(_conn, _cursor, statement, parameters, *args):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return seen


# The audit log ------------------------------------------------------------------------

EVENT_ROW = re.compile(
    r"<tr><td>[^<]*</td><td><code>(test\.[a-z]+)</code></td>.*?<td>n: (\d+)</td></tr>"
)


def _events(n: int, *, kind: str = "test.alpha", start: int = 0) -> None:
    """`n` events, three at each instant (ties broken by id), numbered in `details`."""
    base = datetime(2026, 6, 1, tzinfo=UTC)
    db.session.execute(
        insert(AuditEvent),
        [
            {
                "at": base + timedelta(seconds=(start + i) // 3),
                "event": kind,
                "details": {"n": start + i},
                "actor_id": None,
                "subject_id": None,
                "cycle_id": None,
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def _walk(web, url: str, *, backwards_from: str | None = None) -> list[int]:
    """Every event number, page by page following "Older" (or "Newer") links."""
    numbers: list[int] = []
    link = url
    pages = 0
    rel = "prev" if backwards_from else "next"
    while link:
        pages += 1
        assert pages < 50
        html = web.get(link).get_data(as_text=True)
        page = [int(n) for _kind, n in EVENT_ROW.findall(html)]
        numbers = page + numbers if backwards_from else numbers + page
        found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
        link = found.group(1).replace("&amp;", "&") if found else None
    return numbers


def test_the_audit_log_pages_newest_first_every_event_once(app, make_person, login_as, monkeypatch):
    monkeypatch.setattr("reviews.audit.views.PER_PAGE", 7)
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    web = login_as(hr)
    _events(40)
    _events(5, kind="test.beta", start=40)
    older = _walk(web, "/audit?event=test.")
    assert older == list(range(44, -1, -1))  # newest first, ties by id, each once
    # "Newer" from the last page walks back to the first
    html = web.get("/audit?event=test.").get_data(as_text=True)
    last = None
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    while link:
        last = link
        html = web.get(link).get_data(as_text=True)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        link = found.group(1).replace("&amp;", "&") if found else None
    assert last is not None
    assert _walk(web, last, backwards_from=last) == list(range(44, -1, -1))
    # every filter still applies, with the paging
    assert _walk(web, "/audit?event=test.beta") == [44, 43, 42, 41, 40]
    assert _walk(web, "/audit?event=test.alpha&from=2026-06-01&to=2026-06-01")[:3] == [39, 38, 37]
    assert "45 events" in web.get("/audit?event=test.").get_data(as_text=True)
    # an old link to the first page is that page
    assert web.get("/audit?page=1").status_code == 200


def test_the_audit_log_refuses_bad_cursors_naming_them(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    web = login_as(hr)
    _events(5)
    _events(2, kind="test.beta", start=5)
    beta = db.session.scalar(
        db.select(AuditEvent.id).where(AuditEvent.event == "test.beta").limit(1)
    )
    for query, name in [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("after=0", "after"),
        ("before=99999999999", "before"),
        ("after=999999", "after"),  # no such event
        (f"event=test.alpha&after={beta}", "after"),  # not among these matches
        (f"event=test.alpha&before={beta}", "before"),
        ("after=1&before=2", "before"),
    ]:
        answer = web.get(f"/audit?{query}")
        assert answer.status_code == 400, query
        assert f"parameter “{name}”" in answer.get_data(as_text=True), query


def test_the_audit_log_counts_up_to_a_limit(app, make_person, login_as, monkeypatch):
    monkeypatch.setattr(audit_reading, "COUNT_LIMIT", 20)
    monkeypatch.setattr("reviews.audit.views.COUNT_LIMIT", 20)
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    _events(30)
    html = login_as(hr).get("/audit").get_data(as_text=True)
    assert "More than 20 events" in html


def test_an_audit_page_reads_as_many_statements_whatever_the_log(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    web = login_as(hr)
    _events(60)
    first, html = statements_of(web, "/audit")
    after = re.search(r'after=(\d+)[^"]*" rel="next"', html).group(1)
    deeper, _ = statements_of(web, f"/audit?after={after}")
    _events(3000, start=60)
    assert statements_of(web, "/audit")[0] == first
    assert statements_of(web, f"/audit?after={after}")[0] == deeper


def test_an_audit_page_comes_from_the_at_id_index(app, make_person):
    _events(10)
    mark = db.session.scalar(db.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    stmt = db.select(AuditEvent)
    seen = captured(lambda: audit_reading.log_page(stmt, 5, after=mark))
    statement, parameters = next(s for s in seen if "ORDER BY" in s[0] and "LIMIT" in s[0])
    assert "ix_audit_event_at_id" in plan_of(statement, parameters)


def test_the_event_filter_names_the_kinds_it_matches(app, make_person, login_as):
    """The event filter matches kinds by their start, in any case, on both databases
    alike (SQLite's LIKE ignored case, PostgreSQL's did not), and asks for them by
    name: on PostgreSQL a rare kind is read from the (event, at) index, not by
    walking the whole log newest first."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    web = login_as(hr)
    _events(300)
    _events(3, kind="test.beta", start=300)
    _events(2, kind="testing.other", start=303)
    assert _walk(web, "/audit?event=test.beta") == [302, 301, 300]
    assert _walk(web, "/audit?event=TEST.B") == [302, 301, 300]
    assert len(_walk(web, "/audit?event=test.")) == 303  # not testing.other
    assert "No event matches" in web.get("/audit?event=test.zzz").get_data(as_text=True)
    with current_app.test_request_context("/audit?event=test.b"):
        stmt = db.select(AuditEvent).where(audit_reading.events_starting("test.b"))
        seen = captured(lambda: audit_reading.log_page(stmt, 5))
    statement, parameters = next(s for s in seen if "ORDER BY" in s[0] and "LIMIT" in s[0])
    assert "'test.beta'" in statement
    assert "LIKE" not in statement.upper()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sql("ANALYZE audit_event"))
        db.session.commit()
        assert "ix_audit_event_event_at" in plan_of(statement, parameters)


@pytest.mark.parametrize("kinds", [0, 3])
def test_the_event_kinds_are_read_one_probe_each(app, kinds):
    before = audit_reading.event_kinds()
    for i in range(kinds):
        _events(4, kind=f"test.k{i}")
    expected = sorted({*before, *(f"test.k{i}" for i in range(kinds))})
    assert audit_reading.event_kinds() == expected
    everyone = db.session.scalars(db.select(AuditEvent.event).distinct().order_by(AuditEvent.event))
    assert list(everyone) == expected


# The API's reviews --------------------------------------------------------------------


def _api_walk(web, query: str = "", limit: int = 3) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(200):
        url = f"/api/v1/reviews?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        answer = web.get(url)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        data = answer.get_json()
        ids += [item["id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("no end")


def _api_org(make_person):
    from cycle_helpers import launched_cycle

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    leads = [
        make_person(f"Lead {i}", role=Role.MANAGER, manager=boss, level_key="tech-lead")
        for i in range(2)
    ]
    members = [make_person(f"Member {i}", manager=leads[i % 2]) for i in range(7)]
    other = make_person("Olga Other", role=Role.MANAGER, level_key="engineering-manager")
    make_person("Oscar Outside", manager=other)
    cycles = [launched_cycle(hr), launched_cycle(hr, name="Second")]
    return hr, boss, leads, members, other, cycles


def _visible(person, cycle_id=None) -> list[int]:
    """What the API showed before: own reviews, and the org's (by the frozen manager)."""
    from reviews.cycles.models import Review
    from reviews.cycles.queries import org_manager_ids

    stmt = db.select(Review.id).where(
        db.or_(
            Review.subject_id == person.id,
            Review.manager_id.in_(org_manager_ids(person.id)) & (Review.subject_id != person.id),
        )
    )
    if cycle_id is not None:
        stmt = stmt.where(Review.cycle_id == cycle_id)
    return list(db.session.scalars(stmt.order_by(Review.id)))


@pytest.mark.parametrize("small_org", [1000, 2])
def test_the_api_pages_each_callers_reviews_once_in_id_order(
    app, make_person, monkeypatch, small_org
):
    from between_helpers import client_for

    monkeypatch.setattr("reviews.api.reviews.SMALL_ORG", small_org)
    hr, boss, leads, members, other, cycles = _api_org(make_person)
    for person in (boss, leads[0], members[0], other):
        web = client_for(app, person)
        expected = _visible(person)
        assert _api_walk(web) == expected, person.name
        assert _api_walk(web, limit=200) == expected
        assert _api_walk(web, f"&cycle_id={cycles[1].id}") == _visible(person, cycles[1].id)
    # a member sees only their own; the boss sees their org and never the other org's
    assert len(_api_walk(client_for(app, members[0]))) == 2
    boss_sees = set(_api_walk(client_for(app, boss)))
    assert not boss_sees & set(_visible(other))
    assert len(boss_sees) == 2 * (2 + 7 + 1)
    everything = _api_walk(client_for(app, hr))
    assert everything == sorted(everything)
    assert len(everything) == 2 * 13


def test_the_api_refuses_bad_cursors_as_before(app, make_person):
    from between_helpers import client_for

    _hr, boss, *_rest = _api_org(make_person)
    web = client_for(app, boss)
    for query, code in [("cursor=abc", "invalid_cursor"), ("limit=0", "invalid_limit")]:
        answer = web.get(f"/api/v1/reviews?{query}")
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == code


def test_the_api_reads_as_many_statements_whatever_the_org(app, make_person):
    from between_helpers import client_for
    from cycle_helpers import launched_cycle

    hr, boss, leads, _members, _other, _cycles = _api_org(make_person)
    web = client_for(app, boss)
    small, _ = statements_of(web, "/api/v1/reviews?limit=5")
    for i in range(40):
        make_person(f"Later {i}", manager=leads[i % 2])
    launched_cycle(hr, name="Third")
    assert statements_of(web, "/api/v1/reviews?limit=5")[0] == small


# HR's completion by manager -----------------------------------------------------------

MANAGER_ROW = re.compile(r'<tr><th scope="row">([^<]+)</th>')


def _managers_org(make_person, managers: int = 23):
    from cycle_helpers import launched_cycle

    from reviews.cycles.models import Assessment, PartKind, PartState, Review

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    bosses = []
    for i in range(managers):
        # names repeat (ties broken by id), and some sort before "No manager"
        name = f"{'Mo' if i % 4 == 0 else 'Zed'} Manager {i % 5}"
        boss = make_person(name, role=Role.MANAGER, level_key="engineering-manager")
        bosses.append(boss)
        for j in range(1 + i % 3):
            make_person(f"Report {i}-{j}", manager=boss)
    cycle = launched_cycle(hr)
    # shares that differ, and that tie
    db.session.execute(
        db.update(Assessment)
        .where(
            Assessment.kind == PartKind.SELF,
            Assessment.review_id.in_(
                db.select(Review.id).where(Review.cycle_id == cycle.id, Review.id % 3 == 0)
            ),
        )
        .values(state=PartState.SUBMITTED, submitted_at=db.func.now())
    )
    db.session.commit()
    return hr, bosses, cycle


def _with_an_empty_group(cycle, person) -> None:
    """A manager's row with no review left (its share is NULL: no task)."""
    from reviews.cycles.figures import FIGURES
    from reviews.cycles.models import cycle_manager_figures

    db.session.execute(
        cycle_manager_figures.insert().values(
            cycle_id=cycle.id, manager_key=person.id, **dict.fromkeys(FIGURES, 0)
        )
    )
    db.session.commit()


def _managers_walk(web, url: str) -> list[str]:
    labels: list[str] = []
    link = url
    for _ in range(100):
        html = web.get(link).get_data(as_text=True)
        labels += MANAGER_ROW.findall(html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            return labels
        link = found.group(1).replace("&amp;", "&")
    raise AssertionError("no end")


@pytest.mark.parametrize("order", ["name", "behind"])
def test_the_managers_page_shows_every_manager_once_in_order(
    app, make_person, login_as, monkeypatch, order
):
    from reviews.reports import queries as q

    monkeypatch.setattr("reviews.reports.views.MANAGERS_PAGE", 4)
    hr, bosses, cycle = _managers_org(make_person)
    lone = make_person("Lone Leaver", role=Role.MANAGER, level_key="engineering-manager")
    _with_an_empty_group(cycle, lone)
    everyone, count = q.manager_completion(cycle, order=order)
    assert count == len(bosses) + 2  # and "No manager", and the empty group
    web = login_as(hr)
    walked = _managers_walk(web, f"/cycles/{cycle.id}/dashboard/managers?sort={order}")
    assert walked == [r.label for r in everyone]
    if order == "name":
        assert walked == sorted(walked)
    # a manager who has left still has their row; an old link to the first page is
    # that page, a link to another is refused (test_lists_paged_by_links_refuse_...)
    lone.active = False
    db.session.commit()
    assert _managers_walk(web, f"/cycles/{cycle.id}/dashboard/managers?sort={order}") == walked
    assert web.get(f"/cycles/{cycle.id}/dashboard/managers?page=1").status_code == 200


def test_the_managers_page_refuses_bad_cursors_naming_them(app, make_person, login_as):
    hr, _bosses, cycle = _managers_org(make_person, managers=3)
    reporter = make_person("Not A Manager")
    web = login_as(hr)
    for sort in ("name", "behind"):
        for wild in ("abc", "-1", "99999999999", "999999", str(reporter.id)):
            answer = web.get(f"/cycles/{cycle.id}/dashboard/managers?sort={sort}&after={wild}")
            assert answer.status_code == 400, (sort, wild)
            assert "parameter “after”" in answer.get_data(as_text=True)
        assert (
            web.get(f"/cycles/{cycle.id}/dashboard/managers?sort={sort}&after=0").status_code == 200
        )


def test_lists_paged_by_links_refuse_page_numbers_and_unknown_parameters(
    app, make_person, login_as
):
    """A page number past the first, or a parameter the list does not take (a misspelt
    filter), is refused with a 400 naming it, not quietly ignored to show the first
    page of everything as if that were what was asked for."""
    hr, _bosses, cycle = _managers_org(make_person, managers=3)
    web = login_as(hr)
    lists = ["/audit", "/audit.csv", "/people", f"/cycles/{cycle.id}/dashboard/managers"]
    for url in lists:
        assert web.get(url).status_code == 200, url
        for query, name in [("page=3", "page"), ("deparment=1", "deparment"), ("q2=x", "q2")]:
            answer = web.get(f"{url}?{query}")
            assert answer.status_code == 400, (url, query)
            assert f"parameter “{name}”" in answer.get_data(as_text=True), (url, query)
    for url in lists[:1] + lists[2:]:
        assert web.get(f"{url}?page=1").status_code == 200, url
    answer = web.get("/people?page=2")
    assert "links to the next and previous pages" in answer.get_data(as_text=True)
    # and the error page leads to the list without the parameter
    assert 'href="/people">Open this page without its parameters' in answer.get_data(as_text=True)
    # what each list does take still works, together
    assert (
        web.get(
            "/audit?person=a@example.com&event=cycle&from=2026-01-01&to=2026-12-31&cycle=1"
        ).status_code
        == 200
    )
    assert web.get(f"/people?q=ma&department={hr.department_id or ''}").status_code == 200
    assert web.get(f"/cycles/{cycle.id}/dashboard/managers?sort=name&after=0").status_code == 200


def test_the_managers_page_counts_up_to_a_limit(app, make_person, login_as, monkeypatch):
    monkeypatch.setattr("reviews.reports.managers.COUNT_LIMIT", 5)
    monkeypatch.setattr("reviews.reports.views.MANAGERS_COUNT_LIMIT", 5)
    hr, _bosses, cycle = _managers_org(make_person, managers=8)
    html = login_as(hr).get(f"/cycles/{cycle.id}/dashboard/managers").get_data(as_text=True)
    assert "more than 5 managers" in html


@pytest.mark.parametrize("order", ["name", "behind"])
def test_a_managers_page_reads_as_many_statements_whatever_the_managers(
    app, make_person, login_as, monkeypatch, order
):
    monkeypatch.setattr("reviews.reports.views.MANAGERS_PAGE", 3)
    hr, _bosses, cycle = _managers_org(make_person, managers=5)
    web = login_as(hr)
    url = f"/cycles/{cycle.id}/dashboard/managers?sort={order}"
    first, html = statements_of(web, url)
    after = re.search(r'after=(\d+)" rel="next"', html).group(1)
    deeper, _ = statements_of(web, f"{url}&after={after}")
    _hr, _more, bigger = _managers_org(make_person, managers=40)  # and a cycle of all 45
    url = f"/cycles/{bigger.id}/dashboard/managers?sort={order}"
    assert statements_of(web, url)[0] == first
    assert statements_of(web, f"{url}&after={after}")[0] == deeper


@pytest.mark.parametrize("order", ["name", "behind"])
def test_a_managers_page_comes_from_an_index(app, make_person, order):
    from reviews.reports.managers import managers_page

    _hr, bosses, cycle = _managers_org(make_person, managers=6)
    seen = captured(lambda: managers_page(cycle, order, 3, after=bosses[2].id))
    statement, parameters = next(s for s in seen if "UNION ALL" in s[0])
    plan = plan_of(statement, parameters, sorts=False)
    if order == "behind":
        assert "ix_manager_figures_behind" in plan, plan
    elif db.engine.dialect.name == "postgresql":  # SQLite reads a tiny table by key
        assert "ix_person_name_id" in plan, plan


# HR's home ----------------------------------------------------------------------------


def test_hr_home_counts_the_org_up_to_a_limit(app, make_person, login_as, monkeypatch):
    monkeypatch.setattr("reviews.home.COUNT_LIMIT", 4)
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    web = login_as(hr)
    make_person("Nora Nopass", password=False)
    make_person("Lev Nolevel", level_key=None)
    make_person("Ida Inactive", active=False)
    make_person("Hal OtherHR", role=Role.HR, level_key=None)  # HR needs no level
    html = web.get("/").get_data(as_text=True)
    assert "1 active person has no password yet" in html
    assert "1 active person has no level" in html
    assert re.search(r"<dt>Active people</dt><dd>4</dd>", html)
    assert re.search(r"<dt>Deactivated</dt><dd>1</dd>", html)
    for i in range(5):
        make_person(f"Nopass {i}", password=False, level_key=None)
        make_person(f"Gone {i}", active=False)
    html = web.get("/").get_data(as_text=True)
    assert "More than 4 active people have no password yet" in html
    assert "More than 4 active people have no level" in html
    assert re.search(r"<dt>Active people</dt><dd>More than 4</dd>", html)
    assert re.search(r"<dt>Deactivated</dt><dd>More than 4</dd>", html)


def test_hr_homes_counts_come_from_indexes(app, make_person):
    from reviews.home import _org_counts

    make_person("Hana HR", role=Role.HR, level_key=None)
    make_person("Nora Nopass", password=False, level_key=None)
    seen = captured(_org_counts)
    statement, parameters = next(s for s in seen if "department" in s[0])
    plan = plan_of(statement, parameters)
    if db.engine.dialect.name == "postgresql":
        for index in ("ix_person_no_password", "ix_person_no_level", "ix_person_active_name"):
            assert index in plan, plan
    assert _org_counts() == {
        "people": 2,
        "departments": 0,
        "no_password": 1,
        "no_level": 1,
        "inactive": 0,
    }


def test_a_small_orgs_reviews_come_from_the_org_path_and_manager_indexes(app, make_person):
    from between_helpers import client_for

    _hr, _boss, leads, *_rest = _api_org(make_person)
    web = client_for(app, leads[0])
    seen = captured(lambda: web.get("/api/v1/reviews?limit=2"))
    statement, parameters = next(s for s in seen if "UNION ALL" in s[0])
    plan = plan_of(statement, parameters)
    if db.engine.dialect.name == "postgresql":
        assert "ix_person_org_path" in plan, plan
        assert "ix_review_manager_cycle" in plan, plan
        assert "ix_review_subject_id" in plan, plan
