# Vmeste hub: `make run` serves the app, `make test` runs every test. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := hub
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PG_LOG := .pytest-postgresql.log

.PHONY: run test lint translations install demo worker chromium icaljs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

# Mozilla's ical.js, the independent iCalendar parser of tests/calendar (npm ci from the lock file).
ICALJS := tests/calendar/js
$(ICALJS)/node_modules/.package-lock.json: $(ICALJS)/package.json $(ICALJS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; } || \
	      echo "WARNING: could not install node: the ical.js checks will be skipped"; \
	    else echo "node/npm are not installed and we are not root: the ical.js checks will be skipped"; fi; }
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix $(ICALJS) --no-audit --no-fund --loglevel=error; fi

icaljs: $(ICALJS)/node_modules/.package-lock.json

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations >/dev/null

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000 --no-reload

worker: install
	$(BIN)/flask outbox work

demo: install
	$(BIN)/flask demo

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	      echo "WARNING: could not install chromium: browser tests will be skipped"; \
	    else echo "chromium is not installed and we are not root: browser tests will be skipped"; fi; }

# The SQLite run (with the browser tests) and, when PostgreSQL answers, the PostgreSQL run go
# side by side: each is one process, and the machine has cores for both. The PostgreSQL run's
# output follows the SQLite run's.
test: install icaljs chromium
	$(BIN)/ruff check .
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $(BIN)/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
	  echo "== the suite on SQLite, and at the same time on PostgreSQL ($(PG_TEST_URL)) =="; \
	  HUB_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -m "not e2e" -p no:cacheprovider > $(PG_LOG) 2>&1 & pg=$$!; \
	  sqlite=0; $(BIN)/python -m pytest -q || sqlite=$$?; \
	  postgres=0; wait $$pg || postgres=$$?; \
	  echo "== the suite on PostgreSQL ($(PG_TEST_URL)) =="; cat $(PG_LOG); \
	  test $$sqlite = 0 && test $$postgres = 0; \
	else echo "PostgreSQL is not reachable on 127.0.0.1:5432: the suite runs on SQLite only"; \
	  $(BIN)/python -m pytest -q; fi

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache $(PG_LOG)
