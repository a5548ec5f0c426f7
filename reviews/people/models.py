"""Departments and people: the org chart every review hangs from."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    column,
    false,
    func,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.framework.models import Level
from reviews.languages import lazy_gettext
from reviews.people import headcount, paths


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR = "hr"


class Source(enum.StrEnum):
    """Where a person's record is kept: what changes it (the people page shows it)."""

    LOCAL = "local"  # created and edited in Reviews (the person form, the demo)
    CSV = "csv"  # the org chart import
    SCIM = "scim"  # the identity provider's provisioning (/scim/v2)
    SSO = "sso"  # created on first single sign-on (just-in-time)

    @property
    def label(self) -> str:
        return str(_SOURCE_LABELS[self])


_SOURCE_LABELS = {
    Source.LOCAL: lazy_gettext("By hand in Reviews"),
    Source.CSV: lazy_gettext("Org chart import (CSV)"),
    Source.SCIM: lazy_gettext("Identity provider (SCIM)"),
    Source.SSO: lazy_gettext("Single sign-on (first sign-in)"),
}


class Department(Base):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # its active people, kept by triggers on person (reviews.people.headcount)
    active_people: Mapped[int] = mapped_column(default=0, server_default=text("0"))


# Active people without a password, and without a level (HR admins aside): HR's home
# counts them (reviews.home) from partial indexes on these very predicates, written
# with no bound parameter so that the planner can match them to the indexes'.
ACTIVE_NO_PASSWORD = (column("active") == true(), column("password_hash").is_(None))
ACTIVE_NO_LEVEL = (
    column("active") == true(),
    column("level_id").is_(None),
    column("role") != literal_column(f"'{Role.HR.value}'"),
)


class Person(UserMixin, Base):  # type: ignore[misc]  # flask_login is untyped
    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="not_own_manager"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        # the directory a page at a time by name (keyset: after a name and id)
        Index("ix_person_active_name", "active", "name", "id"),
        # HR's completion by manager by name, a page at a time: every frozen manager,
        # active or not, walked in (name, id) order (reviews.reports.managers)
        Index("ix_person_name_id", "name", "id"),
        # someone's active reports by name (home page, org chart): with only
        # (active, name) to choose from, SQLite read every active person in name
        # order to find a manager's seven
        Index("ix_person_manager_active_name", "manager_id", "active", "name"),
        # everyone below a manager: one range of paths (reviews.people.paths)
        Index("ix_person_org_path", "org_path"),
        # a colleague named in a field by full name, any case (reviews.people.lookup):
        # one probe, not a read of everyone (80 ms at 100,000 people)
        Index("ix_person_lower_name", func.lower(column("name"))),
        # HR's home counts these up to a limit (reviews.home): each its own small
        # index, not a read of everyone
        Index(
            "ix_person_no_password",
            "id",
            postgresql_where=and_(*ACTIVE_NO_PASSWORD),
            sqlite_where=and_(*ACTIVE_NO_PASSWORD),
        ),
        Index(
            "ix_person_no_level",
            "id",
            postgresql_where=and_(*ACTIVE_NO_LEVEL),
            sqlite_where=and_(*ACTIVE_NO_LEVEL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("level.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # "/1/5/27/": the ids down the line to this person, kept by triggers from
    # manager_id (reviews.people.paths); never written by the application
    org_path: Mapped[str | None] = mapped_column(
        Text().with_variant(Text(collation="C"), "postgresql")
    )
    role: Mapped[Role] = mapped_column(
        string_enum(Role, "role"),
        default=Role.EMPLOYEE,
    )
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of the session id: bumping it signs the person out everywhere.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the person chose for pages, e-mails and PDFs (a locale code such as
    # "de"); None follows the browser, then the deployment's default (reviews.languages).
    locale: Mapped[str | None] = mapped_column(String(35))
    # Whether notifications are mailed to this person too, or kept in the app only.
    mail_notifications: Mapped[bool] = mapped_column(default=True, server_default=true())
    # What last provisioned this record, and when (None: never provisioned, only edited here).
    source: Mapped[Source] = mapped_column(
        string_enum(Source, "person_source"), default=Source.LOCAL, server_default="local"
    )
    provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The identity provider's own id for the person (SCIM externalId), when it sent one.
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Deleted through SCIM: kept (reviews hold them) and deactivated, but gone from /scim/v2.
    scim_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider removed `active` (PATCH remove): the person stays as they were, and
    # /scim/v2 shows `active` absent, as the provider left it, until it is set again.
    scim_active_unset: Mapped[bool] = mapped_column(default=False, server_default=false())

    department: Mapped[Department | None] = relationship()
    level: Mapped[Level | None] = relationship()
    manager: Mapped[Person | None] = relationship(remote_side=[id])

    # Flask-Login
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_hr(self) -> bool:
        return self.role == Role.HR

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def __repr__(self) -> str:
        return f"<Person {self.email}>"


paths.install(Person.__table__)  # type: ignore[arg-type]
headcount.install(Person.__table__)  # type: ignore[arg-type]
