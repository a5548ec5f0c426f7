"""The manager's team page reads a large org a page at a time, direct reports first."""

from __future__ import annotations

import re

from cycle_helpers import launched_cycle

from reviews.cycles.queries import ORG_PAGE
from reviews.people.models import Role


def test_a_large_org_is_paged_with_the_direct_reports_first(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    leads = [
        make_person(f"Lead {i}", role=Role.MANAGER, manager=boss, level_key="tech-lead")
        for i in range(3)
    ]
    for i in range(ORG_PAGE):  # the org: 3 leads and 100 people below them
        make_person(f"Member {i:03d}", manager=leads[i % 3])
    cycle = launched_cycle(hr)
    web = login_as(boss)
    first = web.get(f"/cycles/{cycle.id}/team").get_data(as_text=True)
    names = re.findall(r">(Lead \d|Member \d{3})</a>", first)
    assert set(names[:3]) == {"Lead 0", "Lead 1", "Lead 2"}  # direct reports lead the list
    assert len(names) == ORG_PAGE
    assert "Page 1 of 2" in first
    assert "103 people" in first
    second = web.get(f"/cycles/{cycle.id}/team?page=2").get_data(as_text=True)
    rest = re.findall(r">(Lead \d|Member \d{3})</a>", second)
    assert len(rest) == 3
    assert not set(rest) & set(names)  # each person on exactly one page
    assert "Page 2 of 2" in second
    assert web.get(f"/cycles/{cycle.id}/team?page=999").status_code == 200  # the last page
    for wild in ("0", "abc", "-1"):  # not a page number: refused, naming the parameter
        answer = web.get(f"/cycles/{cycle.id}/team?page={wild}")
        assert answer.status_code == 400
        assert "parameter “page”" in answer.get_data(as_text=True)
