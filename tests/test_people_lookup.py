"""Choosing a colleague by name or email (issue 20): the one rule behind every people
picker (`people.lookup`), the picker's suggestions, and the forms that use them."""

from __future__ import annotations

import re

from conftest import post
from cycle_helpers import launched_cycle, review_of
from sqlalchemy import select
from test_cycle_flow import login_as_fresh

from reviews.cycles.models import PeerRequest
from reviews.extensions import db
from reviews.feedback.models import FeedbackNote
from reviews.people.lookup import find_person
from reviews.people.models import Role


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_a_name_or_an_email_finds_one_person(app, make_person):
    mei = make_person("Mei Chen", email="mei.chen@example.com")
    assert find_person("Mei Chen") == (mei, None)
    assert find_person("  mei   CHEN ") == (mei, None)
    assert find_person("MEI.CHEN@example.com") == (mei, None)
    assert find_person("Mei") == (
        None,
        "Nobody is called or has the email Mei. Type a name or an email.",
    )
    assert find_person("ghost@example.com") == (None, "Nobody has the email ghost@example.com.")


def test_a_shared_name_is_refused_with_the_emails_to_choose_from(app, make_person):
    make_person("Sam Lee", email="sam.lee@example.com")
    make_person("Sam Lee", email="sam.lee2@example.com")
    person, problem = find_person("sam lee")
    assert person is None
    assert problem == (
        "More than one person is called sam lee: type the email "
        "(sam.lee2@example.com, sam.lee@example.com)."
    )
    gone = make_person("Ola Gone", active=False)
    assert find_person("Ola Gone")[0] is None  # a name finds only active colleagues
    assert find_person(gone.email)[0] == gone  # an email is exact, as before


def test_suggestions_match_names_and_emails_for_anyone_signed_in(app, make_person, client):
    me = make_person("Ada Lovel")
    make_person("Mei Chen", email="mei.chen@example.com")
    make_person("Amelia Meier", email="amelia@example.com")
    make_person("Tom Omei", email="tom@example.com")
    make_person("Mei Gone", active=False)
    assert client.get("/people/search?q=mei").status_code == 302  # signed in only
    signed = login_as_fresh(app, me)
    found = signed.get("/people/search?q=mei").get_json()
    names = [p["name"] for p in found]
    assert names[0] == "Mei Chen"  # a name that starts with it first
    assert set(names) == {"Mei Chen", "Amelia Meier", "Tom Omei"}
    assert found[0] == {
        "id": found[0]["id"],
        "name": "Mei Chen",
        "email": "mei.chen@example.com",
        "department": None,
    }
    assert signed.get("/people/search?q=").get_json() == []
    assert signed.get("/people/search?q=%25").get_json() == []  # "%" is no wildcard
    assert [p["name"] for p in signed.get("/people/search?q=amelia@").get_json()] == [
        "Amelia Meier"
    ]
    assert len(signed.get("/people/search?q=e").get_json()) <= 8


def test_nominating_and_giving_feedback_take_a_name(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Milo Manager", role=Role.MANAGER, level_key="engineering-manager")
    ada = make_person("Ada Lovel", manager=boss)
    make_person("Mei Chen", email="mei.chen@example.com")
    cycle = launched_cycle(hr, peer_min=1, peer_max=3)
    review = review_of(cycle, ada)
    client = login_as_fresh(app, ada)
    url = f"/reviews/{review.id}/nominations"
    refused = post(client, url, {"action": "add", "email": "Mei"})
    assert refused.status_code == 400
    assert "Nobody is called or has the email Mei." in words(refused)
    assert post(client, url, {"action": "add", "email": "mei chen"}).status_code == 302
    asked = db.session.scalars(select(PeerRequest).where(PeerRequest.review_id == review.id))
    assert [r.reviewer.name for r in asked] == ["Mei Chen"]
    given = post(
        client,
        "/feedback/give",
        {
            "email": "Mei Chen",
            "kind": "praise",
            "visibility": "recipient",
            "body": "Great demo at the all-hands on Monday.",
        },
    )
    assert given.status_code == 302, words(given)
    note = db.session.scalar(select(FeedbackNote))
    assert note.recipient.name == "Mei Chen"


def test_a_cycles_list_of_people_takes_names_and_emails(app, make_person):
    from test_cycle_bad_input import cycle_form

    from reviews.cycles.models import Cycle

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    mei = make_person("Mei Chen", email="mei.chen@example.com")
    ola = make_person("Ola Berg", email="ola@example.com")
    tom = make_person("Tom Kay", email="tom@example.com")
    make_person("Sam Lee", email="sam.lee@example.com")
    make_person("Sam Lee", email="sam.lee2@example.com")
    client = login_as_fresh(app, hr)
    listed = "Mei Chen\nola@example.com tom@example.com\n"
    refused = post(
        client,
        "/cycles/new",
        cycle_form(participant_mode="list", participant_emails=listed + "Sam Lee\nNo Body"),
    )
    assert refused.status_code == 400
    assert (
        "More than one person is called Sam Lee (type the email); nobody is called No Body."
        in words(refused)
    )
    assert db.session.scalar(select(Cycle)) is None
    created = post(
        client, "/cycles/new", cycle_form(participant_mode="list", participant_emails=listed)
    )
    assert created.status_code == 302, words(created)
    cycle = db.session.scalar(select(Cycle))
    assert {p.id for p in cycle.participants} == {mei.id, ola.id, tom.id}


def test_a_name_or_an_email_is_found_from_an_index(app, make_person):
    """Each name or email typed is one index probe, not a read of everyone: emails are
    kept in lower case and compared as they are; names through an index of lower(name)."""
    from conftest import count_queries

    make_person("Ada Lovelace", email="ada@example.com")
    with count_queries() as statements:
        assert find_person("ADA@Example.com")[0].name == "Ada Lovelace"
        assert find_person("ada LOVELACE")[0].email == "ada@example.com"
    by_email, by_name = statements
    assert "lower(person.email)" not in by_email
    db.session.commit()
    with db.engine.connect() as conn:
        postgresql = conn.dialect.name == "postgresql"
        if postgresql:
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
        email_index = "uq_person_email" if postgresql else "sqlite_autoindex_person"
        for statement, index in ((by_email, email_index), (by_name, "ix_person_lower_name")):
            literal = statement.replace("%(", "'").replace(")s", "'").replace("?", "'x'")
            literal = re.sub(r"'[a-z_0-9]+'(::[A-Z]+)?", "'x'", literal)
            plan = " ".join(
                str(r[-1] if not postgresql else r[0])
                for r in conn.exec_driver_sql(explain + literal)
            )
            assert index in plan, (statement, plan)
