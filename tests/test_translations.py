"""Languages (reviews.languages): every template's text is marked, the catalogs are complete
and current, and each page, e-mail and PDF is in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from conftest import post

from reviews.baretext import TEMPLATES, bare_text
from reviews.catalogs import extract, problems, pseudo
from reviews.config import ConfigError, build_config
from reviews.extensions import db
from reviews.languages import PSEUDO, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[1]
POT = TRANSLATIONS / "messages.pot"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _ids(catalog: Catalog) -> set[object]:
    return {(m.context, m.id) for m in catalog if m.id}


def test_no_template_has_text_outside_a_translation_call():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for line, text in bare_text(path.read_text())
    ]
    assert found == [], "\n".join(found[:40])


def test_the_bare_text_check_sees_text_attributes_and_sentences_around_values():
    source = (
        '{% block title %}{{ _("Fine") }}{% endblock %}<p title="Plain title">'
        "{{ _('Marked') }} {% trans n=1 %}{{ n }} review{% endtrans %}</p>"
        "<p>Written by {{ person.name }}</p><code>curl -X GET</code>"
        '<input type="submit" value="Send"><input type="text" value="Ada">'
        "<p>{{ x }} · 42 · PDF</p>"
    )
    assert [text for _line, text in bare_text(source)] == [
        "Plain title",
        "Written by …",
        "Send",
    ]


def test_the_message_template_is_current(tmp_path):
    """`make translations` was run after the last change of marked text: the committed
    template has exactly the messages the code and templates mark."""
    fresh = extract(tmp_path / "messages.pot")
    missing = _ids(_read(fresh)) - _ids(_read(POT))
    stale = _ids(_read(POT)) - _ids(_read(fresh))
    new, gone = sorted(map(str, missing))[:20], sorted(map(str, stale))[:20]
    assert not missing, f"run make translations; not in messages.pot: {new}"
    assert not stale, f"run make translations; no longer marked: {gone}"
    assert any("_macros" in str(m.locations) for m in _read(POT))  # "_" folders are read


def test_the_completeness_check_finds_missing_untranslated_and_fuzzy_messages():
    template = Catalog()
    for text in ("Save", "Cancel", "Send", "Done"):
        template.add(text)
    template.add(("%(num)d day", "%(num)d days"))
    catalog = Catalog(locale="de")
    catalog.add("Save", "Speichern")
    catalog.add("Cancel", "")
    catalog.add("Send", "Senden", flags=["fuzzy"])
    catalog.add(("%(num)d day", "%(num)d days"), ("%(num)d Tag", ""))
    assert problems(catalog, template) == [
        "untranslated: 'Cancel'",
        "fuzzy: 'Send'",
        "untranslated: 'Done'",
        "untranslated: ('%(num)d day', '%(num)d days')",
    ]


@pytest.mark.parametrize("path", CATALOGS, ids=[p.parent.parent.name for p in CATALOGS])
def test_every_catalog_is_complete(path):
    found = problems(_read(path), _read(POT))
    assert found == [], f"{path.relative_to(ROOT)}: {len(found)} problems\n" + "\n".join(found[:40])


def test_the_pseudo_translation_keeps_placeholders_and_markup_and_is_longer():
    text = 'See <a href="%(url)s">the ladder</a> &amp; %(count)d more, 50%%'
    shown = pseudo(text)
    assert shown.startswith("⟦")
    assert shown.endswith("⟧")
    for kept in ('<a href="%(url)s">', "</a>", "&amp;", "%(count)d", "%%"):
        assert kept in shown
    plain = shown.replace('<a href="%(url)s">', "").replace("</a>", "")
    assert not any(
        "a" <= c.lower() <= "z" for c in plain.replace("&amp;", "").replace("%(count)d", "")[1:-1]
    )
    assert len(shown) >= 1.4 * len(text) - 30


# --- which language a page is in


def _lang(html: str) -> str:
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def test_the_browser_language_chooses_and_the_default_follows(app, client, make_person, login_as):
    me = make_person("Ada")
    login_as(me)
    assert _lang(client.get("/").get_data(as_text=True)) == "en"
    pseudo_page = client.get("/", headers={"Accept-Language": "en-Dsrt, en;q=0.5"})
    html = pseudo_page.get_data(as_text=True)
    assert _lang(html) == "en-Dsrt"
    assert 'dir="ltr"' in html
    assert "⟦" in html  # translated
    nothing_offered = client.get("/", headers={"Accept-Language": "ja, ko;q=0.8"})
    assert _lang(nothing_offered.get_data(as_text=True)) == "en"


def test_a_person_s_choice_wins_over_the_browser(app, client, make_person, login_as):
    me = make_person("Ada")
    login_as(me)
    page = client.get("/auth/language").get_data(as_text=True)
    assert 'value="en_Dsrt"' in page
    answer = post(client, "/auth/language", {"locale": PSEUDO})
    assert answer.status_code == 302
    db.session.refresh(me)
    assert me.locale == PSEUDO
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _lang(html) == "en-Dsrt"
    # back to following the browser
    assert post(client, "/auth/language", {"locale": ""}).status_code == 302
    db.session.refresh(me)
    assert me.locale is None
    assert _lang(client.get("/").get_data(as_text=True)) == "en"


def test_a_language_that_is_not_offered_is_refused_and_nothing_changes(
    app, client, make_person, login_as
):
    me = make_person("Ada")
    login_as(me)
    answer = post(client, "/auth/language", {"locale": "xx"})
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert "Not a valid choice" in html
    db.session.refresh(me)
    assert me.locale is None


def test_a_choice_no_longer_offered_falls_back(app, client, make_person, login_as):
    """A language taken off the offered list (REVIEWS_LANGUAGES) is not forced on the
    people who chose it: they get their browser's, then the default."""
    me = make_person("Ada")
    me.locale = "ja"  # not offered
    db.session.commit()
    login_as(me)
    assert _lang(client.get("/").get_data(as_text=True)) == "en"


def test_the_configuration_refuses_unknown_or_uncompiled_languages(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWS_LANGUAGES", "en,xx-notalanguage")
    with pytest.raises(ConfigError, match="xx-notalanguage"):
        build_config(tmp_path, {"REVIEWS_ENV": "testing"})
    monkeypatch.setenv("REVIEWS_LANGUAGES", "en,ja")
    with pytest.raises(ConfigError, match="ja has no compiled catalog"):
        build_config(tmp_path, {"REVIEWS_ENV": "testing"})
    monkeypatch.setenv("REVIEWS_LANGUAGES", "en")
    monkeypatch.setenv("REVIEWS_LANGUAGE", "fr")
    with pytest.raises(ConfigError, match="default language 'fr'"):
        build_config(tmp_path, {"REVIEWS_ENV": "testing"})
    monkeypatch.setenv("REVIEWS_LANGUAGE", "en")
    config = build_config(tmp_path, {"REVIEWS_ENV": "testing"})
    assert config["LANGUAGES"] == ["en", PSEUDO]


# --- what reaches someone who is not at the keyboard


def test_notifications_are_stored_in_each_recipient_s_language(app, make_person):
    """Whoever's action sends them, messages are written in their recipients' languages,
    one by one (notify_many) and many in one statement (notify_each)."""
    from sqlalchemy import Integer, literal, select

    from reviews.languages import lazy_gettext
    from reviews.links import Link
    from reviews.notifications.models import Notification
    from reviews.notifications.operations import Message, notify_each, notify_many
    from reviews.people.models import Person

    reads_pseudo, reads_default = make_person("Pseudo Reader"), make_person("Plain Reader")
    gone = make_person("Chose Something Else")
    reads_pseudo.locale, gone.locale = PSEUDO, "ja"  # ja is not offered
    db.session.commit()
    subject = lazy_gettext("Nobody matches.")
    body = lazy_gettext("Draft saved at %(time)s", time="09:30")
    notify_many(
        Message(p.id, "self_review_open", subject, body, Link("home.index"))
        for p in (reads_pseudo, reads_default, gone)
    )
    notify_each(
        "review_released",
        subject,
        body,
        "home.index",
        select(Person.id, literal(None, Integer)).where(
            Person.id.in_([reads_pseudo.id, reads_default.id, gone.id])
        ),
    )
    db.session.commit()
    stored = db.session.execute(
        select(
            Notification.recipient_id, Notification.kind, Notification.subject, Notification.body
        )
    ).all()
    assert len(stored) == 6
    for recipient, _kind, subject_text, body_text in stored:
        if recipient == reads_pseudo.id:
            assert subject_text == pseudo("Nobody matches.")
            assert body_text == pseudo("Draft saved at %(time)s").replace("%(time)s", "09:30")
        else:
            assert subject_text == "Nobody matches."
            assert body_text == "Draft saved at 09:30"


# --- German, end to end (its catalog is complete: test_every_catalog_is_complete)


def _in(locale: str, text: str, **values: object) -> str:
    from reviews.languages import force_locale, gettext

    with force_locale(locale):
        return str(gettext(text, **values))


def test_german_pages_are_german(app, client, make_person, login_as):
    me = make_person("Ada")
    login_as(me)
    html = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(
        as_text=True
    )
    assert _lang(html) == "de"
    assert _in("de", "Sign out") == "Abmelden"
    assert "Abmelden" in html
    assert "Sign out" not in html


def test_mail_is_written_in_the_recipient_s_language(app, mailbox, make_person):
    """The same action mails a German reader in German and an English one in English:
    the message's words (stored in their language) and the mail's own (the footer)."""
    from smtp_helpers import queue_messages

    from reviews.languages import lazy_gettext
    from reviews.notifications import delivery

    german, english = make_person(email="de@example.com"), make_person(email="en@example.com")
    german.locale = "de"
    db.session.commit()
    queue_messages([german, english], subject=lazy_gettext("Your language is saved."))
    delivery.deliver()
    by_reader = {m["To"]: m for m in mailbox.received}
    german_mail, english_mail = by_reader["de@example.com"], by_reader["en@example.com"]
    assert german_mail["Subject"] == _in("de", "Your language is saved.")
    assert english_mail["Subject"] == "Your language is saved."
    assert german_mail["Subject"] != english_mail["Subject"]
    plain = german_mail.get_payload()[0].get_payload(decode=True).decode()
    footer = "Reviews sent this because of your part in a review or a goal."
    assert _in("de", footer) in plain
    assert footer in english_mail.get_payload()[0].get_payload(decode=True).decode()


def test_a_pdf_is_in_its_reader_s_language_and_a_bulk_plan_in_its_person_s(app):
    """A PDF someone downloads is in their language, its page footer included; each plan
    in the bulk archive HR builds is in the language of the person it is for."""
    import io

    from pypdf import PdfReader
    from sqlalchemy import select
    from test_jobs import _client, _released_org, _zip_of

    from reviews.cycles.models import Review
    from reviews.growth.models import GrowthPlan
    from reviews.jobs.tasks import _slug

    cycle = _released_org(10)
    reviews = list(db.session.scalars(select(Review).join(GrowthPlan).order_by(Review.id)))
    german, english = reviews[0].subject, reviews[1].subject
    german.locale = "de"
    db.session.commit()
    hr = _client(app, "hr@example.com")

    def first_page(pdf: bytes) -> str:
        return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split()).casefold()

    def last_page(pdf: bytes) -> str:
        return " ".join(PdfReader(io.BytesIO(pdf)).pages[-1].extract_text().split()).casefold()

    title, footer = (
        _in("de", "Growth plan"),
        _in("de", "Page %(page)s of %(pages)s", page="1", pages="9"),
    )
    assert title != "Growth plan"
    downloaded = hr.get(f"/reviews/{reviews[0].id}/plan.pdf", headers={"Accept-Language": "de"})
    assert title.casefold() in first_page(downloaded.data)
    assert footer.split("1")[0].strip().casefold() in last_page(downloaded.data)
    _job, archive = _zip_of(hr, cycle)  # HR reads English; the plans are their people's
    # each plan's file is named after its person ("0003-elena-marsh.pdf"); a name alone
    # on a page may be someone's manager
    by_person = {
        person.name: first_page(archive.read(name))
        for name in archive.namelist()
        for person in (german, english)
        if name.split("-", 1)[1] == f"{_slug(person.name)}.pdf"
    }
    assert set(by_person) == {german.name, english.name}
    assert title.casefold() in by_person[german.name]
    assert "growth plan" in by_person[english.name]
    assert title.casefold() not in by_person[english.name]
