"""The WSGI entry point for a production server: `gunicorn -k gevent -w 1 hub.wsgi:app`
(HUB_CONFIG and the other settings come from the environment; see README)."""

from hub import create_app

app = create_app()
