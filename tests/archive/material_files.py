"""Real files for the material tests, built in memory: PDF, OOXML, ODF, legacy OLE, pictures,
MP4, and the bad ones (programs, web pages); plus helpers to upload them through the form."""

from __future__ import annotations

import io
import struct
import zipfile
from functools import cache
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from fpdf import FPDF
from openpyxl import Workbook
from PIL import Image

_MAIN = "application/vnd.openxmlformats-officedocument.{}.main+xml"


@cache
def pdf() -> bytes:
    """A real one-page PDF (made once: it carries its creation time)."""
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Robotics in the kindergarten")
    return bytes(document.output())


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Группа", "Дети"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ooxml(main_type: str, part: str, *, with_part: bool = True) -> bytes:
    """A minimal OOXML package: [Content_Types].xml naming the main part, and the part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
            f'ContentType="application/xml"/><Override PartName="/{part}" '
            f'ContentType="{main_type}"/></Types>'))
        if with_part:
            archive.writestr(part, "<document/>")
    return out.getvalue()


def docx() -> bytes:
    return ooxml(_MAIN.format("wordprocessingml.document"), "word/document.xml")


def pptx() -> bytes:
    return ooxml(_MAIN.format("presentationml.presentation"), "ppt/presentation.xml")


def docm() -> bytes:
    return ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml")


def odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


def ole(*stream_names: str) -> bytes:
    """A minimal OLE compound file (512-byte sectors): a FAT sector, a directory sector with
    the root and the named streams (empty)."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))
    directory = bytearray()
    for number, (name, kind) in enumerate([("Root Entry", 5)] + [(n, 2) for n in stream_names]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[:len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", entry, 0x44, free, free, 1 if number == 0 and stream_names
                         else free)
        directory += entry
    directory += bytes(512 - len(directory) % 512 if len(directory) % 512 else 0)
    return bytes(header) + fat + bytes(directory)


def picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def mp4() -> bytes:
    return (struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00" + b"mp42isom"
            + struct.pack(">I", 8) + b"free")


ELF = b"\x7fELF\x02\x01\x01" + bytes(200)
MZ = b"MZ\x90\x00\x03" + bytes(200) + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
HTML_LATE = b"Lesson notes\n\n<p>See</p><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(client: FlaskClient, data: bytes, filename: str, url: str = "/materials/new",
           **fields: str):  # type: ignore[no-untyped-def]
    """POST the material form with a file."""
    form = {"kind": "file", "title": "Презентация «Bee-Bot»", "visibility": "2", **fields,
            "file": (io.BytesIO(data), filename)}
    return client.post(url, data=form, content_type="multipart/form-data")


def stored_files(app: Flask) -> list[Path]:
    """The files LocalStorage keeps (temporary ones included)."""
    root = Path(app.instance_path) / "materials"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
