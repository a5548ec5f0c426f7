"""The only code that changes people and departments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import aliased

from reviews.audit.operations import record, record_many
from reviews.db import utcnow
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.languages import gettext, ngettext
from reviews.people import headcount
from reviews.people.models import Department, Person, Role, Source
from reviews.people.orgimport import (
    ExistingPerson,
    ImportPlan,
    OrgRow,
    RowError,
    parse_org_csv,
    plan_import,
)
from reviews.people.queries import is_below


class PeopleError(Invalid):
    """A change to the org that is refused; `field` names the form field it belongs to."""


@dataclass
class ImportCheck:
    rows: list[OrgRow]
    errors: list[RowError]
    plan: ImportPlan | None


def level_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for key, name in db.session.execute(select(Level.key, Level.name)):
        lookup[key.lower()] = key
        lookup[name.lower()] = key
    return lookup


def _existing_people() -> dict[str, ExistingPerson]:
    manager = aliased(Person)
    rows = db.session.execute(
        select(
            Person.email,
            Person.name,
            manager.email,
            Department.name,
            Level.key,
            Person.role,
            Person.active,
        )
        .outerjoin(manager, Person.manager_id == manager.id)
        .outerjoin(Department, Person.department_id == Department.id)
        .outerjoin(Level, Person.level_id == Level.id)
    ).all()
    return {
        r[0]: ExistingPerson(r[0], r[1], r[2], r[3], r[4], Role(r[5]).value, r[6]) for r in rows
    }


def check_org_file(data: bytes, actor: Person | None = None) -> ImportCheck:
    """Validate the whole file against the framework and plan the changes."""
    rows, errors = parse_org_csv(data, level_lookup())
    if errors:
        return ImportCheck(rows, errors, None)
    plan = plan_import(rows, _existing_people())
    if actor is not None and actor.email in plan.deactivate:
        errors = [
            RowError(
                1,
                gettext(
                    "%(email)s (you) is not in the file: importing it would deactivate your "
                    "own account",
                    email=actor.email,
                ),
            )
        ]
        return ImportCheck(rows, errors, None)
    if actor is not None:
        me = next(r for r in rows if r.email == actor.email)
        if me.role != Role.HR.value:
            return ImportCheck(
                rows,
                [
                    RowError(
                        me.line,
                        gettext(
                            "%(email)s (you) would lose the HR role; keep role %(role)s for "
                            "yourself",
                            email=actor.email,
                            role=Role.HR.value,
                        ),
                    )
                ],
                None,
            )
    return ImportCheck(rows, [], plan)


def apply_import(check: ImportCheck, actor: Person | None) -> ImportPlan:
    """Apply a checked, error-free import. Flushes; the caller commits."""
    if check.errors or check.plan is None:
        raise PeopleError(gettext("an org file with errors cannot be imported"))
    plan = check.plan
    now = utcnow()

    # Departments match case-insensitively, as in the person form.
    def department_ids() -> dict[str, int]:
        rows = db.session.execute(select(Department.name, Department.id)).all()
        return {name.casefold(): id_ for name, id_ in rows}

    departments = department_ids()
    missing: dict[str, str] = {}
    for row in check.rows:
        if row.department and row.department.casefold() not in departments:
            missing.setdefault(row.department.casefold(), row.department)
    if missing:
        db.session.execute(insert(Department), [{"name": n} for n in missing.values()])
        departments = department_ids()
    level_ids = dict(db.session.execute(select(Level.key, Level.id)).all())

    def fields(row: OrgRow) -> dict[str, object]:
        return {
            "name": row.name,
            "department_id": departments[row.department.casefold()] if row.department else None,
            "level_id": level_ids[row.level_key] if row.level_key else None,
            "role": Role(row.role),
            "active": True,
            "deactivated_at": None,
            "source": Source.CSV,
            "provisioned_at": now,
        }

    # one statement a person, in one transaction: the departments' counts are added
    # up once, at the end (reviews.people.headcount)
    with headcount.deferred(db.session.connection()):
        if plan.create:
            db.session.execute(
                insert(Person),
                [
                    {"email": r.email, "created_at": now, "session_version": 1, **fields(r)}
                    for r in plan.create
                ],
            )
        ids = dict(db.session.execute(select(Person.email, Person.id)).all())
        touched = [r for r, _ in plan.update] + plan.create
        if touched:
            db.session.execute(
                update(Person),
                [
                    {
                        "id": ids[r.email],
                        **fields(r),
                        "manager_id": ids[r.manager_email] if r.manager_email else None,
                    }
                    for r in touched
                ],
            )
        # A changed role changes rights: sign those people out, as the person form does.
        role_changed = [ids[r.email] for r, changed in plan.update if "role" in changed]
        if role_changed:
            db.session.execute(
                update(Person)
                .where(Person.id.in_(role_changed))
                .values(session_version=Person.session_version + 1),
                execution_options={"synchronize_session": False},
            )
        deactivated_ids = [ids[e] for e in plan.deactivate]
        for start in range(0, len(deactivated_ids), 500):
            chunk = deactivated_ids[start : start + 500]
            db.session.execute(
                update(Person)
                .where(Person.id.in_(chunk))
                .values(
                    active=False,
                    deactivated_at=now,
                    session_version=Person.session_version + 1,
                    source=Source.CSV,
                    provisioned_at=now,
                ),
                execution_options={"synchronize_session": False},
            )
    db.session.expire_all()
    source = {"source": "org import"}
    record_many(
        "person.created", actor=actor, subjects=[(ids[r.email], source) for r in plan.create]
    )
    record_many(
        "person.updated",
        actor=actor,
        subjects=[(ids[r.email], {**source, "fields": changed}) for r, changed in plan.update],
    )
    record_many("person.deactivated", actor=actor, subjects=[(i, source) for i in deactivated_ids])
    record("org.imported", actor=actor, summary=plan.summary(), people=len(check.rows))
    db.session.flush()
    return plan


def department_by_name(name: str | None) -> Department | None:
    if not name:
        return None
    name = name.strip()
    found = db.session.scalar(select(Department).where(func.lower(Department.name) == name.lower()))
    if found is None:
        found = Department(name=name)
        db.session.add(found)
    return found


def _check_email_free(email: str, person: Person | None) -> None:
    clash = db.session.scalar(select(Person).where(Person.email == email))
    if clash is not None and clash is not person:
        raise PeopleError(
            gettext("%(email)s already belongs to %(name)s", email=email, name=clash.name),
            field="email",
        )


def check_manager(person: Person | None, manager: Person | None) -> None:
    if manager is None:
        return
    if not manager.active:
        raise PeopleError(
            gettext("%(name)s is deactivated and cannot manage anyone", name=manager.name),
            field="manager",
        )
    if person is not None and person.id is not None:
        if manager.id == person.id:
            raise PeopleError(gettext("nobody can be their own manager"), field="manager")
        if is_below(manager.id, person.id):
            raise PeopleError(
                gettext(
                    "%(manager)s reports to %(person)s: that would make a loop",
                    manager=manager.name,
                    person=person.name,
                ),
                field="manager",
            )


def create_person(
    actor: Person | None,
    *,
    email: str,
    name: str,
    department: str | None,
    level: Level | None,
    manager: Person | None,
    role: Role,
) -> Person:
    email = email.strip().lower()
    _check_email_free(email, None)
    check_manager(None, manager)
    person = Person(
        email=email,
        name=name.strip(),
        department=department_by_name(department),
        level=level,
        manager=manager,
        role=role,
    )
    db.session.add(person)
    db.session.flush()
    record("person.created", actor=actor, subject=person, source="form")
    return person


def update_person(
    actor: Person,
    person: Person,
    *,
    email: str,
    name: str,
    department: str | None,
    level: Level | None,
    manager: Person | None,
    role: Role,
) -> list[str]:
    email = email.strip().lower()
    _check_email_free(email, person)
    check_manager(person, manager)
    if person.id == actor.id and role != Role.HR:
        raise PeopleError(gettext("you cannot take the HR role away from yourself"), field="role")
    new = {
        "email": email,
        "name": name.strip(),
        "department": department_by_name(department),
        "level": level,
        "manager": manager,
        "role": role,
    }
    changed = [k for k, v in new.items() if getattr(person, k) is not v and getattr(person, k) != v]
    for key, value in new.items():
        setattr(person, key, value)
    if "email" in changed or "role" in changed:
        person.session_version += 1  # sign-in identity or rights changed: sign out
    db.session.flush()
    if changed:
        record("person.updated", actor=actor, subject=person, fields=changed, source="form")
    return changed


def active_reports(person: Person) -> int:
    """How many active people report to `person` (who cannot leave while they do)."""
    if person.id is None:
        return 0
    return (
        db.session.scalar(
            select(func.count()).where(Person.manager_id == person.id, Person.active.is_(True))
        )
        or 0
    )


def still_manages(person: Person, reports: int) -> str:
    """The refusal in English, for SCIM's `detail` (protocol text, not translated); the
    person's page says it in the reader's language (`deactivate_person`)."""
    return f"{person.name} still manages {reports} active people: give them another manager first"


def deactivate_person(actor: Person, person: Person) -> None:
    if person.id == actor.id:
        raise PeopleError(gettext("you cannot deactivate your own account"))
    if not person.active:
        raise PeopleError(gettext("%(name)s is already deactivated", name=person.name))
    reports = active_reports(person)
    if reports:
        raise PeopleError(
            ngettext(
                "%(name)s still manages %(num)d active person: give them another manager first",
                "%(name)s still manages %(num)d active people: give them another manager first",
                reports,
                name=person.name,
            )
        )
    person.active = False
    person.deactivated_at = utcnow()
    person.session_version += 1
    db.session.flush()
    record("person.deactivated", actor=actor, subject=person)


def reactivate_person(actor: Person, person: Person) -> None:
    if person.active:
        raise PeopleError(gettext("%(name)s is already active", name=person.name))
    if person.manager is not None and not person.manager.active:
        raise PeopleError(
            gettext(
                "%(name)s's manager %(manager)s is deactivated: choose another manager first",
                name=person.name,
                manager=person.manager.name,
            )
        )
    person.active = True
    person.deactivated_at = None
    db.session.flush()
    record("person.reactivated", actor=actor, subject=person)


def find_person(text: str) -> Person | None:
    """Look someone up by exact email or exact name (for manager fields)."""
    text = text.strip()
    if not text:
        return None
    matches = db.session.scalars(
        select(Person).where(
            or_(Person.email == text.lower(), func.lower(Person.name) == text.lower())
        )
    ).all()
    return matches[0] if len(matches) == 1 else None
