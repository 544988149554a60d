"""Uploaded pictures: judged by content, decoded safely, re-encoded without metadata."""

from __future__ import annotations

import dataclasses
import io
import random
import struct
import zipfile
import zlib

import pytest
from flask import Flask
from flask_babel import LazyString, force_locale
from PIL import Image, PngImagePlugin

from hub.board.images import (
    MAX_SIDE,
    THUMBNAIL_CONTENT_TYPE,
    ImageRejected,
    ProcessedImage,
    process_image,
)

MAX = 8 * 2**20
RED, BLUE = (255, 0, 0), (0, 0, 255)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def picture(mode: str = "RGB", size: tuple[int, int] = (120, 80), fmt: str = "PNG",
            colour: object = RED, **options: object) -> bytes:
    return encode(Image.new(mode, size, colour), fmt, **options)


#: Seeded, so that the same bytes are tried in every run (random bytes can make a picture).
GARBAGE = random.Random(20261203)


def noise(size: tuple[int, int], fmt: str) -> bytes:
    """A picture of random pixels: it does not compress, so a cut falls inside its data."""
    return encode(Image.frombytes("RGB", size, GARBAGE.randbytes(size[0] * size[1] * 3)), fmt)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG file whose header declares width × height pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def refusal(app: Flask, data: bytes, max_bytes: int = MAX) -> str:
    """The English message process_image refuses `data` with."""
    with pytest.raises(ImageRejected) as refused:
        process_image(data, max_bytes=max_bytes)
    assert isinstance(refused.value, ValueError)
    assert isinstance(refused.value.message, LazyString)
    with app.test_request_context(), force_locale("en"):
        return str(refused.value)


# -- accepted --------------------------------------------------------------------------------

def test_a_photo_is_turned_upright_and_loses_its_exif():
    photo = Image.new("RGB", (200, 100), BLUE)
    photo.paste(RED, (0, 0, 100, 100))  # the left half, stored sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    result = process_image(encode(photo, "JPEG", exif=exif.tobytes()), max_bytes=MAX)
    assert (result.content_type, result.width, result.height) == ("image/jpeg", 100, 200)
    upright = opened(result.data)
    assert upright.format == "JPEG" and upright.size == (100, 200)
    top, bottom = upright.getpixel((50, 20)), upright.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60  # red on top: the left half, turned
    assert bottom[2] > 200 and bottom[0] < 60
    assert "exif" not in upright.info and not dict(upright.getexif())


def test_a_png_with_transparency_stays_png():
    source = Image.new("RGBA", (120, 80), (255, 0, 0, 0))
    source.paste((0, 128, 0, 255), (0, 0, 60, 80))
    result = process_image(encode(source, "PNG"), max_bytes=MAX)
    assert result.content_type == "image/png"
    stored = opened(result.data)
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((100, 40))[3] == 0 and stored.getpixel((10, 40))[3] == 255
    thumb = opened(result.thumbnail)
    assert thumb.format == "WEBP" and thumb.mode == "RGBA"


def test_png_metadata_is_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Мария Попова, ул. Ленина 1")
    data = picture("RGBA", colour=(255, 0, 0, 100), pnginfo=info)
    assert "Author" in opened(data).info
    stored = opened(process_image(data, max_bytes=MAX).data)
    assert "Author" not in stored.info


def test_an_opaque_png_becomes_jpeg():
    result = process_image(picture("RGBA", colour=(10, 20, 30, 255)), max_bytes=MAX)
    assert result.content_type == "image/jpeg"
    assert opened(result.data).mode == "RGB"


def test_a_gif_with_transparency_becomes_png_and_an_opaque_one_jpeg():
    transparent = Image.new("P", (40, 30), 0)
    transparent.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    transparent.paste(1, (0, 0, 20, 30))
    result = process_image(encode(transparent, "GIF", transparency=0), max_bytes=MAX)
    assert result.content_type == "image/png"
    assert opened(result.data).getpixel((30, 10))[3] == 0
    assert process_image(picture(fmt="GIF"), max_bytes=MAX).content_type == "image/jpeg"


def test_an_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (40, 30), colour) for colour in (RED, BLUE, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = process_image(data, max_bytes=MAX)
    assert (result.width, result.height) == (40, 30)
    red, _, blue = opened(result.data).getpixel((20, 15))
    assert red > 200 and blue < 60


def test_webp_is_taken():
    opaque = process_image(picture(fmt="WEBP"), max_bytes=MAX)
    assert opaque.content_type == "image/jpeg"
    clear = process_image(picture("RGBA", fmt="WEBP", colour=(0, 0, 255, 60), lossless=True),
                          max_bytes=MAX)
    assert clear.content_type == "image/png"


def test_greyscale_cmyk_and_16_bit_pictures_keep_their_tones():
    grey = opened(process_image(picture("L", colour=128), max_bytes=MAX).data)
    assert grey.mode == "L" and abs(grey.getpixel((5, 5)) - 128) <= 2
    cmyk = opened(process_image(picture("CMYK", fmt="JPEG", colour=(0, 255, 255, 0)),
                                max_bytes=MAX).data)
    assert cmyk.mode == "RGB" and cmyk.getpixel((5, 5))[0] > 200
    deep = opened(process_image(picture("I;16", colour=40000), max_bytes=MAX).data)
    assert abs(deep.getpixel((5, 5)) - 40000 // 256) <= 2  # scaled, not clipped to white


def test_a_large_picture_is_scaled_down_with_a_thumbnail():
    result = process_image(picture(size=(3000, 1500), fmt="JPEG"), max_bytes=MAX)
    assert (result.width, result.height) == (MAX_SIDE, MAX_SIDE // 2)
    assert opened(result.data).size == (MAX_SIDE, MAX_SIDE // 2)
    thumb = opened(result.thumbnail)
    assert thumb.size == (480, 240) and thumb.format == "WEBP"
    assert THUMBNAIL_CONTENT_TYPE == "image/webp"
    small = process_image(picture(size=(300, 600)), max_bytes=MAX, thumb_px=100)
    assert opened(small.thumbnail).size == (50, 100)
    assert (small.width, small.height) == (300, 600)  # never enlarged


def test_the_result_cannot_be_changed():
    result = process_image(picture(), max_bytes=MAX)
    assert isinstance(result, ProcessedImage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.data = b""  # type: ignore[misc]


# -- refused ---------------------------------------------------------------------------------

NOT_A_PICTURE = "This file is not a picture (JPEG, PNG, GIF or WebP)."


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("cat.jpg", picture(fmt="JPEG"))
    return out.getvalue()


@pytest.mark.parametrize("data", [
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 500, id="windows-exe"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500, id="elf"),
    pytest.param(_zip(), id="zip"),
    pytest.param(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", id="pdf"),
    pytest.param("Просто текст, переименованный в .jpg".encode(), id="text"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', id="svg"),
    pytest.param(b"<html><script>alert(1)</script></html>", id="html"),
    pytest.param(picture(fmt="BMP"), id="bmp"),
    pytest.param(picture(fmt="TIFF"), id="tiff"),
    pytest.param(b"", id="empty"),
])
def test_what_is_not_a_picture_is_refused(app, data):
    assert refusal(app, data) == NOT_A_PICTURE


@pytest.mark.parametrize("data", [
    pytest.param(noise((300, 200), "JPEG")[:4000], id="truncated-jpeg"),
    pytest.param(noise((300, 200), "PNG")[:4000], id="truncated-png"),
    pytest.param(b"\xff\xd8\xff\xe0" + GARBAGE.randbytes(2000), id="jpeg-header-then-garbage"),
    pytest.param(b"GIF89a" + GARBAGE.randbytes(50), id="gif-header-then-garbage"),
])
def test_a_damaged_picture_is_refused(app, data):
    assert "damaged or incomplete" in refusal(app, data)


@pytest.mark.parametrize("size", [(100_000, 100_000), (8_000, 6_000)],
                         ids=["10-gigapixel", "48-megapixel"])
def test_a_decompression_bomb_is_refused_before_decoding(app, size):
    bomb = declared_png(*size)
    assert len(bomb) < 200
    assert refusal(app, bomb) == "The picture is too large: at most 40 megapixels."


def test_an_oversize_file_is_refused_with_the_limit_in_mb(app):
    data = picture(fmt="PNG") + b"\x00" * (3 * 2**19)
    assert refusal(app, data, max_bytes=2**20) == (
        "The picture is too large: 1.5 MB; at most 1 MB.")


def test_the_size_is_checked_before_anything_else(app):
    assert "too large" in refusal(app, b"MZ" + b"\x00" * 5000, max_bytes=1000)


def test_the_message_follows_the_language_it_is_shown_in(app):
    with pytest.raises(ImageRejected) as refused:
        process_image(b"\x00" * (5 * 2**19), max_bytes=2**21)
    with app.test_request_context(), force_locale("ru"):
        assert "2,5" in str(refused.value)
