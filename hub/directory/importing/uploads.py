"""Stored uploads: the file waits server-side between the preview and the confirmation.

Each upload is a folder under instance/imports/ named by a random token (the only thing the
client sees), holding the file and its meta.json; the token is tied to the uploader.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from hub.directory.importing.applying import ImportResult
from hub.directory.importing.settings import DEFAULT_UPLOAD_TTL, setting

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class StoredUpload:
    token: str
    owner_id: int
    filename: str
    size: int
    created_at: str
    expires_at: str
    default_organisation_id: int | None = None
    #: "pending" until imported, then "done" with the result.
    status: str = "pending"
    result: dict[str, Any] | None = None
    bad_lines: list[str] = field(default_factory=list)

    @property
    def expired(self) -> bool:
        return datetime.fromisoformat(self.expires_at) <= datetime.now(UTC)


def uploads_root() -> Path:
    return Path(current_app.instance_path) / "imports"


def _upload_dir(root: Path, token: str) -> Path | None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    return root / token


def save_upload(data: bytes, *, owner_id: int, filename: str,
                default_organisation_id: int | None = None, root: Path | None = None,
                ttl: timedelta | None = None) -> StoredUpload:
    """Keep an uploaded file under a fresh random token, readable by the server only."""
    root = root or uploads_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_expired_uploads(root)
    ttl = ttl or setting("IMPORT_UPLOAD_TTL", DEFAULT_UPLOAD_TTL)
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(24)  # 32 characters
    directory = root / token
    directory.mkdir(mode=0o700)
    _write_private(directory / "data", data)
    upload = StoredUpload(
        token=token, owner_id=owner_id, filename=_safe_filename(filename), size=len(data),
        created_at=now.isoformat(), expires_at=(now + ttl).isoformat(),
        default_organisation_id=default_organisation_id)
    _write_meta(directory, upload)
    return upload


def load_upload(token: str, *, owner_id: int, root: Path | None = None) -> StoredUpload | None:
    """The upload of this token if it belongs to `owner_id` and has not expired."""
    directory = _upload_dir(root or uploads_root(), token)
    if directory is None:
        return None
    try:
        meta = json.loads((directory / "meta.json").read_text("utf-8"))
        upload = StoredUpload(**meta)
    except (OSError, ValueError, TypeError):
        return None
    if upload.token != token or upload.owner_id != owner_id or upload.expired:
        return None
    return upload


def read_upload(upload: StoredUpload, root: Path | None = None) -> bytes | None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    try:
        return (directory / "data").read_bytes() if directory else None
    except OSError:
        return None


def claim_upload(upload: StoredUpload, root: Path | None = None) -> bool:
    """True for the one request that may import this upload now (double clicks, two tabs)."""
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is None:
        return False
    try:
        os.close(os.open(directory / "importing", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def release_upload(upload: StoredUpload, root: Path | None = None) -> None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is not None:
        (directory / "importing").unlink(missing_ok=True)


def finish_upload(upload: StoredUpload, result: ImportResult, bad_lines: list[str],
                  root: Path | None = None) -> None:
    """Remember the result (for the result page) and delete the file itself."""
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is None:
        return
    upload.status = "done"
    upload.result = result.as_dict()
    upload.bad_lines = bad_lines[:1000]
    _write_meta(directory, upload)
    (directory / "data").unlink(missing_ok=True)
    (directory / "importing").unlink(missing_ok=True)


def discard_upload(upload: StoredUpload, root: Path | None = None) -> None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def sweep_expired_uploads(root: Path | None = None) -> int:
    """Delete uploads past their expiry; returns how many."""
    root = root or uploads_root()
    removed = 0
    if not root.is_dir():
        return 0
    now = datetime.now(UTC)
    for directory in root.iterdir():
        if not _TOKEN.fullmatch(directory.name):
            continue
        try:
            meta = json.loads((directory / "meta.json").read_text("utf-8"))
            expired = datetime.fromisoformat(meta["expires_at"]) <= now
        except (OSError, ValueError, KeyError, TypeError):
            # A half-written upload: give it an hour before removing it.
            try:
                expired = (now.timestamp() - directory.stat().st_mtime) > 3600
            except OSError:
                continue
        if expired:
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    return removed


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base.strip()[:120] or "file"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_meta(directory: Path, upload: StoredUpload) -> None:
    temporary = directory / f"meta.{secrets.token_hex(4)}.tmp"
    _write_private(temporary, json.dumps(asdict(upload), ensure_ascii=False).encode("utf-8"))
    os.replace(temporary, directory / "meta.json")
