"""A whole review cycle, walked in German in Chromium, as its people would walk it.

Devon (dev@example.com) chooses German on the language page; HR creates a cycle for
him on the cycle form and launches it; Devon writes and submits the self-review and
nominates a peer from his home page's tasks; Elena (em@example.com, the manager)
approves the peer; Sofía, the peer, follows her e-mail and writes her feedback; Elena
writes and submits the manager review; HR moves the cycle on, calibrates in a
session (changing Devon's final rating, with a rationale), finishes it and releases
the results; Devon follows the "review released" e-mail's link, reads the review,
acknowledges it and fetches the growth plan and the review summary as PDFs.

Every page is asked for in German (a de-DE browser sending Accept-Language: de; Devon
also chooses German on the language page, and the others have German as their stored
language, which is what their e-mails are written in). At each step the page must be
<html lang="de">, and the buttons and links are found by their German names, taken
from the German catalog (reviews/translations/de/LC_MESSAGES/messages.po), never
typed in by hand: a message the catalog does not translate fails the test.

The e-mails go to a real SMTP server on the loopback (aiosmtpd, as in
tests/test_mail_delivery.py) through `flask notifications send`, the command the
scheduler runs; each must arrive in German, subject and body. The PDFs are read back
with pdftotext (German headings, the "Seite 1 von N" footer) and their first page
rendered with pdftoppm.

Set GERMAN_WALK_DIR to a folder to keep a full-page screenshot of every step, the
PDFs and their first pages as PNG there (for a person to look at); otherwise they go
to the test's tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from smtp_helpers import Mailbox, free_port
from sqlalchemy import select, update

from reviews import create_app
from reviews.demo import DEMO_PASSWORD, load_demo_org
from reviews.extensions import db
from reviews.languages import TRANSLATIONS
from reviews.people.models import Person

from .conftest import serving

HR = "hr@example.com"
MANAGER = "em@example.com"  # Elena Marsh
EMPLOYEE = "dev@example.com"  # Devon Clarke, reports to Elena
PEER = "sofia.alvarez@example.com"  # Sofía Álvarez, reports to Elena too
CYCLE = "Jahresbeurteilung 2026"


# --- The German catalog ----------------------------------------------------------------


@cache
def _catalog() -> Any:
    from babel.messages.pofile import read_po

    with (TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def de(msgid: str, plural: int | None = None, **values: Any) -> str:
    """The German of `msgid` as the catalog has it (its plural form `plural`: 0 for one,
    1 for many), with `values` put in and its markup taken out, as a reader sees it."""
    message = _catalog().get(msgid)  # a plural entry is found by its singular
    assert message is not None, f"not in the German catalog: {msgid!r}"
    assert not message.fuzzy, f"fuzzy in the German catalog: {msgid!r}"
    text = message.string[plural] if plural is not None else message.string
    assert isinstance(text, str), msgid
    assert text, f"not translated into German: {msgid!r}"
    if values:
        text = text % values
    return " ".join(unescape(re.sub(r"<[^>]+>", "", text)).split())


def loose(text: str) -> re.Pattern[str]:
    """`text` as a name to find, whatever spacing the visually hidden parts add."""
    return re.compile("^" + r"\s*".join(re.escape(c) for c in text if not c.isspace()) + "$")


def de_before(msgid: str, placeholder: str, plural: int | None = None, **values: Any) -> str:
    """The German of `msgid` up to `placeholder` (a part to find in a longer text)."""
    message = _catalog().get(msgid)
    assert message is not None, msgid
    assert message.string, msgid
    text = message.string[plural] if plural is not None else message.string
    head = text.split(f"%({placeholder})s")[0].strip()
    if values:
        head = head % values
    assert head, msgid
    return head


# --- The server, its mailbox, the browser ------------------------------------------------


class Walk:
    """The live server, its app (for the mail command), the mailbox and the shots."""

    def __init__(self, app: Any, base: str, mailbox: Mailbox, shots: Path) -> None:
        self.app = app
        self.base = base
        self.mailbox = mailbox
        self.shots = shots
        self.step = 0
        self.dialogs: list[str] = []

    def send_mail(self) -> list[Any]:
        """Run the delivery as the schedule does (`flask notifications send`); the new
        messages the SMTP server accepted (each also kept as a file beside the shots)."""
        before = len(self.mailbox.received)
        result = self.app.test_cli_runner().invoke(args=["notifications", "send"])
        assert result.exit_code == 0, result.output
        new = self.mailbox.received[before:]
        for i, message in enumerate(new, start=before + 1):
            (self.shots / f"mail-{i:02d}.eml").write_bytes(message.as_bytes())
        return new

    def shot(self, page: Any, name: str) -> None:
        self.step += 1
        stem = self.shots / f"{self.step:02d}-{name}"
        page.screenshot(path=f"{stem}.png", full_page=True)
        stem.with_suffix(".txt").write_text(f"{page.url}\n{page.inner_text('body')}")


@pytest.fixture
def walk(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Walk]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(app_config)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    with app.app_context():
        load_demo_org()
        # Their stored language: what their e-mails and PDFs are written in. Devon
        # chooses his on the language page, in the walk.
        db.session.execute(
            update(Person).where(Person.email.in_([HR, MANAGER, PEER])).values(locale="de")
        )
        db.session.commit()
        db.session.remove()
    shots = Path(os.environ.get("GERMAN_WALK_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        with serving(app) as base:
            # links in the e-mails lead to this server, so the walk can follow them
            app.config["PUBLIC_URL"] = base
            yield Walk(app, base, mailbox, shots)
    finally:
        controller.stop()


def _person(walk: Walk, email_address: str) -> Person:
    with walk.app.app_context():
        person = db.session.scalar(select(Person).where(Person.email == email_address))
        db.session.expunge(person)
        db.session.remove()
    return person


class German:
    """A browser context of one person, in German: its page and what to check on it."""

    def __init__(self, chromium: Any, walk: Walk, email_address: str) -> None:
        self.walk = walk
        self.context = chromium.new_context(
            viewport={"width": 1280, "height": 900},
            locale="de-DE",
            extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
            accept_downloads=True,
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def confirm(dialog: Any) -> None:
            walk.dialogs.append(dialog.message)
            dialog.accept()

        self.page.on("dialog", confirm)
        self.sign_in(email_address)

    def sign_in(self, email_address: str) -> None:
        page = self.page
        page.goto(f"{self.walk.base}/")
        assert "/auth/login" in page.url
        self.german()
        page.get_by_label(de("Email"), exact=True).fill(email_address)
        page.get_by_label(de("Password"), exact=True).fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name=de("Sign in")).click()
        assert page.url == f"{self.walk.base}/", page.url
        self.german()

    def german(self) -> None:
        """The page is in German and its menus are."""
        page = self.page
        assert page.eval_on_selector("html", "el => el.lang") == "de", page.url
        if page.locator("#main-nav").count():
            nav = page.get_by_role("navigation", name=de("Main"))
            assert nav.get_by_role("link", name=de("Home"), exact=True).count() == 1

    def heading(self, text: str) -> None:
        h1 = self.page.get_by_role("heading", level=1)
        assert " ".join(h1.inner_text().split()).startswith(text), (h1.inner_text(), text)

    def click(self, locator: Any) -> Any:
        """Click what loads a page; the page's response, checked to be German."""
        with self.page.expect_navigation() as navigation:
            locator.click()
        response = navigation.value
        assert response is not None, self.page.url
        assert response.status < 400, (self.page.url, response.status)
        self.german()
        return response

    def link(self, name: str, exact: bool = True) -> Any:
        return self.click(self.page.get_by_role("link", name=name, exact=exact).first)

    def button(self, name: str, exact: bool = True) -> Any:
        return self.click(self.page.get_by_role("button", name=name, exact=exact).first)

    def task(self, title: str) -> Any:
        """Follow a task of the home page's "Meine Aufgaben"."""
        tasks = self.page.get_by_role("region", name=de("My tasks"))
        return self.click(tasks.get_by_role("link", name=title, exact=True))

    def menu(self, name: str) -> Any:
        nav = self.page.get_by_role("navigation", name=de("Main"))
        return self.click(nav.get_by_role("link", name=name, exact=True))

    def flash(self, text: str) -> None:
        assert text in " ".join(self.page.inner_text("main").split()), (text, self.page.url)

    def shot(self, name: str) -> None:
        self.walk.shot(self.page, name)

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


def _fill_part(person: German, texts: dict[str, str] | None = None) -> None:
    """Rate every competency 3 (and the overall rating), answer the choices, and write
    German text into each answer (a competency's comment only where `texts` says)."""
    page = person.page
    form = page.locator("form.part-form")
    for fieldset in form.locator("fieldset.competency").all():
        if fieldset.is_visible():
            fieldset.locator("input[type=radio][value='3']").check()
    for choice in form.locator("select").all():
        if choice.is_visible() and choice.get_attribute("id") != "desired_level":
            choice.select_option(index=2)
    for area in form.locator("textarea").all():
        name = area.get_attribute("name") or ""
        if not area.is_visible() or name.startswith(("comment_", "evidence")):
            continue
        area.fill(
            (texts or {}).get(
                name,
                "Hat die Abrechnungsmigration geleitet und das Betriebshandbuch "
                "geschrieben; die Ausfallzeit sank von vier Stunden auf zwanzig Minuten.",
            )
        )


def _submit_part(person: German) -> None:
    """Submit… checks and asks on the page; Jetzt einreichen submits."""
    response = person.button(de("Submit…"))
    assert response.status == 200, person.page.inner_text(".error-summary")
    assert de("Submit now? You cannot change it afterwards.") in person.page.inner_text(
        "#confirm-submit"
    )
    person.button(de("Submit now"))
    person.flash(de("Submitted. Thank you."))


# --- E-mail ------------------------------------------------------------------------------


def _bodies(message: Any) -> tuple[str, str]:
    plain, html = (
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in message.get_payload()
    )
    return " ".join(plain.split()), html


def _assert_german_mail(message: Any, to: str, subject: str, body: str) -> str:
    """A message to `to` whose subject and body are the German ones; the link it holds."""
    assert message["To"] == to
    # exactly: a long German subject is not folded (folding before an encoded word
    # "f=C3=BCr" left two spaces where the text has one)
    assert message["Subject"] == subject, message["Subject"]
    assert message["Content-Language"] == "de"
    plain, html = _bodies(message)
    assert body in plain, plain
    assert de("Open in Reviews") in unescape(html), html
    assert '<html lang="de">' in html
    footer = de("Reviews sent this because of your part in a review or a goal.")
    assert footer in plain, plain
    assert "Reviews sent this" not in plain  # the English footer
    links = re.findall(r"https?://\S+", plain)
    assert links, plain
    return links[0]


def _mail_to(messages: list[Any], to: str) -> Any:
    found = [m for m in messages if m["To"] == to]
    assert len(found) == 1, [(m["To"], m["Subject"]) for m in messages]
    return found[0]


# --- PDFs ------------------------------------------------------------------------------


def _download(person: German, name: str, into: Path) -> Path:
    """The PDF the link `name` opens, fetched with the person's session (Chromium shows an
    inline PDF in its viewer, which Playwright cannot read), kept under `into` by the
    name the server gives it."""
    page = person.page
    link = page.get_by_role("link", name=name, exact=True).first
    href = link.get_attribute("href")
    assert href, name
    assert href.endswith(".pdf"), href
    response = page.request.get(person.walk.base + href)
    assert response.status == 200, href
    assert response.headers["content-type"].startswith("application/pdf")
    named = re.search(r'filename="([^"]+)"', response.headers.get("content-disposition", ""))
    assert named, response.headers
    target = into / named.group(1)
    target.write_bytes(response.body())
    assert target.read_bytes()[:5] == b"%PDF-"
    return target


def _pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def _first_page_png(pdf: Path, into: Path) -> Path:
    stem = into / pdf.stem
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
        check=True,
        capture_output=True,
    )
    png = stem.with_suffix(".png")
    assert png.exists()
    assert png.stat().st_size > 10_000, png.stat().st_size  # a page with something on it
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def _move(action: str, phase: str) -> str:
    """The question before moving the cycle on, in German."""
    return de(
        "%(action)s: move “%(name)s” to %(phase)s?",
        action=de(action),
        name=CYCLE,
        phase=de(phase),
    )


# --- The walk ----------------------------------------------------------------------------


def test_a_whole_cycle_in_german(walk, chromium, tmp_path):
    for tool in ("pdftotext", "pdftoppm"):
        assert shutil.which(tool), f"{tool} is missing: apt-get install poppler-utils"
    base = walk.base
    today = date.today()
    employee_name = _person(walk, EMPLOYEE).name  # Devon Clarke
    peer_name = _person(walk, PEER).name  # Sofía Álvarez

    # 1. Devon chooses German as his language (his e-mails and PDFs follow it).
    dev = German(chromium, walk, EMPLOYEE)
    dev.link(de("Language"))
    dev.heading(de("Your language"))
    dev.page.get_by_label(de("Language"), exact=True).select_option("de")
    dev.button(de("Save"))
    dev.flash(de("Your language is saved."))
    assert _person(walk, EMPLOYEE).locale == "de"

    # 2. HR creates the cycle on the form and launches it.
    hr = German(chromium, walk, HR)
    hr.menu(de("Cycles"))
    hr.link(de("Create a cycle"))
    hr.heading(de("Create a review cycle"))
    page = hr.page
    page.get_by_label(de("Name"), exact=True).fill(CYCLE)
    page.locator("#period_start").fill((today - timedelta(days=180)).isoformat())
    page.locator("#period_end").fill(today.isoformat())
    page.get_by_label(de("A list of people"), exact=True).check()
    page.locator("#participant_emails").fill(EMPLOYEE)
    for field, days in (
        ("self_review_due", 14),
        ("peer_feedback_due", 28),
        ("manager_review_due", 42),
        ("calibration_due", 56),
    ):
        page.locator(f"#{field}").fill((today + timedelta(days=days)).isoformat())
    page.get_by_label(de("Minimum peers"), exact=True).fill("1")
    hr.shot("hr-new-cycle")
    hr.button(de("Save draft cycle"))
    hr.heading(CYCLE)
    assert de("Draft") in page.locator("h1 .badge").inner_text()
    cycle_url = page.url
    assert re.fullmatch(rf"{re.escape(base)}/cycles/\d+", cycle_url), cycle_url
    launch = de(
        "Launching creates a review for the <strong>%(num)s</strong> participant, with "
        "their manager and level as they are today, freezes the competency framework for "
        "this cycle, and asks them for their self-review.",
        plural=0,
        num=1,
    )
    assert launch in " ".join(page.inner_text("main").split())
    hr.shot("hr-draft-cycle")
    hr.button(de("Launch"))
    assert walk.dialogs[-1] == _move("Launch", "Self-review")
    assert de("Self-review") in page.locator("h1 .badge").inner_text()
    hr.shot("hr-launched")

    # The launch's e-mail reaches Devon in German.
    mails = walk.send_mail()
    opened = _mail_to(mails, EMPLOYEE)
    _assert_german_mail(
        opened,
        EMPLOYEE,
        de("%(cycle)s: your self-review is open", cycle=CYCLE),
        de_before("Write your self-review and nominate peers by %(date)s.", "date"),
    )

    # 3. Devon writes and submits his self-review, then nominates Sofia.
    dev.menu(de("My reviews"))
    dev.heading(de("My reviews"))
    dev.shot("dev-my-reviews")
    # (the part is made at launch: "continue", as test_everyday.py finds it)
    either = "|".join(
        re.escape(de(text)) for text in ("Write your self-review", "Continue your self-review")
    )
    dev.click(dev.page.get_by_role("link", name=re.compile(f"^({either})$")))
    dev.heading(de("Your self-review"))
    _fill_part(dev)
    dev.page.locator("textarea[name^=comment_]").first.fill(
        "Ich habe zwei neue Kolleginnen eingearbeitet und die Architekturrunde moderiert."
    )
    dev.shot("dev-self-review")
    _submit_part(dev)
    dev.shot("dev-self-review-submitted")
    review_url = dev.page.url
    assert re.fullmatch(rf"{re.escape(base)}/reviews/\d+", review_url), review_url
    dev.heading(de("Your review"))
    dev.menu(de("Home"))
    dev.task(de("Nominate peers"))
    dev.heading(de("Your peers"))
    dev.page.locator("#email").fill(PEER)
    dev.button(de("Nominate"))
    dev.flash(de("Nominations updated."))
    assert de("Waiting for approval") in dev.page.inner_text("table")
    dev.shot("dev-nominations")

    # 4. Elena approves the nomination on her team's page.
    em = German(chromium, walk, MANAGER)
    em.task(de("Approve %(name)s's peers", name=employee_name))
    em.heading(de("Peers for %(name)s", name=employee_name))
    em.shot("em-nominations-waiting")
    approve = de('Approve<span class="visually-hidden"> %(name)s</span>', name=peer_name)
    em.click(em.page.get_by_role("button", name=loose(approve)))
    em.flash(de("Nominations updated."))
    assert de("Approved") in em.page.inner_text("table")
    em.shot("em-nominations")

    mails = walk.send_mail()
    _assert_german_mail(  # Devon's nomination, which Elena was asked to approve
        _mail_to(mails, MANAGER),
        MANAGER,
        de("%(cycle)s: approve %(name)s's peers", cycle=CYCLE, name=employee_name),
        de("%(name)s nominated %(peer)s for peer feedback.", name=employee_name, peer=peer_name),
    )
    request_mail = _mail_to(mails, PEER)
    request_link = _assert_german_mail(
        request_mail,
        PEER,
        de("%(cycle)s: feedback for %(name)s", cycle=CYCLE, name=employee_name),
        de("You are asked for peer feedback on %(name)s.", name=employee_name),
    )

    # 5. HR starts peer feedback; Sofia follows her e-mail and writes her feedback.
    hr.page.goto(cycle_url)
    hr.german()
    hr.button(de("Start peer feedback"))
    assert de("Peer feedback") in hr.page.locator("h1 .badge").inner_text()
    sofia = German(chromium, walk, PEER)
    sofia.page.goto(request_link)
    sofia.german()
    sofia.heading(de("Peer feedback for %(name)s", name=employee_name))
    _fill_part(sofia)
    sofia.shot("peer-feedback")
    _submit_part(sofia)
    sofia.close()
    walk.send_mail()  # what the phase asked of others

    # 6. HR starts the manager reviews; Elena writes and submits Devon's.
    hr.page.goto(cycle_url)
    hr.german()
    hr.button(de("Start manager reviews"))
    assert de("Manager review") in hr.page.locator("h1 .badge").inner_text()
    mails = walk.send_mail()
    _assert_german_mail(
        _mail_to(mails, MANAGER),
        MANAGER,
        de("%(cycle)s: write your team's reviews", cycle=CYCLE),
        de_before("%(num)d review to write by %(date)s.", "date", plural=0, num=1),
    )
    em.page.goto(f"{base}/")
    em.german()
    em.task(de("Write %(name)s's review", name=employee_name))
    em.heading(de("Review of %(name)s", name=employee_name))
    _fill_part(em)
    em.shot("em-manager-review")
    _submit_part(em)
    em.shot("em-manager-review-submitted")

    # 7. HR calibrates in a session of Devon's department, finishes it and releases.
    hr.page.goto(cycle_url)
    hr.german()
    hr.button(de("Start calibration"))
    assert de("Calibration") in hr.page.locator("h1 .badge").inner_text()
    hr.link(de("Calibration sessions"))
    hr.heading(de("Calibration of %(name)s", name=CYCLE))
    hr.page.get_by_label(de("A department"), exact=True).check()
    hr.button(de("Open the session"))
    hr.heading(de_before("Calibration: %(name)s", "name"))
    for title in ("Distribution against guidance", "9-box: performance \u00d7 potential", "People"):
        assert hr.page.get_by_role("heading", name=de(title), exact=True).is_visible(), title
    assert hr.page.locator("#ninebox td.box").count() == 9
    hr.shot("hr-calibration-session")
    session_url = hr.page.url
    row = hr.page.locator("tr[id^=row-]").filter(has_text=employee_name)
    hr.click(row.get_by_role("link", name=de("Adjust"), exact=False))
    hr.heading(employee_name)
    hr.page.locator("input[name=overall][value='4']").check()
    hr.page.locator("#rationale").fill(
        "Die Migration hat das ganze Team entlastet; im Vergleich der Abteilung eine Stufe höher."
    )
    hr.shot("hr-calibration-person")
    hr.button(de("Save the change"))
    hr.page.goto(session_url)
    hr.german()
    hr.shot("hr-calibration-ledger")
    hr.button(de("Finish and lock"))
    hr.page.goto(cycle_url)
    hr.german()
    hr.button(de("Release results"))
    assert de("Released") in hr.page.locator("h1 .badge").inner_text()
    hr.shot("hr-released")
    hr.close()

    mails = walk.send_mail()
    released_link = _assert_german_mail(
        _mail_to(mails, EMPLOYEE),
        EMPLOYEE,
        de("%(cycle)s: your review is released", cycle=CYCLE),
        de("Read your review and acknowledge that you have read it."),
    )

    # Every question the pages asked (window.confirm) was German.
    assert walk.dialogs == [
        _move("Launch", "Self-review"),
        _move("Start peer feedback", "Peer feedback"),
        _move("Start manager reviews", "Manager review"),
        _move("Start calibration", "Calibration"),
        de("Finish the session? Final ratings are locked afterwards."),
        _move("Release results", "Released"),
    ]

    # 8. Devon follows the e-mail, reads his review, acknowledges it, takes the PDFs.
    dev.page.goto(released_link)
    dev.german()
    assert dev.page.url == review_url, dev.page.url
    dev.heading(de("Your review"))
    result = dev.page.get_by_role("region", name=de("Result"))
    assert "4" in result.locator(".final-rating").inner_text()
    dev.shot("dev-released-review")
    dev.button(de("I have read my review"))
    dev.flash(de("Thank you: your acknowledgement is recorded."))
    dev.link(de("Growth plan"))
    dev.shot("dev-growth-plan")
    dev.page.goto(review_url)
    dev.german()
    files = Path(os.environ.get("GERMAN_WALK_DIR") or tmp_path)
    plan = _download(dev, de("Growth plan (PDF)"), files)
    summary = _download(dev, de("Review summary (PDF)"), files)
    dev.close()
    em.close()

    # the framework's texts too: the competencies as the default framework's German
    # translation names them (reviews/framework/default_framework.de.json)
    shipped = json.loads(
        (Path(__file__).parents[2] / "reviews/framework/default_framework.de.json").read_text(
            "utf-8"
        )
    )["texts"]
    competency = "Communication and Listening"
    assert shipped[competency] != competency
    for pdf in (plan, summary):
        text = " ".join(_pdf_text(pdf).split())
        assert shipped[competency] in text
        assert competency not in text
        assert re.search(r"Seite 1 von \d+", text), text[-400:]
        assert "Page 1 of" not in text
        assert employee_name in text
        assert CYCLE in text
        _first_page_png(pdf, files)
