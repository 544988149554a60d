"""Behind a reverse proxy (the scaled deployment, docs/operations.md): trust the X-Forwarded-*
headers of that many proxies, so that rate limits, join records and redirects see the
visitor's address and scheme instead of the proxy's."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Wrap the WSGI app in ProxyFix when PROXY_COUNT (the proxies in front) is above 0."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=count, x_port=count)
