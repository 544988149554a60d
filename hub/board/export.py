"""A board's record for after the meeting: CSV for spreadsheets, a PDF, and the context of the
printable page. Everything works on the board's state dict (docs/board.md, "State"), never on
the database, so it exports exactly what the viewer may see.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import get_decimal_symbol
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from PIL import Image

from hub import ROOT
from hub.board.content import plain_text
from hub.board.models import PostState

#: The vendored DejaVu Sans (regular and bold; licence in DejaVu-LICENSE.txt): it has Cyrillic.
FONT_DIR = ROOT / "static" / "fonts"
FONT_FAMILY = "DejaVu"
#: Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M"

#: Card colours as the exports name them (models.COLOURS).
COLOUR_LABELS = {"white": _l("white"), "yellow": _l("yellow"), "green": _l("green"),
                 "blue": _l("blue"), "pink": _l("pink"), "purple": _l("purple"),
                 "orange": _l("orange")}

#: How each board sort orders posts: (the post's field, largest first); pinned posts lead.
_SORTS = {"manual": ("position", False), "newest": ("created_at", True),
          "liked": ("likes", True)}
_BLOCK_TAGS = {"p", "pre", "blockquote", "ul", "ol", "li", "h3", "h4"}

# fpdf2 subsets the font with fontTools, which logs every step at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Entry:
    """A post or a comment as exported: who, when (local time), plain text, sanitised HTML."""

    author: str
    when: str
    text: str
    html: str


@dataclass(frozen=True)
class ExportedPost:
    """A post of the state with its entry and its comments, oldest first."""

    post: dict[str, Any]
    entry: Entry
    comments: list[Entry]


@dataclass(frozen=True)
class ExportedSection:
    """A section's title (or "No section") and its posts in the board's order."""

    title: str
    posts: list[ExportedPost]


# -- from the state --------------------------------------------------------------------------

class _TextOfHtml(HTMLParser):
    """The text of sanitised HTML: a line per paragraph, list item or line break."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("• ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """Plain text of a post's or comment's sanitised HTML."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n", plain_text("".join(parser.parts))).strip()


def local_time(iso: str | None, timezone: str) -> str:
    """An ISO 8601 time of the state as "2026-11-22 14:05" in `timezone`."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).strftime(TIME_FORMAT)


def _text_of(item: Mapping[str, Any]) -> str:
    """The Markdown source when the state has it, else the text of the HTML."""
    if "body" in item:
        return plain_text(item["body"] or "").strip()
    return html_text(item.get("body_html") or "")


def _entry(item: Mapping[str, Any], author: str, timezone: str) -> Entry:
    """A post or comment of the state as exported."""
    return Entry(author=author, when=local_time(item.get("created_at"), timezone),
                 text=_text_of(item), html=item.get("body_html") or "")


def _post_author(post: Mapping[str, Any]) -> str:
    """The name shown; an anonymous post's author is never exported, moderators' copy too."""
    return _("Anonymous") if post.get("anonymous") else post.get("author_name") or ""


def _ordered(posts: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """Posts in the board's sort order, pinned ones first (both sorts are stable)."""
    field, reverse = _SORTS.get(sort, _SORTS["manual"])
    ordered = sorted(posts, key=itemgetter(field), reverse=reverse)
    return sorted(ordered, key=lambda post: bool(post.get("pinned")), reverse=True)


def _comments_by_post(state: Mapping[str, Any], timezone: str) -> dict[int, list[Entry]]:
    """The state's comments grouped by post, in the state's order (oldest first)."""
    comments: dict[int, list[Entry]] = {}
    for comment in state.get("comments", []):
        entry = _entry(comment, comment.get("author_name") or "", timezone)
        comments.setdefault(comment["post_id"], []).append(entry)
    return comments


def exported_sections(state: Mapping[str, Any], timezone: str) -> list[ExportedSection]:
    """Sections in order with their posts; posts without a section last, under "No section"."""
    comments = _comments_by_post(state, timezone)
    sort = state.get("board", {}).get("sort", "manual")
    posts = [ExportedPost(post=post, entry=_entry(post, _post_author(post), timezone),
                          comments=comments.get(post["id"], []))
             for post in _ordered(list(state.get("posts", [])), sort)]
    sections = sorted(state.get("sections", []), key=itemgetter("position", "id"))
    known = {section["id"] for section in sections}
    result = [ExportedSection(section["title"],
                              [p for p in posts if p.post.get("section_id") == section["id"]])
              for section in sections]
    loose = [p for p in posts if p.post.get("section_id") not in known]
    if loose:
        result.append(ExportedSection(_("No section"), loose))
    return result


def state_label(post: Mapping[str, Any]) -> str:
    """"published", "awaiting approval" or "hidden", translated."""
    return PostState[str(post.get("state", "published")).upper()].label


def _stars(post: Mapping[str, Any]) -> str:
    """The average of the stars given, in the viewer's locale ("" when nobody gave any)."""
    return format_decimal(post.get("stars") or 0) if post.get("stars_count") else ""


def counts_line(post: Mapping[str, Any], reactions: str) -> str:
    """"Likes: 3 · Score: +1 · Comments: 2", with the board's kind of reactions."""
    parts = [_("Likes: %(num)d", num=post.get("likes", 0))]
    if reactions == "votes":
        parts.append(_("Score: %(num)+d", num=post.get("score", 0)))
    if reactions == "stars" and post.get("stars_count"):
        parts.append(_("Stars: %(average)s (%(num)d)", average=_stars(post),
                       num=post["stars_count"]))
    parts.append(_("Comments: %(num)d", num=post.get("comments", 0)))
    return " · ".join(parts)


def print_context(state: Mapping[str, Any], *, timezone: str, title: str) -> dict[str, Any]:
    """What templates/board/print.html is rendered with."""
    return {"board_title": title, "state": state, "timezone": timezone,
            "sections": exported_sections(state, timezone),
            "reactions": state.get("board", {}).get("reactions", "likes"),
            "state_label": state_label, "counts_line": counts_line}


# -- CSV -------------------------------------------------------------------------------------

def _csv_header(timezone: str) -> list[str]:
    """The column names in the viewer's language; the time column names its zone."""
    return [_("Section"), _("Author"), _("Text"), _("Link"), _("Colour"), _("State"),
            _("Pinned"), _("Likes"), _("Score"), _("Stars (average)"),
            _("Number of comments"), _("Created (%(zone)s)", zone=timezone), _("Comments")]


def _csv_row(section: str, item: ExportedPost) -> list[object]:
    """One post's cells, in the order of the header."""
    post = item.post
    colour = post.get("colour") or "white"
    comments = "\n".join(f"{c.author}: {c.text}" for c in item.comments)
    return [section, item.entry.author, item.entry.text, post.get("link_url") or "",
            str(COLOUR_LABELS.get(colour, colour)), state_label(post),
            _("yes") if post.get("pinned") else _("no"), post.get("likes", 0),
            post.get("score", 0), _stars(post), post.get("comments", len(item.comments)),
            item.entry.when, comments]


def safe_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_delimiter() -> str:
    """";" where the decimal sign is a comma (Russian Excel expects it), "," elsewhere."""
    return ";" if get_decimal_symbol(get_locale() or "en") == "," else ","


def board_csv(state: Mapping[str, Any], *, timezone: str) -> bytes:
    """Every post of the state as a row with its counts and comments; UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=csv_delimiter())
    writer.writerow(_csv_header(timezone))
    for section in exported_sections(state, timezone):
        for item in section.posts:
            writer.writerow([safe_cell(cell) for cell in _csv_row(section.title, item)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- PDF -------------------------------------------------------------------------------------

#: Pictures in the PDF fit this box (mm).
PICTURE_BOX_MM = 60.0
_INDENT = 6.0


class _BoardPDF(FPDF):
    """A4 pages in DejaVu Sans with page numbers in the footer."""

    def footer(self) -> None:
        """"3 / 12" at the bottom of every page."""
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(120)
        self.cell(0, 8, f"{self.page_no()} / {{nb}}", align=Align.C)


def _new_pdf(title: str) -> _BoardPDF:
    """An empty A4 document with the fonts loaded and its first page."""
    pdf = _BoardPDF(format="A4")
    pdf.add_font(FONT_FAMILY, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT_FAMILY, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("Vmeste hub")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def _text_colour(*, grey: bool, link: bool) -> tuple[int, int, int]:
    """Grey for secondary lines, blue for links, black otherwise."""
    if grey:
        return (110, 110, 110)
    return (0, 0, 238) if link else (0, 0, 0)


def _write(pdf: FPDF, text: str, *, size: float = 10, bold: bool = False, grey: bool = False,
           indent: float = 0.0, link: str | None = None) -> None:
    """A paragraph, wrapped, left-aligned, from the left margin (plus `indent`)."""
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*_text_colour(grey=grey, link=link is not None))
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(0, size * 0.5, text, align=Align.L, link=link,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _meta_line(item: ExportedPost) -> str:
    """"Author · 2026-11-22 14:05", with the post's state unless published, and "pinned"."""
    parts = [item.entry.author, item.entry.when]
    if item.post.get("state", "published") != "published":
        parts.append(state_label(item.post))
    if item.post.get("pinned"):
        parts.append(_("pinned"))
    return " · ".join(part for part in parts if part)


def _picture(pdf: FPDF, data: bytes | None) -> None:
    """The thumbnail scaled into the picture box, or "[picture]" without usable bytes."""
    try:
        image = Image.open(io.BytesIO(data or b""), formats=["WEBP", "JPEG", "PNG"])
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        _write(pdf, _("[picture]"), grey=True)
        return
    scale = PICTURE_BOX_MM / max(image.width, image.height)
    pdf.image(image, w=image.width * scale, h=image.height * scale)


def _pdf_post(pdf: FPDF, item: ExportedPost, reactions: str,
              images: Mapping[str, bytes]) -> None:
    """One post: who and when, text, link, picture, counts, comments, then a rule."""
    post = item.post
    _write(pdf, _meta_line(item), size=9, bold=True)
    if item.entry.text:
        _write(pdf, item.entry.text)
    if post.get("link_url"):
        _write(pdf, post["link_url"], size=9, link=post["link_url"])
    if post.get("image"):
        _picture(pdf, images.get(post["image"].get("url", "")))
    _write(pdf, counts_line(post, reactions), size=8, grey=True)
    for comment in item.comments:
        _write(pdf, f"{comment.author} ({comment.when}): {comment.text}", size=9,
               indent=_INDENT)
    pdf.ln(2)
    pdf.set_draw_color(210)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)


def board_pdf(state: Mapping[str, Any], *, timezone: str, title: str,
              images: Mapping[str, bytes] | None = None) -> bytes:
    """A printable PDF of the board; `images` maps a post's image url to its thumbnail bytes."""
    pdf = _new_pdf(title)
    _write(pdf, title, size=16, bold=True)
    _write(pdf, _("Times in the time zone %(zone)s.", zone=timezone), size=9, grey=True)
    pdf.ln(4)
    reactions = state.get("board", {}).get("reactions", "likes")
    for section in exported_sections(state, timezone):
        _write(pdf, section.title, size=13, bold=True)
        pdf.ln(2)
        for item in section.posts:
            _pdf_post(pdf, item, reactions, images or {})
        pdf.ln(3)
    return bytes(pdf.output())
