"""Vmeste hub: the application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import CONFIGS, Config, ConfigError
from hub.extensions import babel, csrf, db, limiter, login, migrate, socketio

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["create_app", "ConfigError"]


def _load_config(config: str | type[Config] | Config | None) -> Config | type[Config]:
    if config is None:
        config = os.environ.get("HUB_CONFIG", "development")
    if isinstance(config, str):
        try:
            config_class = CONFIGS[config]
        except KeyError:
            raise ConfigError(
                f"unknown HUB_CONFIG {config!r}; use one of {', '.join(CONFIGS)}"
            ) from None
        return config_class() if config == "production" else config_class
    return config


def create_app(config: str | type[Config] | Config | None = None, **overrides: Any) -> Flask:
    """Build the application. `config` is a name (development, testing, production) or a class."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(_load_config(config))
    if os.environ.get("DATABASE_URL") and not app.config.get("TESTING"):
        from config import database_url

        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(os.environ["DATABASE_URL"])
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO)

    from hub.core.proxy import trust_proxies
    from hub.core.routing import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter
    _init_extensions(app)
    _register_blueprints(app)
    trust_proxies(app)
    _register_cli(app)

    from hub.core.errors import register_error_handlers
    from hub.core.security_headers import register_security_headers
    from hub.core.templating import register_template_helpers

    register_error_handlers(app)
    register_security_headers(app)
    register_template_helpers(app)

    if app.config.get("OUTBOX_WORKER_IN_PROCESS") and not app.config.get("TESTING"):
        from hub.outbox.worker import start_background_worker

        start_background_worker(app)
    return app


def _init_extensions(app: Flask) -> None:
    from hub.core.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message_category = "info"
    socketio.init_app(app, message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE") or None,
                      async_mode=app.config["SOCKETIO_ASYNC_MODE"])
    # Import models so metadata (and Alembic autogenerate) sees every table.
    from hub import models  # noqa: F401
    from hub.auth import session  # noqa: F401  (registers the user loader)


def _register_blueprints(app: Flask) -> None:
    from hub.archive.views import bp as archive_bp
    from hub.attendance.views import bp as attendance_bp
    from hub.auth.views import bp as auth_bp
    from hub.board import events as board_events  # noqa: F401  (socket handlers)
    from hub.board import live as board_live
    from hub.board.views import bp as board_bp
    from hub.calendar.views import bp as calendar_bp
    from hub.conferencing.views import bp as conferencing_bp
    from hub.core.views import bp as core_bp
    from hub.directory.import_views import bp as import_bp
    from hub.directory.views import bp as directory_bp
    from hub.growth.views import bp as growth_bp
    from hub.outbox.views import bp as dev_mail_bp
    from hub.reports.views import bp as reports_bp
    from hub.scheduling.calendar_views import bp as calendar_views_bp
    from hub.scheduling.plan_views import bp as plan_bp
    from hub.scheduling.views import bp as scheduling_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(import_bp)
    app.register_blueprint(scheduling_bp)
    app.register_blueprint(plan_bp)
    app.register_blueprint(calendar_views_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(conferencing_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(growth_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(archive_bp)
    board_live.install()
    if app.config.get("DEV_MAIL"):
        app.register_blueprint(dev_mail_bp)


def _register_cli(app: Flask) -> None:
    from hub.cli import register_commands

    register_commands(app)
