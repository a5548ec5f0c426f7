"""Reviews: performance reviews and growth plans for engineering organisations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

ROOT = Path(__file__).resolve().parent.parent


class DatabaseId(IntegerConverter):
    """`<int:...>` in URLs: ids past what the databases hold simply match no page."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from reviews.config import build_config

    instance = Path(os.environ.get("REVIEWS_INSTANCE_PATH") or ROOT / "instance")
    if test_config and "INSTANCE_PATH" in test_config:
        instance = Path(test_config["INSTANCE_PATH"])
    app = Flask(__name__, instance_path=str(instance), template_folder=str(ROOT / "templates"))
    app.config.update(build_config(instance, test_config))
    if app.config["REVIEWS_ENV"] == "production" and app.debug:
        from reviews.config import ConfigError

        raise ConfigError(
            "debug mode is on (FLASK_DEBUG or --debug): production never runs the debugger, "
            "which shows code and data and runs what it is sent"
        )
    app.url_map.converters["int"] = DatabaseId
    register_extensions(app)
    register_models()
    register_blueprints(app)
    register_web(app)
    register_security(app)
    register_cli(app)
    register_proxy(app)
    return app


def register_extensions(app: Flask) -> None:
    from reviews.db import json_loads
    from reviews.extensions import csrf, db, login_manager, migrate

    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_deserializer": json_loads, **options}
    db.init_app(app)
    register_planner_settings(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from reviews.auth.views import load_user, load_user_from_bearer, unauthorized

    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_bearer)
    login_manager.unauthorized_handler(unauthorized)


def register_planner_settings(app: Flask) -> None:
    """On PostgreSQL, tell the planner that a random page read costs little more
    than a sequential one (PG_RANDOM_PAGE_COST, 1.1 unless set; the server's
    default of 4 models spinning disks). Reviews' pages read a few hundred rows by
    index out of tables that fit in memory; at 4 the planner read the 50,000 parts
    of a cycle in full to find a calibration group's 2,400 (17 ms instead of 5)."""
    from sqlalchemy import event

    from reviews.extensions import db

    cost = app.config.get("PG_RANDOM_PAGE_COST")
    if not cost:
        return
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _set_page_cost(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {float(cost)}")
        dbapi_connection.commit()  # a SET in a transaction rolled back would be undone


def register_models() -> None:
    import reviews.api.models
    import reviews.audit.models
    import reviews.auth.models
    import reviews.calibration.models
    import reviews.cycles.models
    import reviews.feedback.models
    import reviews.framework.models
    import reviews.goals.models
    import reviews.growth.models
    import reviews.identity.models
    import reviews.jobs.models
    import reviews.notifications.models
    import reviews.people.models
    import reviews.review_templates.models
    import reviews.upward.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    import importlib

    # Modules that only add routes to the api blueprint.
    for module in ("between", "calibration", "cycles", "nominations", "results", "reviews"):
        importlib.import_module(f"reviews.api.{module}")
    from reviews.api.tokens import bp as tokens_bp
    from reviews.api.views import bp as api_bp
    from reviews.audit.views import bp as audit_bp
    from reviews.auth.views import bp as auth_bp
    from reviews.calibration.views import bp as calibration_bp
    from reviews.coach.views import bp as coach_bp
    from reviews.cycles.views import bp as cycles_bp
    from reviews.feedback.views import bp as feedback_bp
    from reviews.framework.views import bp as framework_bp
    from reviews.goals.views import bp as goals_bp
    from reviews.growth.views import bp as growth_bp
    from reviews.home import bp as home_bp
    from reviews.identity.oidc import bp as oidc_bp
    from reviews.identity.oidc import init_app as init_oidc
    from reviews.identity.saml import bp as saml_bp
    from reviews.jobs.views import bp as jobs_bp
    from reviews.notifications.views import bp as notifications_bp
    from reviews.people.views import bp as people_bp
    from reviews.reports.views import bp as reports_bp
    from reviews.review_templates.views import bp as templates_bp
    from reviews.scim.views import bp as scim_bp
    from reviews.upward.views import bp as upward_bp

    init_oidc(app)
    for bp in (
        home_bp,
        auth_bp,
        oidc_bp,
        saml_bp,
        scim_bp,
        people_bp,
        framework_bp,
        cycles_bp,
        templates_bp,
        calibration_bp,
        growth_bp,
        jobs_bp,
        coach_bp,
        api_bp,
        tokens_bp,
        reports_bp,
        notifications_bp,
        audit_bp,
        feedback_bp,
        goals_bp,
        upward_bp,
    ):
        app.register_blueprint(bp)


def register_web(app: Flask) -> None:
    from reviews import dates, languages
    from reviews.web import register

    languages.init_app(app)
    register(app)
    from reviews.documents.pdf import page_numbers_css

    app.add_template_global(page_numbers_css)
    dates.register(app)


def register_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from them."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )


def register_security(app: Flask) -> None:
    from reviews.security import register

    register(app)


def register_cli(app: Flask) -> None:
    from reviews.cli import register

    register(app)
