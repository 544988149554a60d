"""Where the bank's files are kept: a folder under the instance path (the default) or an
S3-compatible store (ARCHIVE_STORAGE=s3 and the ARCHIVE_S3_* settings). Keys are random,
made by new_key(), never from anything a user typed."""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flask import current_app

#: What new_key() makes; LocalStorage refuses any other key, so no path can be smuggled in.
_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_CHUNK = 1024 * 1024


class StorageError(RuntimeError):
    """The store could not be reached or refused the operation."""


class StoredFileMissing(StorageError):
    """No file under this key."""


def new_key() -> str:
    """A fresh random key."""
    return secrets.token_urlsafe(24)


def _stream(data: bytes | BinaryIO) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, bytes | bytearray) else data


class Storage(Protocol):
    """A flat store of files by key."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files in a folder (two-letter subfolders), each written whole or not at all."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StoredFileMissing(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(_stream(data), out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def delete(self, key: str) -> None:
        if _KEY.match(key):
            self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except StoredFileMissing:
            return False


class S3Storage:
    """Objects in a bucket of an S3-compatible store (AWS, Yandex Object Storage, MinIO)."""

    def __init__(self, bucket: str, *, endpoint_url: str = "", access_key: str = "",
                 secret_key: str = "", region: str = "") -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None, region_name=region or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=10, read_timeout=60))

    def _call(self, method: str, key: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=key, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise StoredFileMissing(key) from None
            raise StorageError(f"{method} {key}: {code}") from error
        except BotoCoreError as error:
            raise StorageError(f"{method} {key}: {error}") from error

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_fileobj(_stream(data), self.bucket, key,
                                       ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:
            raise StorageError(f"put {key}: {error}") from error

    def open(self, key: str) -> BinaryIO:
        return self._call("get_object", key)["Body"]

    def delete(self, key: str) -> None:
        self._call("delete_object", key)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key)
        except StoredFileMissing:
            return False
        return True


def storage() -> Storage:
    """The store the app is configured with (made once per app and settings)."""
    config = current_app.config
    kind = (config.get("ARCHIVE_STORAGE") or "local").lower()
    settings = (kind, *(config.get(f"ARCHIVE_S3_{name}", "") for name in
                        ("BUCKET", "ENDPOINT_URL", "ACCESS_KEY", "SECRET_KEY", "REGION")),
                current_app.instance_path)
    cached = current_app.extensions.get("archive_storage")
    if cached is not None and cached[0] == settings:
        return cached[1]
    store: Storage
    if kind == "s3":
        if not config.get("ARCHIVE_S3_BUCKET"):
            raise StorageError("ARCHIVE_STORAGE=s3 needs ARCHIVE_S3_BUCKET")
        store = S3Storage(config["ARCHIVE_S3_BUCKET"],
                          endpoint_url=config.get("ARCHIVE_S3_ENDPOINT_URL", ""),
                          access_key=config.get("ARCHIVE_S3_ACCESS_KEY", ""),
                          secret_key=config.get("ARCHIVE_S3_SECRET_KEY", ""),
                          region=config.get("ARCHIVE_S3_REGION", ""))
    else:
        store = LocalStorage(Path(current_app.instance_path) / "materials")
    current_app.extensions["archive_storage"] = (settings, store)
    return store
