"""HR's translations of the framework, the catalogue and the review templates: every
surface shows a text in its reader's language, falls back to the text as written, and
the translations page saves all or nothing."""

from __future__ import annotations

import io

from conftest import count_queries, csrf_token, post, sign_in
from cycle_helpers import launched_cycle, review_of
from sqlalchemy import delete, func, select

from reviews.audit.models import AuditEvent
from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.framework import translations as tr
from reviews.framework.models import Competency, ContentTranslation, Level, Opportunity
from reviews.framework.wording import digest
from reviews.languages import force_locale, gettext
from reviews.people.models import Person, Role
from reviews.review_templates.builtin import DEFAULTS

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def _competency() -> Competency:
    return db.session.scalars(select(Competency).order_by(Competency.position)).first()


def _translate(language: str, source: str, text: str) -> None:
    db.session.execute(
        delete(ContentTranslation).where(
            ContentTranslation.language == language,
            ContentTranslation.source_hash == digest(source),
        )
    )
    tr.load_translations(language, {source: text})
    db.session.commit()


def _german(make_person, **fields):
    """Greta, who reads German (her own choice)."""
    person = make_person("Greta", **fields)
    person.locale = "de"
    db.session.commit()
    return person


def _as(app, person):
    """A client of its own, signed in as `person`."""
    client = app.test_client()
    assert sign_in(client, person.email).status_code == 302
    client.csrf = csrf_token(client, "/")
    return client


def _page(client, url: str, headers=None) -> str:
    answer = client.get(url, headers=headers or {})
    assert answer.status_code == 200, url
    return answer.get_data(as_text=True)


def test_the_default_framework_arrives_translated(app):
    """The shipped German and French translations are loaded with the framework: every
    name and description a German reader meets has one."""
    comp = _competency()
    for language in ("de", "fr"):
        translated = dict(
            db.session.execute(
                select(ContentTranslation.source, ContentTranslation.text).where(
                    ContentTranslation.language == language
                )
            ).all()
        )
        assert translated.get(comp.name) not in (None, "", comp.name)
        assert translated.get(comp.description) not in (None, "", comp.description)
        listing = tr.listing(language, "competencies")
        assert listing.missing == 0, [i.source for i in listing.items if not i.text][:5]


def test_a_translation_shows_wherever_its_text_does(app, client, make_person, login_as):
    """The live framework, a running cycle's form and the catalogue speak the reader's
    language; someone reading English sees the texts as written."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    german = _german(make_person, manager=hr)
    comp = _competency()
    _translate("de", comp.name, "Technische Sicherheit")
    cycle = launched_cycle(hr)
    login_as(german)
    assert "Technische Sicherheit" in _page(client, "/framework/")
    assert "Technische Sicherheit" in _page(client, f"/framework/competencies/{comp.key}")
    form = _page(client, f"/reviews/{review_of(cycle, german).id}/self")
    assert "Technische Sicherheit" in form
    # the built-in questions come from Reviews' own catalog
    label = DEFAULTS["self"].questions[0].label
    with force_locale("de"):
        german_label = str(gettext(label))
    assert german_label != label
    assert german_label in form
    english = _as(app, hr)
    assert comp.name in _page(english, "/framework/")
    assert "Technische Sicherheit" not in _page(english, "/framework/")


def test_a_rewritten_text_is_shown_as_written_until_translated_again(
    app, client, make_person, login_as
):
    """A translation belongs to its text: once HR rewrites a competency, German readers of
    the live framework see the new English until it is translated, while the running
    cycle, which froze the old text, keeps its translation."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    german = _german(make_person, manager=hr)
    comp = _competency()
    _translate("de", comp.name, "Technische Sicherheit")
    cycle = launched_cycle(hr)
    comp.name = "Engineering Craft"  # as the competency editor writes it
    db.session.commit()
    login_as(german)
    live = _page(client, "/framework/")
    assert "Engineering Craft" in live
    assert "Technische Sicherheit" not in live
    assert "Technische Sicherheit" in _page(client, f"/reviews/{review_of(cycle, german).id}/self")


def test_the_translations_page_saves_and_records(app, client, make_person, login_as):
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    login_as(hr)
    url = "/framework/translations?language=de&section=opportunities"
    page = _page(client, url)
    opportunity = db.session.scalars(
        select(Opportunity).where(Opportunity.active.is_(True)).order_by(Opportunity.title)
    ).first()
    key = digest(opportunity.title)
    assert f'name="text-{key}"' in page
    row = db.session.scalar(
        select(ContentTranslation).where(
            ContentTranslation.language == "de", ContentTranslation.source_hash == key
        )
    )
    version = row.version if row else 0
    answer = post(
        client,
        url,
        {f"text-{key}": "Eine neue Übersetzung", f"version-{key}": str(version)},
    )
    assert answer.status_code == 302
    saved = db.session.scalar(
        select(ContentTranslation.text).where(
            ContentTranslation.language == "de", ContentTranslation.source_hash == key
        )
    )
    assert saved == "Eine neue Übersetzung"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "framework.translated")
    ).one()
    assert event.details == {"language": "de", "section": "opportunities", "texts": 1}
    # an empty text removes the translation: readers see the text as written again
    version = db.session.scalar(
        select(ContentTranslation.version).where(ContentTranslation.source_hash == key)
    )
    assert (
        post(client, url, {f"text-{key}": " ", f"version-{key}": str(version)}).status_code == 302
    )
    assert not db.session.scalar(
        select(func.count())
        .select_from(ContentTranslation)
        .where(ContentTranslation.language == "de", ContentTranslation.source_hash == key)
    )


def test_a_bad_save_changes_nothing_and_keeps_what_was_typed(app, client, make_person, login_as):
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    login_as(hr)
    url = "/framework/translations?language=fr&section=ladder"
    listing = tr.listing("fr", "ladder")
    first, second = listing.items[0], listing.items[1]
    before = dict(
        db.session.execute(
            select(ContentTranslation.source_hash, ContentTranslation.text).where(
                ContentTranslation.language == "fr"
            )
        ).all()
    )
    answer = post(
        client,
        url,
        {
            f"text-{first.key}": "Un texte correct",
            f"version-{first.key}": str(first.version),
            f"text-{second.key}": "x" * (tr.MAX_TEXT + 1),
            f"version-{second.key}": str(second.version),
            "text-" + "0" * 64: "orphan",
            "version-" + "0" * 64: "0",
        },
    )
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "Un texte correct" in html  # what was typed is still there
    assert "error-summary" in html
    assert f'id="error-{second.key}"' in html
    assert "no longer in the framework" in html
    after = dict(
        db.session.execute(
            select(ContentTranslation.source_hash, ContentTranslation.text).where(
                ContentTranslation.language == "fr"
            )
        ).all()
    )
    assert after == before


def test_someone_else_s_save_is_not_overwritten(app, client, make_person, login_as):
    """Two people translating the same text: the second save is refused (409), shows the
    first one's words and keeps the second one's typing."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    login_as(hr)
    url = "/framework/translations?language=de&section=ladder"
    item = tr.listing("de", "ladder").items[0]
    opened_at = str(item.version)
    assert (
        post(client, url, {f"text-{item.key}": "Erste Fassung", f"version-{item.key}": opened_at})
    ).status_code == 302
    answer = post(
        client, url, {f"text-{item.key}": "Zweite Fassung", f"version-{item.key}": opened_at}
    )
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Erste Fassung" in html
    assert "Zweite Fassung" in html
    assert tr.listing("de", "ladder").items[0].text == "Erste Fassung"


def test_bad_parameters_are_refused(app, client, make_person, login_as):
    login_as(make_person(role=Role.HR, email="hr-t@example.com"))
    for query in ("language=xx", "language=en", "section=people", "show=some", "lang=de"):
        answer = client.get(f"/framework/translations?{query}")
        assert answer.status_code == 400, query
        assert answer.is_json or "parameter" in answer.get_data(as_text=True).lower()


def test_reviews_own_translations_can_be_added_again(app, client, make_person, login_as):
    """A deployment whose framework predates the shipped translations (or that removed
    them) gets them back with one button; HR's own translations are kept."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    comp = _competency()
    db.session.execute(delete(ContentTranslation).where(ContentTranslation.language == "de"))
    db.session.commit()
    _translate("de", comp.name, "Meine eigene Übersetzung")
    login_as(hr)
    answer = post(
        client, "/framework/translations?language=de&section=competencies", {"action": "shipped"}
    )
    assert answer.status_code == 302
    texts = dict(
        db.session.execute(
            select(ContentTranslation.source, ContentTranslation.text).where(
                ContentTranslation.language == "de"
            )
        ).all()
    )
    assert texts[comp.name] == "Meine eigene Übersetzung"
    assert texts[comp.description] != comp.description
    assert len(texts) > 100


def test_translated_pages_read_the_translations_once(app, client, make_person, login_as):
    """A German page costs one more statement than an English one, however many texts it
    shows."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    german = _german(make_person, manager=hr)
    counts = {}
    for who in (hr, german):
        reader = _as(app, who)
        _page(reader, "/framework/")
        with count_queries() as statements:
            _page(reader, "/framework/")
        counts[who.name] = len(statements)
    assert counts["Greta"] <= counts[hr.name] + 1, counts


def test_a_german_growth_plan_pdf_names_the_competencies_in_german(app):
    from pypdf import PdfReader
    from test_jobs import _client, _released_org

    from reviews.cycles.models import Review
    from reviews.growth.models import GrowthPlan

    _released_org(10)
    review = db.session.scalars(select(Review).join(GrowthPlan).order_by(Review.id)).first()
    review.subject.locale = "de"
    db.session.commit()
    names = {c.name for c in db.session.scalars(select(Competency))}
    german = dict(
        db.session.execute(
            select(ContentTranslation.source, ContentTranslation.text).where(
                ContentTranslation.language == "de", ContentTranslation.source.in_(names)
            )
        ).all()
    )
    hr = _client(app, "hr@example.com")
    pdf = hr.get(f"/reviews/{review.id}/plan.pdf", headers=GERMAN)
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages).replace(
        "\n", " "
    )
    shown = [german[n] for n in names if german.get(n) and german[n].split()[0] in text]
    assert shown, "no competency is named in German"


def test_hr_s_wording_of_a_built_in_question_wins_over_the_catalog(
    app, client, make_person, login_as
):
    """The templates section lists the questions Reviews ships with its own translation as
    a hint; HR's translation, once saved, is what German readers see instead."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    german = _german(make_person, manager=hr)
    label = DEFAULTS["self"].questions[0].label
    listing = tr.listing("de", "templates")
    item = next(i for i in listing.items if i.source == label)
    with force_locale("de"):
        assert item.shipped == str(gettext(label))
    assert not item.text
    page = _page(_as(app, hr), "/framework/translations?language=de&section=templates")
    assert f'id="hint-{item.key}"' in page
    _translate("de", label, "Was ist Ihnen in diesem Zeitraum gelungen?")
    cycle = launched_cycle(hr)
    login_as(german)
    form = _page(client, f"/reviews/{review_of(cycle, german).id}/self")
    assert "Was ist Ihnen in diesem Zeitraum gelungen?" in form


def test_the_api_answers_in_its_caller_s_language(app, client, make_person):
    """The API's framework and a review's competencies follow the same language choice as
    its messages: German for a German caller, as written for an English one."""
    from test_api import _bearer

    from reviews.api.operations import create_token

    comp = _competency()
    _translate("de", comp.name, "Technische Sicherheit")
    german = _german(make_person)
    english = make_person("Ed")
    tokens = {}
    for person in (german, english):
        tokens[person.name] = create_token(None, person, "test")[1]
        db.session.commit()
    answers = {
        name: client.get("/api/v1/framework", headers=_bearer(token)).get_json()
        for name, token in tokens.items()
    }
    names = {
        name: {c["key"]: c["name"] for c in doc["competencies"]} for name, doc in answers.items()
    }
    assert names["Greta"][comp.key] == "Technische Sicherheit"
    assert names["Ed"][comp.key] == comp.name
    assert answers["Greta"]["levels"][0]["key"] == answers["Ed"]["levels"][0]["key"]


def test_a_text_posted_back_as_shown_leaves_someone_else_s_save_alone(
    app, client, make_person, login_as
):
    """The page posts every text; one the person did not touch is not theirs to save, even
    when someone else saved it since the page was opened."""
    hr = make_person(role=Role.HR, email="hr-t@example.com")
    login_as(hr)
    url = "/framework/translations?language=de&section=ladder"
    mine, theirs = tr.listing("de", "ladder").items[:2]  # as both people's pages show them
    other = _as(app, make_person(role=Role.HR, email="hr-other@example.com"))
    assert (
        post(
            other,
            url,
            {
                f"text-{theirs.key}": "Ihre Fassung",
                f"version-{theirs.key}": str(theirs.version),
                f"was-{theirs.key}": theirs.shown,
            },
        ).status_code
        == 302
    )
    answer = post(
        client,
        url,
        {
            f"text-{mine.key}": "Meine Fassung",
            f"version-{mine.key}": str(mine.version),
            f"was-{mine.key}": mine.shown,
            f"text-{theirs.key}": theirs.text,  # untouched: what the page showed
            f"version-{theirs.key}": str(theirs.version),
            f"was-{theirs.key}": theirs.shown,
        },
    )
    assert answer.status_code == 302
    now = {i.key: i.text for i in tr.listing("de", "ladder").items}
    assert now[mine.key] == "Meine Fassung"
    assert now[theirs.key] == "Ihre Fassung"


def test_a_german_deployment_reads_reviews_texts_in_german(app, client, make_person, login_as):
    """With German as the deployment's language, the texts Reviews ships (English) are
    read in German, and HR may translate into German."""
    app.config["LANGUAGE"] = "de"
    comp = _competency()
    german_name = db.session.scalar(
        select(ContentTranslation.text).where(
            ContentTranslation.language == "de", ContentTranslation.source == comp.name
        )
    )
    reader = make_person("Greta")  # no choice of her own, a browser asking for nothing
    login_as(reader)
    page = client.get("/framework/", headers={"Accept-Language": ""}).get_data(as_text=True)
    assert 'lang="de"' in page
    assert german_name in page
    with app.test_request_context():
        assert "de" in tr.languages()


def test_report_headings_stay_as_written_for_a_german_reader(app, make_person):
    """The report's column headings are read by scripts: the competency names in them are
    as written, whoever downloads; German readers get German cells."""
    from test_jobs import _client, _released_org

    _released_org(10)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    hr.locale = "de"
    db.session.commit()
    comp = _competency()
    cycle_id = db.session.scalar(select(func.max(Cycle.id)))
    csv = _client(app, "hr@example.com").get(f"/cycles/{cycle_id}/report.csv")
    assert csv.status_code == 200
    heading = csv.get_data(as_text=True).splitlines()[0]
    assert f"Final: {comp.name}" in heading


def test_a_stray_space_in_a_text_does_not_lose_its_translation(app, client, make_person):
    """An edit form stores what was typed ("Engineer "); the translation of the text still
    reaches its readers."""
    level = db.session.scalars(select(Level).order_by(Level.rank)).first()
    _translate("de", level.name, "Einstiegsstufe")
    level.name = level.name + " "
    db.session.commit()
    page = _page(_as(app, _german(make_person)), "/framework/")
    assert "Einstiegsstufe" in page
