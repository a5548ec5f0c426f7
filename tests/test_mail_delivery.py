"""Mail delivery against a real SMTP server (aiosmtpd on the loopback).

The server refuses one recipient, drops the connection mid-batch, is down, or
takes everything; whatever it does, nothing is sent twice, nothing is lost, and
failures are visible to HR.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from conftest import TEST_REDIS_URL, redis_or_skip, sign_in
from cycle_helpers import launched_cycle
from smtp_helpers import free_port, queue_messages
from sqlalchemy import select, update

from reviews.cycles.models import Cycle
from reviews.cycles.workflow import CycleState
from reviews.db import utcnow
from reviews.extensions import db
from reviews.notifications import delivery
from reviews.notifications.models import Delivery, DeliveryState, Notification
from reviews.people.models import Role


def _states() -> dict[str, DeliveryState]:
    rows = db.session.execute(select(Delivery.id, Delivery.state).order_by(Delivery.id)).all()
    db.session.commit()
    return {str(i): s for i, s in rows}


def _due_now() -> None:
    """As if the time to retry (or a claim's expiry) had come."""
    db.session.execute(update(Delivery).values(next_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_refused_recipient_fails_alone_and_nothing_is_sent_twice(
    app, mailbox, make_person, runner
):
    people = [make_person(email=f"p{i}@example.com") for i in range(6)]
    mailbox.refuse.add("p2@example.com")
    queue_messages(people)

    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 5 messages; 1 failed for good." in result.output
    assert sorted(to for [to] in mailbox.envelopes) == sorted(
        p.email for p in people if p.email != "p2@example.com"
    )
    failed = db.session.scalar(select(Delivery).where(Delivery.state == DeliveryState.FAILED))
    assert failed is not None
    assert failed.notification.recipient.email == "p2@example.com"
    assert "550 5.1.1 No such mailbox here" in (failed.error or "")

    # Again, and again: what was accepted is not sent again, the refused one not retried.
    for _ in range(2):
        again = runner.invoke(args=["notifications", "send"])
        assert again.exit_code == 0
        assert "Sent 0 messages." in again.output
    assert len(mailbox.received) == 5
    assert len(set(mailbox.message_ids())) == 5


def test_a_deferred_recipient_is_retried_later_with_backoff(app, mailbox, make_person):
    [a, b] = [make_person(email="a@example.com"), make_person(email="b@example.com")]
    mailbox.defer.add("b@example.com")
    queue_messages([a, b])

    outcome = delivery.deliver()
    assert (outcome.sent, outcome.retrying, outcome.failed) == (1, 1, 0)
    waiting = db.session.scalar(select(Delivery).where(Delivery.state == DeliveryState.RETRY))
    assert waiting is not None
    assert "451" in (waiting.error or "")
    assert waiting.next_at is not None
    assert waiting.next_at > utcnow()
    db.session.commit()
    assert delivery.deliver().sent == 0  # not due yet

    mailbox.defer.clear()
    _due_now()
    assert delivery.deliver().sent == 1
    assert sorted(to for [to] in mailbox.envelopes) == ["a@example.com", "b@example.com"]


def test_a_dropped_connection_loses_nothing_and_sends_nothing_twice(app, mailbox, make_person):
    people = [make_person(email=f"d{i}@example.com") for i in range(5)]
    mailbox.drop_at = 3
    queue_messages(people)

    outcome = delivery.deliver()
    assert (outcome.sent, outcome.retrying) == (4, 1), outcome
    assert len(mailbox.received) == 4

    _due_now()
    assert delivery.deliver().sent == 1
    assert delivery.deliver().sent == 0
    assert sorted(to for [to] in mailbox.envelopes) == sorted(p.email for p in people)
    assert len(set(mailbox.message_ids())) == 5
    assert set(_states().values()) == {DeliveryState.SENT}


def test_a_sender_that_dies_after_acceptance_is_taken_over_with_the_same_message_id(
    app, mailbox, make_person, monkeypatch
):
    person = make_person(email="once@example.com")
    queue_messages([person])
    marks = delivery._mark

    def crash(notification_id: int, **values: Any) -> None:
        raise KeyboardInterrupt("the process died")

    monkeypatch.setattr(delivery, "_mark", crash)
    with pytest.raises(KeyboardInterrupt):
        delivery.deliver()
    monkeypatch.setattr(delivery, "_mark", marks)
    db.session.rollback()
    assert len(mailbox.received) == 1
    # The claim holds for its time: a second sender does not take the message.
    assert delivery.deliver().sent == 0
    _due_now()
    assert delivery.deliver().sent == 1
    first, second = mailbox.received
    assert first["Message-ID"] == second["Message-ID"]  # recognisably the same message


def test_a_server_that_is_down_stops_the_run_and_touches_nothing(app, make_person, runner):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    queue_messages([make_person(), make_person()])

    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 1
    assert "Stopped early: the mail server is unreachable" in result.output
    rows = db.session.execute(select(Delivery.state, Delivery.attempts)).all()
    assert rows == [(DeliveryState.QUEUED, 0), (DeliveryState.QUEUED, 0)]


def test_every_message_has_date_message_id_unsubscribe_and_both_bodies(app, mailbox, make_person):
    person = make_person(email="reader@example.com")
    queue_messages([person])
    delivery.deliver()
    [message] = mailbox.received
    assert message["Date"]
    assert message["Message-ID"].endswith("@reviews.example.com>")
    assert message["List-Unsubscribe"] == "<https://reviews.example.com/notifications/settings>"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    # The link is absolute exactly once.
    assert "https://reviews.example.com/goals/7" in plain
    others = plain.replace("https://reviews.example.com/goals/7", "")
    assert "http" not in others.replace("https://reviews.example.com/notifications/settings", "")
    assert 'href="https://reviews.example.com/goals/7"' in html
    stored = db.session.scalar(select(Delivery))
    assert stored.message_id == message["Message-ID"]
    assert stored.sent_at is not None


def test_a_line_break_in_a_title_never_reaches_a_header(app, mailbox, make_person, runner):
    victim = make_person(email="victim@example.com")
    queue_messages([victim], subject="Ship it\r\nBcc: attacker@example.org")
    # Stored before this release, unsanitised: the mailer cleans it too.
    db.session.add(
        Notification(
            recipient_id=victim.id,
            kind="goal_comment",
            subject="Old\nBcc: attacker@example.org",
            body="x",
            target="goals.goal_page",
            target_id=1,
        )
    )
    db.session.commit()
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert [m["Subject"] for m in mailbox.received] == [
        "Ship it Bcc: attacker@example.org",
        "Old Bcc: attacker@example.org",
    ]
    assert all(m["Bcc"] is None for m in mailbox.received)
    assert mailbox.envelopes == [["victim@example.com"], ["victim@example.com"]]


def test_turning_mail_on_sends_only_what_is_still_relevant(app, mailbox, make_person):
    hr = make_person(role=Role.HR, email="hr@example.com")
    manager = make_person(email="boss@example.com")
    engineer = make_person(email="eng@example.com", manager=manager)
    old_cycle = launched_cycle(hr)
    db.session.execute(
        update(Cycle).where(Cycle.id == old_cycle.id).values(state=CycleState.CLOSED)
    )
    about_closed_cycle = db.session.scalar(select(db.func.count()).select_from(Notification))
    assert about_closed_cycle == 3  # "your self-review is open", to each of the three
    queue_messages([engineer])  # a goal comment, more than three days ago
    db.session.execute(
        update(Notification)
        .where(Notification.kind == "goal_comment")
        .values(created_at=utcnow() - timedelta(hours=80))
    )
    db.session.commit()
    launched_cycle(hr, name="This half")

    outcome = delivery.deliver()
    mailed = sorted((m["To"], m["Subject"]) for m in mailbox.received)
    assert mailed == sorted(
        (p.email, "This half: your self-review is open") for p in (hr, manager, engineer)
    )
    # About the closed cycle: kept as skipped, so HR sees them counted.
    assert outcome.skipped == about_closed_cycle
    assert (
        db.session.scalar(select(db.func.count()).where(Delivery.state == DeliveryState.SKIPPED))
        == about_closed_cycle
    )
    # Too old: let go without a delivery. All stay in the app.
    old = db.session.scalar(select(Notification).where(Notification.kind == "goal_comment"))
    assert old.dispatched_at is not None
    assert not db.session.scalar(select(Delivery).where(Delivery.notification_id == old.id))
    db.session.commit()


def test_hr_sees_failures_and_nobody_else(app, client, mailbox, make_person):
    hr = make_person(role=Role.HR, email="hr@example.com")
    other = make_person(email="bounce@example.com")
    mailbox.refuse.add("bounce@example.com")
    queue_messages([other], subject="Private subject")
    delivery.deliver()

    sign_in(client, other.email)
    assert client.get("/notifications/delivery").status_code == 403
    client = app.test_client()
    sign_in(client, hr.email)
    page = client.get("/notifications/delivery").get_data(as_text=True)
    assert "bounce@example.com" in page
    assert "550 5.1.1 No such mailbox here" in page
    assert "Private subject" not in page  # the text is the recipient's


def test_two_workers_running_the_schedule_send_each_reminder_once(
    app, mailbox, make_person, tmp_path
):
    """Two real `flask worker` processes, each with the schedule, on one database and one
    Redis: the launch's messages and the reminders are each mailed exactly once."""
    import signal
    import subprocess
    import time
    import uuid
    from datetime import date

    from worker_helpers import ROOT, worker_command, worker_env

    url = TEST_REDIS_URL
    redis_or_skip(url)
    hr = make_person(role=Role.HR)
    manager = make_person()
    for _ in range(3):
        make_person(manager=manager)
    launched_cycle(hr, self_review_due=date.today() + timedelta(days=1))
    launched = db.session.scalar(select(db.func.count()).select_from(Notification))
    db.session.commit()
    assert launched == 5
    env = worker_env(
        app,
        f"schedule-test-{uuid.uuid4().hex[:8]}",
        REVIEWS_INSTANCE_PATH=str(tmp_path),
        SCHEDULE_TICK_SECONDS="0.3",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(app.config["SMTP_PORT"]),
        SMTP_STARTTLS="0",
        PUBLIC_URL="https://reviews.example.com",
    )
    flask = worker_command()
    logs = [tmp_path / f"worker{i}.log" for i in (1, 2)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(subprocess.Popen(flask, cwd=ROOT, env=env, stdout=out, stderr=out))
    try:
        deadline = time.monotonic() + 150  # two workers and a cycle, on a loaded CI machine
        while len(mailbox.received) < 2 * launched:
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.2)
        time.sleep(1.5)  # several more ticks of both schedules: nothing more goes out
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    sent = [(m["To"], m["Subject"]) for m in mailbox.received]
    assert len(sent) == 2 * launched  # "is open" and one reminder to each participant
    assert len(set(sent)) == len(sent)
    assert sum(subject.endswith("your self-review is open") for _, subject in sent) == launched
    assert sum("your self-review is due on" in subject for _, subject in sent) == launched
    assert len(set(mailbox.message_ids())) == len(sent)
    reminders = db.session.scalar(select(db.func.count()).where(Notification.kind == "reminder"))
    assert reminders == launched


def test_each_slot_of_the_schedule_is_run_by_one_worker(app):
    import uuid

    from reviews.schedule import run_due

    connection = redis_or_skip()
    app.config["JOBS_QUEUE"] = f"slots-{uuid.uuid4().hex[:8]}"
    now = utcnow().replace(minute=0, second=5)
    assert run_due(connection, "one", now) == ["cycle-reminders", "goal-reminders", "deliver"]
    assert run_due(connection, "two", now) == []
    assert run_due(connection, "two", now + timedelta(minutes=1)) == ["deliver"]
    assert run_due(connection, "one", now + timedelta(hours=1)) == [
        "cycle-reminders",
        "goal-reminders",
        "deliver",
    ]


def test_the_reminders_a_tick_queues_go_out_with_that_ticks_mail(app, mailbox, make_person):
    """Before, the tick mailed what was waiting and then queued the reminders, which
    waited for the next minute's delivery."""
    import uuid
    from datetime import date

    from reviews.schedule import run_due

    connection = redis_or_skip()
    app.config["JOBS_QUEUE"] = f"same-tick-{uuid.uuid4().hex[:8]}"
    hr = make_person(role=Role.HR)
    manager = make_person()
    for _ in range(3):
        make_person(manager=manager)
    launched_cycle(hr, self_review_due=date.today() + timedelta(days=1))
    db.session.commit()
    assert run_due(connection, "one")[-1] == "deliver"
    subjects = [m["Subject"] for m in mailbox.received]
    assert sum(s.endswith("your self-review is open") for s in subjects) == 5
    assert sum("your self-review is due on" in s for s in subjects) == 5


def test_a_person_can_keep_notifications_out_of_their_mailbox(app, client, mailbox, make_person):
    quiet = make_person(email="quiet@example.com")
    loud = make_person(email="loud@example.com")
    sign_in(client, quiet.email)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert re.search(r'<input checked id="mail" name="mail" type="checkbox"', page)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    saved = client.post("/notifications/settings", data={"csrf_token": token})  # box unticked
    assert saved.status_code == 302
    summary = client.get("/notifications").get_data(as_text=True)
    assert "nowhere else: everything stays here" in summary
    db.session.refresh(quiet)
    assert quiet.mail_notifications is False

    queue_messages([quiet, loud])
    outcome = delivery.deliver()
    assert outcome.sent == 1
    assert [m["To"] for m in mailbox.received] == ["loud@example.com"]
    assert client.post("/notifications/settings", data={}).status_code == 400  # no CSRF token
