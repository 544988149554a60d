"""Uploaded files checked before they are kept: the size, the real type judged by the content
(never by the name or the browser's word), and a clean file name with the type's extension."""

from __future__ import annotations

import re
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree import ElementTree

import filetype
from flask_babel import LazyString, format_decimal
from flask_babel import lazy_gettext as _l

_CHUNK = 1024 * 1024
#: Kept in memory up to this size, then on disk.
_SPOOL_BYTES = 1024 * 1024
_HEAD = 8192
NAME_MAX = 255


@dataclass(frozen=True)
class FileType:
    """A type the bank accepts: what it is served as and the extension its name gets."""

    content_type: str
    extension: str
    aliases: tuple[str, ...] = ()


PDF = FileType("application/pdf", "pdf")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pptx")
DOC = FileType("application/msword", "doc")
XLS = FileType("application/vnd.ms-excel", "xls")
PPT = FileType("application/vnd.ms-powerpoint", "ppt")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods")
ODP = FileType("application/vnd.oasis.opendocument.presentation", "odp")
JPEG = FileType("image/jpeg", "jpg", ("jpeg", "jpe"))
PNG = FileType("image/png", "png")
GIF = FileType("image/gif", "gif")
WEBP = FileType("image/webp", "webp")
MP4 = FileType("video/mp4", "mp4", ("m4v",))
MOV = FileType("video/quicktime", "mov")

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_ODF = {t.content_type: t for t in (ODT, ODS, ODP)}
_OLE_STREAMS = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}
_BY_SNIFFED = {t.content_type: t for t in (JPEG, PNG, GIF, WEBP, MP4, MOV)}
_BY_SNIFFED["image/apng"] = PNG
_BY_SNIFFED["video/x-m4v"] = MP4

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                     b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!",
                     b"\x00asm", b"dex\n")
_MARKUP = re.compile(rb"^\s*<(!doctype|html|head|body|script|svg|\?xml|iframe|meta|!--)",
                     re.IGNORECASE)
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)


class UploadRejected(ValueError):
    """A file the bank does not keep; `message` (translatable) says why."""

    def __init__(self, message: LazyString, *, too_large: bool = False) -> None:
        super().__init__(str(message))
        self.message = message
        self.too_large = too_large


@dataclass
class CheckedUpload:
    """A file that passed: its bytes (a temporary file, positioned at 0), type, name and size."""

    file: BinaryIO
    type: FileType
    filename: str
    size: int

    def close(self) -> None:
        self.file.close()


def megabytes(size: int) -> LazyString:
    """A size in MB, one decimal at most, in the viewer's locale when shown."""
    return LazyString(format_decimal, round(size / 2**20, 1))


def _spool(stream: BinaryIO, max_bytes: int) -> tuple[BinaryIO, int]:
    """The stream copied to a temporary file, refused as soon as it passes max_bytes."""
    spooled = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (returned)
    size = 0
    try:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRejected(_l("The file is too large: at most %(limit)s MB.",
                                        limit=megabytes(max_bytes)), too_large=True)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled, size


def _not_accepted() -> UploadRejected:
    return UploadRejected(_l(
        "This type of file is not accepted. Upload a PDF, a Word, Excel or PowerPoint "
        "document, an OpenDocument file, a picture (JPEG, PNG, GIF, WebP) or an MP4 video."))


def _web_page() -> UploadRejected:
    return UploadRejected(_l(
        "Web pages (HTML) cannot be uploaded as files: add the page as a link instead."))


def _zip_type(file: BinaryIO) -> FileType:
    """OOXML (by [Content_Types].xml and its main part) or ODF (by its mimetype entry)."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                if mimetype in _ODF and "content.xml" in names:
                    return _ODF[mimetype]
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    root = ElementTree.fromstring(entry.read(_CHUNK))
                for override in root:
                    found = _OOXML_MAIN.get(override.get("ContentType", ""))
                    part = override.get("PartName", "").lstrip("/")
                    if found and part in names:
                        return found
                if any("macroEnabled" in (o.get("ContentType") or "") for o in root):
                    raise UploadRejected(_l(
                        "Documents with macros are not accepted: save it as .docx, .xlsx "
                        "or .pptx and upload again."))
    except (zipfile.BadZipFile, ElementTree.ParseError, OSError, EOFError, KeyError,
            ValueError) as error:
        if isinstance(error, UploadRejected):
            raise
        raise UploadRejected(_l("The file is damaged: save it again and retry.")) from None
    raise _not_accepted()


def _ole_stream_names(file: BinaryIO) -> set[str]:
    """Names in an OLE compound file's directory (legacy .doc, .xls, .ppt, but also .msi)."""
    file.seek(0)
    header = file.read(512)
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("sector size")
    size = 1 << shift
    per_sector = size // 4

    def sector(number: int) -> bytes:
        file.seek((number + 1) * size)
        return file.read(size)

    fat_sectors = list(struct.unpack_from("<109I", header, 0x4C))
    difat, difat_count = struct.unpack_from("<II", header, 0x44)
    for _ in range(min(difat_count, 1000)):
        if difat >= 0xFFFFFFFA:
            break
        entries = struct.unpack(f"<{per_sector}I", sector(difat))
        fat_sectors += entries[:-1]
        difat = entries[-1]
    fat: list[int] = []
    for number in fat_sectors[:struct.unpack_from("<I", header, 0x2C)[0]]:
        fat += struct.unpack(f"<{per_sector}I", sector(number))
    names: set[str] = set()
    current = struct.unpack_from("<I", header, 0x30)[0]
    for _ in range(10_000):
        if current >= len(fat) or current >= 0xFFFFFFFA:
            break
        data = sector(current)
        for offset in range(0, len(data) - 127, 128):
            length = struct.unpack_from("<H", data, offset + 0x40)[0]
            if 2 <= length <= 64:
                names.add(data[offset:offset + length - 2].decode("utf-16-le", "replace"))
        current = fat[current]
    return names


def _ole_type(file: BinaryIO) -> FileType:
    try:
        names = _ole_stream_names(file)
    except (struct.error, ValueError, OSError):
        raise UploadRejected(_l("The file is damaged: save it again and retry.")) from None
    for name, found in _OLE_STREAMS.items():
        if name in names:
            return found
    raise _not_accepted()


def sniff(file: BinaryIO) -> FileType:
    """The accepted type of the file's content; raises UploadRejected with the reason."""
    file.seek(0)
    head = file.read(_HEAD)
    file.seek(0)
    if head.startswith(_EXECUTABLE_MAGIC):
        raise UploadRejected(_l("Programs and scripts cannot be added to the bank."))
    if _MARKUP.match(head.lstrip(b"\xef\xbb\xbf")):
        raise _web_page()
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(file)
    if head.startswith(_OLE_MAGIC):
        return _ole_type(file)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in _BY_SNIFFED:
        return _BY_SNIFFED[kind.mime]
    if b"<script" in head.lower() or b"<html" in head.lower():
        raise _web_page()
    raise _not_accepted()


def clean_filename(name: str | None, extension: str, aliases: tuple[str, ...] = ()) -> str:
    """The base name only, without control or reserved characters, at most NAME_MAX long,
    ending in the real type's extension (kept as typed when it is the same type's)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = _RESERVED.sub("_", name).strip(" .")
    stem, dot, typed = name.rpartition(".")
    if not dot:
        stem, typed = name, ""
    if typed.lower() in (extension, *aliases):
        extension = typed
    stem = stem.strip(" .") or "material"
    if _WINDOWS_DEVICES.match(stem):
        stem = f"_{stem}"
    return f"{stem[:NAME_MAX - len(extension) - 1].rstrip(' .')}.{extension}"


def check_upload(stream: BinaryIO, filename: str | None, *, max_bytes: int) -> CheckedUpload:
    """Copy the upload to a temporary file and check it; raises UploadRejected."""
    file, size = _spool(stream, max_bytes)
    try:
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        found = sniff(file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return CheckedUpload(file=file, type=found, size=size,
                         filename=clean_filename(filename, found.extension, found.aliases))
