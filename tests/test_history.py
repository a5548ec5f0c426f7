"""My reviews, and the Reviews tab of a profile: every review of a person, as each
viewer may read it (issue 20)."""

from __future__ import annotations

import re

import pytest
from cycle_helpers import (
    approved_peer,
    launched_cycle,
    release_with_manager_ratings,
    review_of,
)
from test_cycle_flow import login_as_fresh

from reviews.cycles.workflow import CycleState
from reviews.people.models import Role

PEER = "Quentin Quillfeather"


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


@pytest.fixture
def history(app, make_person):
    """Ada had a released cycle (with a growth plan) and is writing her self-review in
    a running one, where her manager asked a peer from another team."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dora Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person(
        "Milo Manager", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    other = make_person("Omar Other", role=Role.MANAGER, level_key="engineering-manager")
    ada = make_person("Ada Lovel", manager=boss)
    peer = make_person(PEER, manager=other)
    first = launched_cycle(hr, CycleState.MANAGER_REVIEW, name="2026 H1 review")
    release_with_manager_ratings(hr, first, lambda review: (4, {}))
    second = launched_cycle(hr, CycleState.SELF_REVIEW, name="2026 H2 review")
    approved_peer(boss, review_of(second, ada), peer)
    return {
        "app": app,
        "hr": hr,
        "director": director,
        "boss": boss,
        "other": other,
        "ada": ada,
        "peer": peer,
        "first": review_of(first, ada),
        "second": review_of(second, ada),
    }


def test_my_reviews_lists_every_review_with_its_documents(history):
    ada = login_as_fresh(history["app"], history["ada"])
    home = ada.get("/").get_data(as_text=True)
    assert 'href="/reviews/mine"' in home  # in the navigation of every page
    response = ada.get("/reviews/mine")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text(response)
    # Newest first: the running cycle, then the released one.
    assert words.index("2026 H2 review") < words.index("2026 H1 review")
    first, second = history["first"].id, history["second"].id
    assert f'href="/reviews/{first}/summary.pdf"' in page
    assert f'href="/reviews/{first}/plan"' in page
    assert f'href="/reviews/{first}/plan.pdf"' in page
    assert "Result 4 Exceeds expectations" in words
    # The running cycle: no result, no PDF, and the manager's part stays with the line.
    assert f'href="/reviews/{second}/summary.pdf"' not in page
    assert "Shared with you at release" in words
    assert f'href="/reviews/{second}/self"' in page  # the task, from here too
    assert PEER not in words


def test_the_line_and_hr_see_the_reviews_tab_and_others_do_not(history):
    app, ada = history["app"], history["ada"]
    url = f"/people/{ada.id}/reviews"
    for viewer in ("boss", "director", "hr"):
        client = login_as_fresh(app, history[viewer])
        profile = client.get(f"/people/{ada.id}").get_data(as_text=True)
        assert f'href="{url}"' in profile, viewer
        response = client.get(url)
        assert response.status_code == 200, viewer
        words = text(response)
        assert "2026 H1 review" in words, viewer
        assert "2026 H2 review" in words, viewer
        assert PEER not in words, viewer  # who was asked is on the review, not here
    for viewer in ("other", "peer"):
        client = login_as_fresh(app, history[viewer])
        assert f'href="{url}"' not in client.get(f"/people/{ada.id}").get_data(as_text=True)
        assert client.get(url).status_code == 403, viewer
    # Ada's own tab is her My reviews.
    own = login_as_fresh(app, ada).get(url)
    assert own.status_code == 302
    assert own.headers["Location"].endswith("/reviews/mine")
    assert login_as_fresh(app, history["hr"]).get("/people/999999/reviews").status_code == 404


def test_the_manager_reads_the_result_before_release_and_the_person_does_not(history):
    from reviews.extensions import db

    app, ada = history["app"], history["ada"]
    second = history["second"]
    second.final_rating = 2  # as if calibration had proposed it
    db.session.commit()
    boss = text(login_as_fresh(app, history["boss"]).get(f"/people/{ada.id}/reviews"))
    assert "Result 2 Below expectations (in calibration)" in boss
    mine = text(login_as_fresh(app, ada).get("/reviews/mine"))
    h2 = mine.split("2026 H2 review")[1].split("2026 H1 review")[0]
    assert "Result At release" in h2
    assert "Below expectations" not in h2


def test_someone_without_reviews_gets_a_helpful_empty_state(app, make_person):
    newcomer = make_person("Nia New")
    words = text(login_as_fresh(app, newcomer).get("/reviews/mine"))
    assert "You have no reviews yet." in words


def test_the_home_page_leads_to_my_reviews_and_each_reports_reviews(history):
    boss = login_as_fresh(history["app"], history["boss"])
    home = boss.get("/").get_data(as_text=True)
    assert 'href="/reviews/mine">All your reviews and growth plans</a>' in home
    assert f'href="/people/{history["ada"].id}/reviews">Reviews' in home
