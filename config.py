"""Configuration classes: development (the embedded defaults), testing and production."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"

#: Secret keys that must never reach production (copied from examples or the dev config).
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "test", "testing",
     "dev-secret-key-not-for-production", "testing-secret"}
)


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = "dev-secret-key-not-for-production"
    BASE_URL = "http://127.0.0.1:5000"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE / 'hub.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    IMPORT_MAX_BYTES = 5 * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
    LANGUAGES = ("ru", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    #: Strict-Transport-Security sent on every response (hub/core/security_headers.py); only
    #: production sets it, since development and tests run on plain http.
    STRICT_TRANSPORT_SECURITY = ""

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    SIGNIN_LINK_MINUTES = 15
    PASSWORD_RESET_MINUTES = 60

    MAIL_FROM = "Vmeste hub <no-reply@vmeste.local>"
    SMTP_HOST = ""
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_SSL = False
    SMTP_TIMEOUT = 20
    #: Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    PROXY_COUNT = 0
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BACKOFF_SECONDS = 30
    OUTBOX_LEASE_SECONDS = 300
    OUTBOX_POLL_SECONDS = 2.0
    #: Run the outbox worker as a background thread inside the web process.
    OUTBOX_WORKER_IN_PROCESS = False
    #: Show sent mail at /dev/mail (never in production).
    DEV_MAIL = False

    SOCKETIO_MESSAGE_QUEUE = ""
    #: "threading" (flask run, the embedded default) or "gevent" (gunicorn -k gevent; see
    #: docs/board.md for why production uses it). Never left to auto-detection: gevent is
    #: installed, and picking it under a server that does not run gevent would hang.
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")

    #: The live board (docs/board.md): size limits, per-person rate limits, how socket
    #: clients catch up, and how often reaction counts and heads are sent.
    BOARD_POST_MAX_CHARS = 5000
    BOARD_COMMENT_MAX_CHARS = 1000
    BOARD_IMAGE_MAX_BYTES = 8 * 1024 * 1024
    BOARD_POST_LIMIT = os.environ.get("BOARD_POST_LIMIT", "10 per minute;100 per hour")
    BOARD_REACTION_LIMIT = os.environ.get("BOARD_REACTION_LIMIT", "60 per minute")
    BOARD_EVENT_LIMIT = os.environ.get("BOARD_EVENT_LIMIT", "20 per second")
    BOARD_SYNC_MAX_CHANGES = 500
    BOARD_FLUSH_SECONDS = 0.2
    BOARD_HEAD_SECONDS = 5.0

    #: Fernet keys for credentials stored in the database (hub/core/secrets.py), comma-separated.
    SETTINGS_ENCRYPTION_KEYS = os.environ.get("SETTINGS_ENCRYPTION_KEYS", "")
    #: Without keys, derive one from SECRET_KEY (development and tests only).
    SETTINGS_KEY_FROM_SECRET = True
    #: Conferencing: seconds for each request to a provider, and the retry back-off.
    CONFERENCING_TIMEOUT = 15.0
    CONFERENCING_BACKOFF_SECONDS = 30.0
    CONFERENCING_BACKOFF_MAX_SECONDS = 3600.0
    #: Provider API base URLs overriding the public ones ({"zoom": "http://127.0.0.1:8081"}).
    CONFERENCING_ENDPOINTS: dict[str, str] = {}

    #: Jitsi Meet server of the default conferencing provider, where an organisation names none.
    JITSI_BASE_URL = os.environ.get("JITSI_BASE_URL", "https://meet.jit.si")

    #: The personal join link (/j/<token>) lets people in from this many minutes before the
    #: start until the end; pages of the event report presence in the same window.
    JOIN_OPENS_MINUTES_BEFORE = 30
    #: How often one person may report presence on one event (each open page reports once a
    #: minute).
    PRESENCE_RATE_LIMIT = "12 per minute"

    #: The methodical bank: the largest file accepted (its upload form raises the request
    #: limit above MAX_CONTENT_LENGTH to this plus ARCHIVE_FORM_ALLOWANCE, for its routes only).
    ARCHIVE_MAX_BYTES = 100 * 1024 * 1024
    ARCHIVE_FORM_ALLOWANCE = 1024 * 1024
    #: Where files are kept: "local" (instance/materials) or "s3" (an S3-compatible store).
    ARCHIVE_STORAGE = "local"
    ARCHIVE_S3_BUCKET = ""
    #: Empty for AWS itself; e.g. https://storage.yandexcloud.net or a MinIO server's URL.
    ARCHIVE_S3_ENDPOINT_URL = ""
    ARCHIVE_S3_ACCESS_KEY = ""
    ARCHIVE_S3_SECRET_KEY = ""
    ARCHIVE_S3_REGION = ""


class DevelopmentConfig(Config):
    """`make run`: SQLite under instance/, mail kept in the outbox and shown at /dev/mail."""

    TEMPLATES_AUTO_RELOAD = True
    OUTBOX_WORKER_IN_PROCESS = True
    DEV_MAIL = True


class TestingConfig(Config):
    """pytest: a database given by the test fixtures, no background threads."""

    TESTING = True
    SECRET_KEY = "testing-secret"
    #: Tests read English messages; tests/test_i18n.py checks the Russian default separately.
    BABEL_DEFAULT_LOCALE = "en"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = True
    DEV_MAIL = True
    BASE_URL = "http://localhost"
    #: Reaction counts are sent at once, so socket tests see them without waiting.
    BOARD_FLUSH_SECONDS = 0.0


class ProductionConfig(Config):
    """Production: everything that differs between deployments comes from the environment."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    #: Browsers keep to https for a year after one visit (subdomains are left alone: they may
    #: be other services of the same education office).
    STRICT_TRANSPORT_SECURITY = "max-age=31536000"

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        secret = env.get("SECRET_KEY", "")
        if secret.strip().lower() in KNOWN_DEFAULT_SECRETS or len(secret) < 16:
            raise ConfigError(
                "SECRET_KEY is missing or is a known default. Set SECRET_KEY to a long random "
                'value, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if not env.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL is not set (e.g. postgresql://hub@db.example/hub).")
        self.SECRET_KEY = secret
        self.SQLALCHEMY_DATABASE_URI = database_url(env["DATABASE_URL"])
        # One connection per request or socket event at a time; under gevent many are in flight.
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": True, "pool_size": int(env.get("DATABASE_POOL_SIZE", "10")),
            "max_overflow": int(env.get("DATABASE_POOL_OVERFLOW", "20")),
            # Wait this long for a free connection, then refuse with "busy" (not after 30 s).
            "pool_timeout": float(env.get("DATABASE_POOL_TIMEOUT", "5"))}
        self.BASE_URL = env.get("BASE_URL", "").rstrip("/") or self.BASE_URL
        self.SMTP_HOST = env.get("SMTP_HOST", "")
        self.SMTP_PORT = int(env.get("SMTP_PORT", "587"))
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = env.get("SMTP_STARTTLS", "true").lower() in ("1", "true", "yes")
        self.SMTP_SSL = env.get("SMTP_SSL", "false").lower() in ("1", "true", "yes")
        self.MAIL_FROM = env.get("MAIL_FROM", self.MAIL_FROM)
        self.SOCKETIO_MESSAGE_QUEUE = env.get("SOCKETIO_MESSAGE_QUEUE", "")
        self.SOCKETIO_ASYNC_MODE = env.get("SOCKETIO_ASYNC_MODE", "gevent")
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.SETTINGS_ENCRYPTION_KEYS = env.get("SETTINGS_ENCRYPTION_KEYS", "")
        self.SETTINGS_KEY_FROM_SECRET = False
        self.JITSI_BASE_URL = env.get("JITSI_BASE_URL", self.JITSI_BASE_URL)
        self.STRICT_TRANSPORT_SECURITY = env.get("STRICT_TRANSPORT_SECURITY",
                                                 self.STRICT_TRANSPORT_SECURITY)
        self.OUTBOX_WORKER_IN_PROCESS = env.get("OUTBOX_WORKER_IN_PROCESS", "").lower() in (
            "1", "true", "yes")
        self._numbers(env, PROXY_COUNT=int, OUTBOX_BACKOFF_SECONDS=float,
                      OUTBOX_BACKOFF_MAX_SECONDS=float, OUTBOX_LEASE_SECONDS=float,
                      OUTBOX_POLL_SECONDS=float, OUTBOX_MAX_ATTEMPTS=int)
        self._archive_settings(env)

    def _numbers(self, env: Mapping[str, str], **kinds: type) -> None:
        """Numeric settings that the environment may override (the defaults are above)."""
        for name, kind in kinds.items():
            if env.get(name, "").strip():
                try:
                    setattr(self, name, kind(env[name]))
                except ValueError:
                    raise ConfigError(f"{name} must be a number, not {env[name]!r}.") from None

    def _archive_settings(self, env: Mapping[str, str]) -> None:
        """The methodical bank's file limit and store (ARCHIVE_*)."""
        try:
            self.ARCHIVE_MAX_BYTES = int(env.get("ARCHIVE_MAX_BYTES", self.ARCHIVE_MAX_BYTES))
        except ValueError:
            raise ConfigError("ARCHIVE_MAX_BYTES must be a number of bytes "
                              "(e.g. 104857600 for 100 MB).") from None
        self.ARCHIVE_STORAGE = env.get("ARCHIVE_STORAGE", self.ARCHIVE_STORAGE).lower()
        for name in ("BUCKET", "ENDPOINT_URL", "ACCESS_KEY", "SECRET_KEY", "REGION"):
            setattr(self, f"ARCHIVE_S3_{name}", env.get(f"ARCHIVE_S3_{name}", ""))
        if self.ARCHIVE_STORAGE not in ("local", "s3"):
            raise ConfigError("ARCHIVE_STORAGE must be local or s3.")
        if self.ARCHIVE_STORAGE == "s3" and not self.ARCHIVE_S3_BUCKET:
            raise ConfigError("ARCHIVE_STORAGE=s3 needs ARCHIVE_S3_BUCKET (and usually "
                              "ARCHIVE_S3_ENDPOINT_URL, ARCHIVE_S3_ACCESS_KEY, "
                              "ARCHIVE_S3_SECRET_KEY, ARCHIVE_S3_REGION).")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
