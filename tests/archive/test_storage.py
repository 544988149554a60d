"""The stores of the bank's files: a folder under the instance path, and S3 for real against
moto's S3 server on loopback (skipped, saying why, when moto is not installed)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import ConfigError, ProductionConfig
from hub.archive.models import Material
from hub.archive.storage import (
    LocalStorage,
    S3Storage,
    StorageError,
    StoredFileMissing,
    new_key,
    storage,
)
from hub.extensions import db
from tests.archive import material_files as files
from tests.conftest import free_port


def test_keys_are_random_and_url_safe():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(k) == 32 and k.replace("-", "").replace("_", "").isalnum() for k in keys)


def test_local_storage_keeps_reads_and_deletes(tmp_path: Path):
    store = LocalStorage(tmp_path)
    key, other = new_key(), new_key()
    store.put(key, b"%PDF-1.4 bytes", "application/pdf")
    store.put(other, io.BytesIO(b"x" * 3_000_000), "video/mp4")
    assert store.exists(key) and store.exists(other)
    with store.open(key) as stream:
        assert stream.read() == b"%PDF-1.4 bytes"
    with store.open(other) as stream:
        assert len(stream.read()) == 3_000_000
    store.delete(key)
    store.delete(key)  # twice is fine
    assert not store.exists(key)
    with pytest.raises(StoredFileMissing):
        store.open(key)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [other]


def test_local_storage_refuses_keys_it_did_not_make(tmp_path: Path):
    store = LocalStorage(tmp_path / "materials")
    (tmp_path / "secret.txt").write_text("do not read")
    for key in ("../secret.txt", "../../etc/passwd", "a/b", "", "x" * 10):
        with pytest.raises(StoredFileMissing):
            store.open(key)
        with pytest.raises(StoredFileMissing):
            store.put(key, b"data", "text/plain")
        assert not store.exists(key)
        store.delete(key)
    assert (tmp_path / "secret.txt").read_text() == "do not read"


class Broken(io.RawIOBase):
    """A stream that fails half-way (a dropped upload)."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        buffer[:10] = b"0123456789"
        return 10


def test_local_storage_writes_whole_files_or_nothing(tmp_path: Path):
    store = LocalStorage(tmp_path)
    key = new_key()
    store.put(key, b"old version", "application/pdf")
    with pytest.raises(OSError, match="connection reset"):
        store.put(key, Broken(), "application/pdf")
    with store.open(key) as stream:
        assert stream.read() == b"old version"  # the earlier file is untouched
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [key]  # no temporary left


@pytest.mark.parametrize(("settings", "message"), [
    ({"ARCHIVE_STORAGE": "s3"}, "needs ARCHIVE_S3_BUCKET"),
    ({"ARCHIVE_STORAGE": "ftp"}, "local or s3"),
    ({"ARCHIVE_MAX_BYTES": "100MB"}, "number of bytes"),
])
def test_production_refuses_incomplete_store_settings(settings, message):
    environ = {"SECRET_KEY": "a-long-random-production-secret", "DATABASE_URL": "postgresql://h/d",
               **settings}
    with pytest.raises(ConfigError, match=message):
        ProductionConfig(environ)


def test_production_reads_the_store_settings():
    config = ProductionConfig({
        "SECRET_KEY": "a-long-random-production-secret", "DATABASE_URL": "postgresql://h/d",
        "ARCHIVE_STORAGE": "S3", "ARCHIVE_S3_BUCKET": "bank", "ARCHIVE_MAX_BYTES": "52428800",
        "ARCHIVE_S3_ENDPOINT_URL": "https://storage.yandexcloud.net"})
    assert (config.ARCHIVE_STORAGE, config.ARCHIVE_S3_BUCKET, config.ARCHIVE_MAX_BYTES) == (
        "s3", "bank", 50 * 1024 * 1024)
    assert config.ARCHIVE_S3_ENDPOINT_URL == "https://storage.yandexcloud.net"


def test_the_default_store_is_under_the_instance_folder(app):
    store = storage()
    assert isinstance(store, LocalStorage)
    assert store.root == Path(app.instance_path) / "materials"


# -- S3 ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port (real HTTP, the S3 API)."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed: pip install 'moto[server]>=5,<6'")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(app, s3_server, monkeypatch) -> dict[str, str]:  # type: ignore[no-untyped-def]
    settings = {"ARCHIVE_STORAGE": "s3", "ARCHIVE_S3_BUCKET": f"materials-{free_port()}",
                "ARCHIVE_S3_ENDPOINT_URL": s3_server, "ARCHIVE_S3_ACCESS_KEY": "testing",
                "ARCHIVE_S3_SECRET_KEY": "testing", "ARCHIVE_S3_REGION": "us-east-1"}
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    store = storage()
    assert isinstance(store, S3Storage)
    store.client.create_bucket(Bucket=settings["ARCHIVE_S3_BUCKET"])
    return settings


def test_s3_storage_keeps_reads_and_deletes(s3_settings):
    store = storage()
    key = new_key()
    store.put(key, io.BytesIO(b"%PDF-1.7 " + bytes(6 * 1024 * 1024)), "application/pdf")
    assert store.exists(key)
    head = store.client.head_object(Bucket=s3_settings["ARCHIVE_S3_BUCKET"], Key=key)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == 9 + 6 * 1024 * 1024
    stream = store.open(key)
    assert stream.read(9) == b"%PDF-1.7 "
    stream.close()
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(StoredFileMissing):
        store.open(key)


def test_s3_storage_reports_a_missing_bucket(s3_settings):
    store = S3Storage("no-such-bucket", endpoint_url=s3_settings["ARCHIVE_S3_ENDPOINT_URL"],
                      access_key="testing", secret_key="testing", region="us-east-1")
    with pytest.raises(StorageError):
        store.put(new_key(), b"data", "application/pdf")


def test_an_upload_and_its_download_go_through_s3(s3_settings, client, login_as, people):
    login_as(people.teacher)
    response = files.upload(client, files.pdf(), "Конспект занятия.pdf")
    assert response.status_code == 302
    material = db.session.scalar(db.select(Material))
    assert storage().exists(material.storage_key)
    download = client.get(f"/materials/{material.id}/download")
    assert download.status_code == 200
    assert download.data == files.pdf()
    assert client.post(f"/materials/{material.id}/delete").status_code == 302
    assert not storage().exists(material.storage_key)
