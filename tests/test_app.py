"""The app factory, configuration and health check."""

import pytest

from config import ConfigError, ProductionConfig
from hub import create_app


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize(
    "secret", [None, "", "dev", "changeme", "dev-secret-key-not-for-production"]
)
def test_production_refuses_missing_or_default_secret(secret):
    env = {"DATABASE_URL": "postgresql://hub@db/hub"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig(env)


def test_production_reads_environment():
    config = ProductionConfig({
        "SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://hub@db/hub",
        "BASE_URL": "https://hub.example.ru/", "SMTP_HOST": "smtp.example.ru", "SMTP_PORT": "465",
        "SOCKETIO_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
    })
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://hub@db/hub"
    assert config.BASE_URL == "https://hub.example.ru"
    assert (config.SMTP_HOST, config.SMTP_PORT) == ("smtp.example.ru", 465)
    assert config.SOCKETIO_MESSAGE_QUEUE == "redis://127.0.0.1:6379/0"
    assert config.SESSION_COOKIE_SECURE is True


def test_production_reads_the_proxy_and_outbox_timings_from_the_environment():
    base = {"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://hub@db/hub"}
    config = ProductionConfig({**base, "PROXY_COUNT": "1", "OUTBOX_LEASE_SECONDS": "60",
                               "OUTBOX_BACKOFF_SECONDS": "5", "OUTBOX_MAX_ATTEMPTS": "12"})
    assert (config.PROXY_COUNT, config.OUTBOX_LEASE_SECONDS, config.OUTBOX_BACKOFF_SECONDS,
            config.OUTBOX_MAX_ATTEMPTS) == (1, 60.0, 5.0, 12)
    assert ProductionConfig(base).PROXY_COUNT == 0
    with pytest.raises(ConfigError, match="OUTBOX_LEASE_SECONDS must be a number"):
        ProductionConfig({**base, "OUTBOX_LEASE_SECONDS": "a minute"})


@pytest.mark.parametrize("count, seen", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_visitors_address_comes_from_the_proxy_only_when_one_is_configured(count, seen):
    """Behind the proxy, rate limits and join records see the visitor, not the proxy."""
    from flask import Flask, request

    from hub.core.proxy import trust_proxies

    app = Flask(__name__)
    app.config["PROXY_COUNT"] = count
    app.add_url_rule("/ip", "ip", lambda: f"{request.remote_addr} {request.scheme}")
    trust_proxies(app)
    answer = app.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.7",
                                                   "X-Forwarded-Proto": "https"})
    assert answer.text == f"{seen} {'https' if count else 'http'}"


def test_production_app_has_no_dev_mail(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-long-and-random-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    app = create_app("production")
    assert not any(rule.rule.startswith("/dev/mail") for rule in app.url_map.iter_rules())


@pytest.mark.parametrize("path", ["/people/99999999999999999999", "/organisations/2147483648",
                                  "/networks/99999999999999999999/plan"])
def test_ids_too_large_for_the_database_are_not_found(client, people, login_as, path):
    login_as(people.municipal)
    assert client.get(path).status_code == 404


def test_a_request_that_finds_no_free_database_connection_is_refused_quickly(tmp_path):
    """With every connection of the pool taken, a page answers 503 "busy" after
    DATABASE_POOL_TIMEOUT instead of waiting and failing with a 500."""
    from hub.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'busy.sqlite3'}",
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0,
                                                "pool_timeout": 0.1})
    with app.app_context():
        db.create_all()
        held = db.engine.connect()  # the only connection
        try:
            response = app.test_client().get("/events/1.ics")
            page = app.test_client().get("/events/1.ics", headers={"Accept": "text/html"})
        finally:
            held.close()
        assert response.status_code == 503
        assert "busy" in page.get_data(as_text=True)
        assert app.test_client().get("/events/1.ics").status_code == 404  # free again


def test_sqlite_connections_use_the_write_ahead_log(tmp_path):
    """Readers and the writer of the embedded deployment's database do not wait for each
    other (docs/operations.md)."""
    from sqlalchemy import create_engine, text

    import hub.extensions  # noqa: F401 - registers the set-up

    engine = create_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()
