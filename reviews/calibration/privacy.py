"""Calibration: the ledger of changes to a person's final values, and sessions they ran or
whose org they head. Not in the person's export: the ledger says what calibration
replaced, which the person reads only as its result (SPEC 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from reviews.calibration.models import CalibrationChange, CalibrationSession
from reviews.cycles.models import Review
from reviews.extensions import db
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding

SYNC: dict[str, Any] = {"synchronize_session": False}


def _forget(f: Forgetting) -> None:
    reviews = select(Review.id).where(Review.subject_id == f.person.id)
    db.session.execute(
        update(CalibrationChange)
        .where(CalibrationChange.review_id.in_(reviews))
        .values(rationale=ANONYMISED_TEXT),
        execution_options=SYNC,
    )
    for session in db.session.scalars(
        select(CalibrationSession).where(CalibrationSession.manager_id == f.person.id)
    ):
        session.name = session.name.replace(f.name, f.person.name)


holding(
    "calibration",
    columns=(
        "calibration_change.actor_id",
        "calibration_session.opened_by_id",
        "calibration_session.manager_id",
    ),
    forget=_forget,
    keeps="Every change to final values (who, when, from, to) stays for the figures; the "
    "rationale written about the person goes; a session named after their org is renamed.",
)
