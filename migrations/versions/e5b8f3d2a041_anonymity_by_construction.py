"""Anonymity by construction: the threshold of anonymous cycles, and the audit log

- An anonymous cycle needs a threshold of at least 3 (a CHECK constraint); cycles
  that had 1 or 2 get 3, so fewer peers than that are never told apart.
- The audit log no longer pairs a peer with the person they reviewed where the cycle
  hides authors from HR, nor a report with the manager they rated: those events
  (`part.submitted` of peer feedback in such cycles, `upward.submitted`) are removed,
  and one `audit.redacted` event per cycle says how many and why.
- People in event details are ids, not emails (`reviewer`, `author`, the export
  job's `scope`), so that anonymising a person needs no rewriting of the log.

Revision ID: e5b8f3d2a041
Revises: d4a7e2c19b30
Create Date: 2026-12-04 16:00:00

"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "e5b8f3d2a041"
down_revision = "d4a7e2c19b30"
branch_labels = None
depends_on = None

cycle = sa.table(
    "cycle",
    sa.column("id", sa.Integer),
    sa.column("peer_anonymous", sa.Boolean),
    sa.column("peer_names_to_managers", sa.Boolean),
    sa.column("anonymity_threshold", sa.Integer),
)
event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("event", sa.String),
    sa.column("subject_id", sa.Integer),
    sa.column("cycle_id", sa.Integer),
    sa.column("details", sa.JSON),
)
person = sa.table("person", sa.column("id", sa.Integer), sa.column("email", sa.String))
REASON = (
    "the event paired a peer or a report with the person they wrote about, which this "
    "cycle keeps from HR"
)
# details key holding an email -> the key of the id that replaces it
EMAIL_DETAILS = {"reviewer": "reviewer_id", "author": "author_id", "scope": "scope_manager_id"}


def _details(value):
    if isinstance(value, str):
        return json.loads(value)
    return dict(value or {})


def upgrade():
    conn = op.get_bind()
    conn.execute(
        cycle.update()
        .where(cycle.c.peer_anonymous.is_(True), cycle.c.anonymity_threshold < 3)
        .values(anonymity_threshold=3)
    )
    with op.batch_alter_table("cycle") as batch:
        batch.create_check_constraint(
            "anonymous_threshold", "NOT peer_anonymous OR anonymity_threshold >= 3"
        )

    hidden = set(
        conn.execute(
            sa.select(cycle.c.id).where(
                cycle.c.peer_anonymous.is_(True), cycle.c.peer_names_to_managers.is_(False)
            )
        ).scalars()
    )
    removed: dict[int | None, int] = {}
    rows = conn.execute(
        sa.select(event.c.id, event.c.event, event.c.cycle_id, event.c.details).where(
            event.c.event.in_(["part.submitted", "upward.submitted"])
        )
    ).all()
    for event_id, name, cycle_id, details in rows:
        peer_in_hidden = (
            name == "part.submitted"
            and _details(details).get("part") == "peer"
            and cycle_id in hidden
        )
        if name == "upward.submitted" or peer_in_hidden:
            conn.execute(event.delete().where(event.c.id == event_id))
            removed[cycle_id] = removed.get(cycle_id, 0) + 1
    now = datetime.now(UTC).replace(tzinfo=None)
    for cycle_id, n in removed.items():
        conn.execute(
            event.insert().values(
                at=now,
                actor_id=None,
                event="audit.redacted",
                subject_id=None,
                cycle_id=cycle_id,
                details={"removed": n, "reason": REASON},
            )
        )

    ids = dict(conn.execute(sa.select(person.c.email, person.c.id)).all())
    rows = conn.execute(sa.select(event.c.id, event.c.details)).all()
    for event_id, details in rows:
        found = _details(details)
        changed = False
        for key, id_key in EMAIL_DETAILS.items():
            value = found.get(key)
            if isinstance(value, str) and "@" in value:
                found.pop(key)
                if value in ids:
                    found[id_key] = ids[value]
                changed = True
        if changed:
            conn.execute(event.update().where(event.c.id == event_id).values(details=found))


def downgrade():
    # Removed events cannot come back; ids stay ids (both readers accept them).
    with op.batch_alter_table("cycle") as batch:
        batch.drop_constraint("anonymous_threshold", type_="check")
