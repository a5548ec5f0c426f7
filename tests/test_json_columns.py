"""JSON columns are decoded fast (orjson) without making anything stored unreadable."""

from __future__ import annotations

import math

from sqlalchemy import select

from reviews.audit.models import AuditEvent
from reviews.db import json_loads
from reviews.extensions import db


def test_what_the_fast_decoder_refuses_is_still_read():
    assert json_loads(b'{"delivery": 4, "craft": 3}') == {"delivery": 4, "craft": 3}
    assert math.isnan(json_loads('{"x": NaN}')["x"])  # the standard library writes NaN
    assert json_loads("[18446744073709551616]") == [2**64]  # past 64 bits


def test_columns_read_through_the_decoder_on_both_databases(app):
    assert db.engine.dialect._json_deserializer is json_loads
    db.session.add(AuditEvent(event="test.json", details={"ratings": {"a": 1.5, "b": None}}))
    db.session.commit()
    db.session.expunge_all()
    stored = db.session.scalars(select(AuditEvent).where(AuditEvent.event == "test.json")).one()
    assert stored.details == {"ratings": {"a": 1.5, "b": None}}
