"""Back up a populated database, damage it, restore it: everything is back."""

from __future__ import annotations

from pathlib import Path

import pytest
from cycle_helpers import launched_cycle
from sqlalchemy import delete, func, select, update

from reviews.audit.models import AuditEvent
from reviews.cycles.models import Assessment, Review
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Person, Role


def _contents() -> dict[str, list[tuple]]:
    db.session.commit()
    with db.engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(table.select()))
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def populated(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    for n in range(5):
        make_person(f"Engineer {n} — Zoë ✓", manager=boss)
    launched_cycle(hr, CycleState.PEER_FEEDBACK)
    assert db.session.scalar(select(func.count()).select_from(Review)) == 7
    return _contents()


def test_backup_then_restore_brings_every_row_back(app, runner, populated, tmp_path):
    target = tmp_path / "backups" / "nightly.bak"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.output
    assert target.stat().st_size > 0
    assert not list(target.parent.glob("*.partial"))

    # Damage: people renamed, answers gone, audit trail gone, a new person.
    db.session.execute(update(Person).values(name="overwritten"))
    db.session.execute(delete(Assessment).where(Assessment.kind == "peer"))
    db.session.execute(delete(AuditEvent))
    db.session.add(Person(name="Intruder", email="intruder@example.com", role=Role.EMPLOYEE))
    db.session.commit()
    assert _contents() != populated

    refused = runner.invoke(args=["restore", str(target)], input="n\n")
    assert refused.exit_code != 0
    assert _contents() != populated
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _contents() == populated


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(
    app, runner, populated, tmp_path
):
    target = tmp_path / "one.bak"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code == 1
    assert "exists already" in again.output
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"this is not a database backup" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code == 1
    assert "Error:" in result.output
    db.session.remove()
    assert _contents() == populated


def test_backup_without_a_path_goes_to_the_instance_folder(app, runner, populated):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    files = list(Path(app.instance_path).glob("backups/reviews-*"))
    assert len(files) == 1
