"""Pictures uploaded to the board: checked by their content, decoded with guards against
decompression bombs, re-encoded without metadata, capped in size, with a thumbnail."""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from flask_babel import LazyString, format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps

#: Types accepted, recognised by the file's content (never by its name or the browser's word).
ACCEPTED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/apng": "PNG",
                  "image/gif": "GIF", "image/webp": "WEBP"}
#: Larger pictures are refused before they are decoded (a 40-megapixel RGBA image is 160 MB).
MAX_PIXELS = 40_000_000
#: The longest side of the stored picture.
MAX_SIDE = 2048
JPEG_QUALITY = 85
#: Every thumbnail is WebP (it keeps transparency).
THUMBNAIL_CONTENT_TYPE = "image/webp"
THUMBNAIL_QUALITY = 80

#: What Pillow raises on a damaged, truncated or hostile file.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


class ImageRejected(ValueError):
    """A file the board does not take as a picture; `message` (translatable) says why."""

    def __init__(self, message: LazyString) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProcessedImage:
    """A picture ready to store: re-encoded (JPEG or PNG) and its WebP thumbnail."""

    content_type: str
    width: int
    height: int
    data: bytes
    thumbnail: bytes


def _megabytes(size: int) -> LazyString:
    """A size in MB (MiB), one decimal at most, in the viewer's locale when shown."""
    return LazyString(format_decimal, round(size / 2**20, 1))


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ImageRejected(_l("The picture is too large: %(size)s MB; at most %(limit)s MB.",
                               size=_megabytes(len(data)), limit=_megabytes(max_bytes)))


def _pillow_format(data: bytes) -> str:
    """The Pillow format of a JPEG, PNG, GIF or WebP file, judged by its first bytes."""
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        raise ImageRejected(_l("This file is not a picture (JPEG, PNG, GIF or WebP)."))
    return ACCEPTED_TYPES[kind.mime]


def _damaged() -> ImageRejected:
    return ImageRejected(_l("The picture is damaged or incomplete: save it again and retry."))


def _too_many_pixels() -> ImageRejected:
    return ImageRejected(_l("The picture is too large: at most %(limit)s megapixels.",
                            limit=MAX_PIXELS // 1_000_000))


def _open(data: bytes, pillow_format: str) -> Image.Image:
    """The file opened (its header read, nothing decoded yet)."""
    try:
        return Image.open(io.BytesIO(data), formats=[pillow_format])
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except _DECODE_ERRORS:
        raise _damaged() from None


def _decode(data: bytes, pillow_format: str) -> Image.Image:
    """The first frame, decoded and turned upright; refuses bombs and damaged files."""
    image = _open(data, pillow_format)
    if image.width * image.height > MAX_PIXELS:
        raise _too_many_pixels()
    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except _DECODE_ERRORS:
        raise _damaged() from None


def _normalised(image: Image.Image) -> Image.Image:
    """RGBA if some pixel is transparent, else RGB (or L for greyscale); no metadata."""
    if image.mode.startswith("I"):  # 16-bit greyscale PNG: scaled, not clipped, to 8 bits
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.has_transparency_data:
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] == 255:
            image = image.convert("RGB")
    elif image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.info = {}
    return image


def _encode(image: Image.Image) -> tuple[str, bytes]:
    """PNG for a picture with transparency, JPEG otherwise (JPEG files stay JPEG)."""
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, "PNG", optimize=False)
        return "image/png", out.getvalue()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return "image/jpeg", out.getvalue()


def _thumbnail(image: Image.Image, thumb_px: int) -> bytes:
    small = image.copy()
    small.thumbnail((thumb_px, thumb_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def process_image(data: bytes, *, max_bytes: int, thumb_px: int = 480) -> ProcessedImage:
    """An uploaded file checked and re-encoded; raises ImageRejected with the reason."""
    _check_size(data, max_bytes)
    image = _normalised(_decode(data, _pillow_format(data)))
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    content_type, encoded = _encode(image)
    return ProcessedImage(content_type=content_type, width=image.width, height=image.height,
                          data=encoded, thumbnail=_thumbnail(image, thumb_px))
