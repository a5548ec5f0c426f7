"""PostgreSQL connections tell the planner that random reads are cheap (PG_RANDOM_PAGE_COST)."""

from __future__ import annotations

import pytest
from conftest import PG_URL
from sqlalchemy import text

from reviews import create_app
from reviews.config import ConfigError
from reviews.extensions import db

postgresql_only = pytest.mark.skipif(not PG_URL, reason="a PostgreSQL planner setting")


def _page_cost(app) -> tuple[str, str]:
    """The connection's setting and the server's own."""
    with app.app_context():
        try:
            return (
                str(db.session.scalar(text("SHOW random_page_cost"))),
                str(
                    db.session.scalar(
                        text("SELECT reset_val FROM pg_settings WHERE name = 'random_page_cost'")
                    )
                ),
            )
        finally:
            db.session.remove()
            db.engine.dispose()


@postgresql_only
def test_every_connection_uses_the_configured_page_cost(app):
    assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"
    db.session.rollback()  # the setting outlives a rolled-back transaction
    assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"


@postgresql_only
def test_an_operator_sets_another_cost_or_keeps_the_servers(app_config, monkeypatch):
    monkeypatch.setenv("PG_RANDOM_PAGE_COST", "2")
    assert _page_cost(create_app(app_config))[0] == "2"
    monkeypatch.setenv("PG_RANDOM_PAGE_COST", "")
    mine, servers = _page_cost(create_app(app_config))
    assert mine == servers


@pytest.mark.parametrize("raw", ["cheap", "0", "-1", "1e9"])
def test_a_bad_page_cost_stops_start_up(app_config, monkeypatch, raw):
    monkeypatch.setenv("PG_RANDOM_PAGE_COST", raw)
    with pytest.raises(ConfigError, match="PG_RANDOM_PAGE_COST must be a number above 0"):
        create_app(app_config)
