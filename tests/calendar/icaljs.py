"""Run Mozilla's ical.js (tests/calendar/js, installed by `make install` with npm ci) over
iCalendar bytes: an independent reading of what the hub writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

JS = Path(__file__).parent / "js"
SCRIPT = JS / "check.mjs"
MODULE = JS / "node_modules" / "ical.js" / "package.json"


def require_icaljs() -> str:
    """The node binary; skips (or fails in CI) with the reason when ical.js cannot run."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the independent ical.js check cannot run "
                    "(apt-get install nodejs npm, then make install)")
    if not MODULE.exists():
        message = ("ical.js is not installed in tests/calendar/js: run `make install` "
                   "(npm ci --prefix tests/calendar/js)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return node


def icaljs(*calendars: bytes) -> list[dict]:
    """What ical.js reads in each calendar (see check.mjs for the shape)."""
    node = require_icaljs()
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, data in enumerate(calendars):
            path = Path(folder) / f"calendar-{index}.ics"
            path.write_bytes(data)
            paths.append(str(path))
        result = subprocess.run([node, str(SCRIPT), *paths], capture_output=True, timeout=120,
                                cwd=JS, check=False)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return json.loads(result.stdout)


def instant(value: str | None) -> datetime | None:
    """ical.js's ISO string (UTC, with Z) as an aware datetime."""
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
