"""Thin click commands: parse, call an operation, commit once.

`unit_of_work` is the CLI's edge, as `web.end_transaction` is the request's: a
command's changes are committed when it completes and rolled back when it fails;
a refusal (`reviews.errors`) is one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from reviews.auth.models import LinkPurpose
from reviews.auth.operations import issue_password_link, set_password
from reviews.demo import (
    DEMO_PASSWORD,
    DemoError,
    build_synthetic_org,
    load_demo_cycles,
    load_demo_org,
)
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.framework.operations import ensure_default_framework
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.people import operations as people_ops
from reviews.people.models import Person, Role


@contextmanager
def unit_of_work() -> Iterator[None]:
    """The command's transaction: committed when the block completes, rolled back when
    it fails; a refusal (`reviews.errors`) becomes one line and exit status 1."""
    try:
        yield
    except DomainError as exc:
        fail(exc.message)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def fail(message: str) -> None:
    db.session.rollback()
    click.echo(gettext("Error: %(message)s", message=message), err=True)
    sys.exit(1)


def _person(email: str) -> Person:
    person = db.session.scalar(select(Person).where(Person.email == email.strip().lower()))
    if person is None:
        fail(gettext("nobody has the email %(email)s", email=email))
    assert person is not None  # for the type checker; fail() exits  # noqa: S101
    return person


def register(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(org_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(cycles_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(goals_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from reviews.scim.cli import register as register_scim

    register_scim(app)


@click.command("setup")
def setup_command() -> None:
    """Load the default framework on first run and the demo org into an empty database."""
    loaded = ensure_default_framework()
    if loaded:
        click.echo(gettext("Loaded the default competency framework and career ladder."))
    people = db.session.scalar(select(db.func.count()).select_from(Person)) or 0
    if not people and current_app.config["REVIEWS_ENV"] == "production":
        db.session.commit()
        click.echo(
            gettext(
                "Production: the demo organisation is not loaded (its accounts share a "
                "published password). Create the first HR account with "
                "`flask users create EMAIL --name NAME --role hr`, then import the org."
            )
        )
        return
    if not people:
        count = load_demo_org()
        load_demo_cycles()
        click.echo(
            ngettext(
                "Loaded the demo organisation (%(num)d person), a closed cycle and one in "
                "progress.",
                "Loaded the demo organisation (%(num)d people), a closed cycle and one in "
                "progress.",
                count,
            )
        )
    db.session.commit()
    if db.session.scalar(select(Person).where(Person.email == "hr@example.com")):
        click.echo(
            gettext(
                "Demo sign-in: hr@example.com, em@example.com or dev@example.com "
                "with password %(password)s",
                password=DEMO_PASSWORD,
            )
        )


@click.command("demo")
@click.option(
    "--people",
    "people",
    type=click.IntRange(10, 200_000),
    default=None,
    help="Build a synthetic organisation of this many people instead of the demo org.",
)
def demo_command(people: int | None) -> None:
    """Load the demo organisation (or a synthetic one) into an empty database."""
    if current_app.config["REVIEWS_ENV"] == "production":
        fail(
            gettext(
                "the demo organisation is not loaded in production: its accounts share "
                "a published password"
            )
        )
    try:
        if people:
            count = build_synthetic_org(people)
        else:
            count = load_demo_org()
            load_demo_cycles()
    except DemoError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(
        ngettext(
            "Loaded %(num)d person. Sign in as hr@example.com, em@example.com or "
            "dev@example.com with password %(password)s",
            "Loaded %(num)d people. Sign in as hr@example.com, em@example.com or "
            "dev@example.com with password %(password)s",
            count,
            password=DEMO_PASSWORD,
        )
    )


org_cli = AppGroup("org", help="The org chart.")


@org_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show the changes; write nothing.")
def org_import(file: Path, dry_run: bool) -> None:
    """Import the whole org from a CSV file; nothing changes when it has any error."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(gettext("cannot read %(file)s: %(problem)s", file=file, problem=exc.strerror))
    if not db.session.scalar(select(Level.id).limit(1)):
        ensure_default_framework()
    check = people_ops.check_org_file(data)
    if check.errors:
        db.session.rollback()
        for error in check.errors:
            click.echo(f"{file}: {error}", err=True)
        sys.exit(1)
    assert check.plan is not None  # noqa: S101
    if dry_run:
        db.session.rollback()
        click.echo(gettext("Dry run, nothing written: %(summary)s", summary=check.plan.said()))
        return
    with unit_of_work():
        plan = people_ops.apply_import(check, None)
    click.echo(gettext("Imported %(file)s: %(summary)s", file=file, summary=plan.said()))


users_cli = AppGroup("users", help="People's accounts.")


@users_cli.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
def users_list(role: str | None) -> None:
    """List people with their role and whether they can sign in."""
    stmt = select(Person).order_by(Person.email)
    if role:
        stmt = stmt.where(Person.role == Role(role))
    for p in db.session.scalars(stmt):
        state = gettext("active") if p.active else gettext("inactive")
        sign_in = gettext("password set") if p.has_password else gettext("no password")
        click.echo(f"{p.email}\t{p.name}\t{p.role.value}\t{state}\t{sign_in}")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default="employee")
@click.option("--department", default=None)
@click.option("--level", "level_key", default=None, help="Level key or name, e.g. senior-engineer.")
@click.option("--manager", "manager_email", default=None)
def users_create(
    email: str,
    name: str,
    role: str,
    department: str | None,
    level_key: str | None,
    manager_email: str | None,
) -> None:
    """Create a person and print a one-time link to set their password."""
    ensure_default_framework()
    level = None
    if level_key:
        key = people_ops.level_lookup().get(level_key.lower())
        if key is None:
            fail(gettext("unknown level %(level)s", level=repr(level_key)))
        level = db.session.scalar(select(Level).where(Level.key == key))
    manager = _person(manager_email) if manager_email else None
    if "@" not in email or len(email) > 254 or not name.strip() or len(name) > 200:
        fail(gettext("give a valid email and a name of at most 200 characters"))
    with unit_of_work():
        person = people_ops.create_person(
            None,
            email=email,
            name=name,
            department=department,
            level=level,
            manager=manager,
            role=Role(role),
        )
        token = issue_password_link(None, person, LinkPurpose.INVITE)
    click.echo(
        ngettext(
            "Created %(email)s. Set-password link (valid %(num)d hour):",
            "Created %(email)s. Set-password link (valid %(num)d hours):",
            int(current_app.config["PASSWORD_LINK_HOURS"]),
            email=person.email,
        )
    )
    click.echo(_link(token))


@users_cli.command("reset-password")
@click.argument("email")
def users_reset(email: str) -> None:
    """Print a one-time link for this person to set a new password."""
    person = _person(email)
    with unit_of_work():
        token = issue_password_link(None, person, LinkPurpose.RESET)
    click.echo(_link(token))


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(
    "--password", prompt=lazy_gettext("New password"), help="Read from a prompt when omitted."
)
def users_set_password(email: str, password: str) -> None:
    """Set a person's password directly (signs them out everywhere)."""
    person = _person(email)
    with unit_of_work():
        set_password(person, password, actor=None)
    click.echo(gettext("Password set for %(email)s.", email=person.email))


def _link(token: str) -> str:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/auth/set-password/{token}"


cycles_cli = AppGroup("cycles", help="Review cycles.")


@cycles_cli.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (YYYY-MM-DD).",
)
def cycles_remind(today: datetime | None) -> None:
    """Queue reminders for due and overdue work; safe to run many times a day."""
    from reviews.cycles.operations import remind_due

    day = today.date() if today else date.today()
    _queue_then_send(
        lambda: remind_due(day),
        lambda queued: ngettext(
            "Queued %(num)d reminder for %(day)s.",
            "Queued %(num)d reminders for %(day)s.",
            queued,
            day=day.isoformat(),
        ),
    )


def _queue_then_send(queue: Callable[[], int], said: Callable[[int], str]) -> None:
    """Queue reminders (kept, whatever happens to the mailing), send what is due, each
    message in its own transaction, and say both in one line."""
    from reviews.notifications.operations import deliver_pending

    with unit_of_work():
        queued = queue()
    outcome = deliver_pending()
    click.echo(f"{said(queued)} {outcome.summary()}")


goals_cli = AppGroup("goals", help="Personal goals and their check-ins.")


@goals_cli.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if today were this date (YYYY-MM-DD).",
)
def goals_remind(today: datetime | None) -> None:
    """Queue a reminder for every goal whose check-in is due; safe to run many times."""
    from reviews.goals.operations import remind_checkins

    day = today.date() if today else date.today()
    _queue_then_send(
        lambda: remind_checkins(day),
        lambda queued: ngettext(
            "Queued %(num)d check-in reminder for %(day)s.",
            "Queued %(num)d check-in reminders for %(day)s.",
            queued,
            day=day.isoformat(),
        ),
    )


notifications_cli = AppGroup("notifications", help="The outbox.")


@notifications_cli.command("send")
def notifications_send() -> None:
    """Send every due notification on through each person's channels (email when
    SMTP_HOST is set, their Slack and Teams webhooks, the company's WEBHOOK_URL); a
    refused message is marked failed, a deferred one retried later, none sent twice."""
    from reviews.notifications.operations import deliver_pending

    outcome = deliver_pending()  # each message in its own transaction
    click.echo(outcome.summary())
    if outcome.stopped:
        sys.exit(1)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then stop.")
@click.option(
    "--no-schedule",
    is_flag=True,
    help="Do not run reminders and mail delivery on a schedule (cron runs the commands).",
)
def worker_command(burst: bool, no_schedule: bool) -> None:
    """Run background jobs from Redis (REDIS_URL), each in a process of its own, and the
    schedule: mail every minute, review and check-in reminders every hour, once across
    all workers."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        fail(gettext("REDIS_URL is not set; without it jobs run inside the web process"))
    from redis import Redis
    from rq import Queue

    from reviews.config import ConfigError
    from reviews.jobs.worker import ReviewsWorker
    from reviews.readiness import refuse_to_serve
    from reviews.schedule import Scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        refuse_to_serve(app)
    except ConfigError as exc:
        fail(str(exc))
    # Each job runs in a work horse forked from this process: WeasyPrint loaded and its
    # fonts found here, once, every horse starts warm (a shard of a bulk ZIP would
    # otherwise pay a second or two of start-up for a few seconds of work).
    import reviews.jobs.renderer  # noqa: F401

    connection = Redis.from_url(url)
    queue = Queue(current_app.config["JOBS_QUEUE"], connection=connection)
    worker = ReviewsWorker([queue], connection=connection)
    scheduler = None
    if not (burst or no_schedule):
        tick = float(current_app.config.get("SCHEDULE_TICK_SECONDS", 15))
        scheduler = Scheduler(app, connection, worker.name, tick).start()
    try:
        worker.work(burst=burst)
    finally:
        if scheduler:
            scheduler.stop()


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="CLI token", help="What the token is for.")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Expire after this many days (default: never).",
)
def users_token(email: str, name: str, days: int | None) -> None:
    """Create an API token for EMAIL; the token is printed on the last line, once."""
    from reviews.api.operations import create_token

    person = _person(email)
    with unit_of_work():
        _token, secret = create_token(None, person, name, days)
    click.echo(
        gettext(
            "API token for %(email)s (shown once; use as 'Authorization: Bearer ...'):",
            email=person.email,
        )
    )
    click.echo(secret)


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path | None) -> None:
    """Back up the whole database to PATH (default: instance/backups/reviews-<time>)."""
    from reviews.backup import BackupError, backup, default_path

    db.session.remove()
    target = path or default_path(db.engine, Path(current_app.instance_path) / "backups")
    try:
        written = backup(db.engine, target)
    except BackupError as exc:
        fail(str(exc))
        return
    click.echo(gettext("Backed up to %(path)s", path=written))


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace everything in the database with the backup in PATH (stop the app first)."""
    from reviews.backup import BackupError, restore

    if not yes:
        click.confirm(
            gettext("This replaces every row in the database with the backup. Continue?"),
            abort=True,
        )
    db.session.remove()
    try:
        restore(db.engine, path)
    except BackupError as exc:
        fail(str(exc))
        return
    click.echo(gettext("Restored from %(path)s", path=path))
