"""Exports of a board from its state: CSV (Excel with Cyrillic, no formulas), PDF, print page."""

from __future__ import annotations

import copy
import csv
import io
import re
import zlib

import pytest
from flask import Flask, render_template
from flask_babel import force_locale
from PIL import Image

from hub.board.export import (
    FONT_DIR,
    board_csv,
    board_pdf,
    exported_sections,
    html_text,
    local_time,
    print_context,
    safe_cell,
)

ZONE = "Europe/Moscow"


def make_state() -> dict:
    """A board as docs/board.md's "State" gives it: sections out of order, a post of no
    section, an anonymous one, a pinned one, a pending one, comments, a link and a picture."""
    def post(id_: int, section_id: int | None, body: str, **values: object) -> dict:
        return {"id": id_, "section_id": section_id, "author_key": f"p{id_}",
                "author_name": "Мария Попова", "anonymous": False, "body": body,
                "body_html": f"<p>{body}</p>", "link_url": "", "link_domain": "", "image": None,
                "colour": "white", "state": "published", "pinned": False, "position": float(id_),
                "likes": 0, "score": 0, "stars": 0, "stars_count": 0, "comments": 0,
                "created_at": f"2026-11-22T11:0{id_}:00Z", "updated_at": None, "rev": id_,
                **values}

    return {
        "board": {"id": 7, "title": "Круглый стол", "layout": "wall", "sort": "manual",
                  "reactions": "stars", "seq": 40},
        "viewer": {"key": "p1", "name": "Мария Попова", "moderator": True, "can_post": True},
        "sections": [{"id": 2, "title": "Вопросы", "position": 2.0, "rev": 2},
                     {"id": 1, "title": "Идеи «Растим инженеров»", "position": 1.0, "rev": 1}],
        "posts": [
            post(1, 1, "Робототехника в детском саду", likes=5, stars=4.5, stars_count=2,
                 comments=2, colour="yellow",
                 link_url="https://xn--d1acufc.xn--p1ai/bee-bot", link_domain="домен.рф",
                 image={"url": "/boards/7/images/k1", "thumb_url": "/boards/7/images/k1/thumb",
                        "width": 64, "height": 32}),
            post(2, 1, "Тайное мнение", anonymous=True, author_name="Скрытый Автор"),
            post(3, 2, '=HYPERLINK("http://evil.example","Нажми")', score=-2),
            post(4, 2, "+7 999 000-00-00"),
            post(5, 2, "-1+2"),
            post(6, 2, "@SUM(A1:A2)"),
            post(7, None, "Без раздела пост", pinned=True, state="pending"),
            post(8, 99, "Пост из удалённого раздела"),
        ],
        "comments": [
            {"id": 1, "post_id": 1, "author_key": "p2", "author_name": "Иван Петров",
             "body_html": "<p>Согласен &amp; поддерживаю</p>", "created_at": "2026-11-22T12:00:00Z",
             "rev": 9},
            {"id": 2, "post_id": 1, "author_key": "p3", "author_name": "=cmd|' /C calc'!A0",
             "body_html": "<p>Вторая <strong>реплика</strong></p>",
             "created_at": "2026-11-22T12:01:00Z", "rev": 10},
        ],
        "mine": {},
        "head": 40,
    }


@pytest.fixture
def state() -> dict:
    return make_state()


@pytest.fixture
def english(app: Flask):  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale("en"):
        yield


def read_csv(data: bytes, delimiter: str = ",") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def rows_by_text(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[2]: row for row in rows[1:]}


# -- the state, ordered ----------------------------------------------------------------------

def test_sections_in_order_and_loose_posts_last(english, state):
    sections = exported_sections(state, ZONE)
    assert [s.title for s in sections] == ["Идеи «Растим инженеров»", "Вопросы", "No section"]
    assert [p.post["id"] for p in sections[2].posts] == [7, 8]
    assert [c.author for c in sections[0].posts[0].comments] == [
        "Иван Петров", "=cmd|' /C calc'!A0"]


def test_pinned_posts_lead_and_the_boards_sort_is_followed(english, state):
    state["posts"][4]["pinned"] = True  # post 5, in "Вопросы"
    questions = exported_sections(state, ZONE)[1]
    assert [p.post["id"] for p in questions.posts] == [5, 3, 4, 6]
    state["board"]["sort"] = "newest"
    assert [p.post["id"] for p in exported_sections(state, ZONE)[1].posts] == [5, 6, 4, 3]
    state["board"]["sort"] = "liked"
    state["posts"][3]["likes"] = 9  # post 4
    assert [p.post["id"] for p in exported_sections(state, ZONE)[1].posts] == [5, 4, 3, 6]


def test_html_becomes_text_line_by_line():
    assert html_text("<p>Один &amp; <strong>два</strong><br>\nтри</p>\n<ul>\n<li>а</li>\n"
                     "<li>б</li>\n</ul>") == "Один & два\nтри\n• а\n• б"


def test_times_are_shown_in_the_zone_given():
    assert local_time("2026-11-22T11:05:00Z", "Europe/Moscow") == "2026-11-22 14:05"
    assert local_time("2026-11-22T11:05:00+00:00", "Asia/Vladivostok") == "2026-11-22 21:05"
    assert local_time(None, ZONE) == ""


# -- CSV -------------------------------------------------------------------------------------

def test_csv_has_a_row_per_post_with_everything(english, state):
    rows = read_csv(board_csv(state, timezone=ZONE))
    assert rows[0] == ["Section", "Author", "Text", "Link", "Colour", "State", "Pinned",
                       "Likes", "Score", "Stars (average)", "Number of comments",
                       "Created (Europe/Moscow)", "Comments"]
    assert len(rows) == 1 + len(state["posts"])
    first = rows_by_text(rows)["Робототехника в детском саду"]
    assert first == ["Идеи «Растим инженеров»", "Мария Попова", "Робототехника в детском саду",
                     "https://xn--d1acufc.xn--p1ai/bee-bot", "yellow", "published", "no", "5",
                     "0", "4.5", "2", "2026-11-22 14:01",
                     "Иван Петров: Согласен & поддерживаю\n=cmd|' /C calc'!A0: Вторая реплика"]
    loose = rows_by_text(rows)["Без раздела пост"]
    assert loose[:1] == ["No section"] and loose[5:7] == ["awaiting approval", "yes"]


def test_csv_never_names_an_anonymous_author(english, state):
    data = board_csv(state, timezone=ZONE)
    assert "Скрытый Автор".encode() not in data
    assert rows_by_text(read_csv(data))["Тайное мнение"][1] == "Anonymous"


def test_csv_cells_cannot_run_as_formulas(english, state):
    state["sections"][0]["title"] = "=1+1"
    rows = read_csv(board_csv(state, timezone=ZONE))
    texts = [row[2] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil.example\",\"Нажми\")" in texts
    assert {"'+7 999 000-00-00", "'-1+2", "'@SUM(A1:A2)"} <= set(texts)
    for row in rows:
        for cell in row:
            if not re.fullmatch(r"-?\d+", cell):  # a negative score is a number, not a formula
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows_by_text(rows)["'-1+2"][8] == "0"
    assert rows_by_text(rows)["'=HYPERLINK(\"http://evil.example\",\"Нажми\")"][8] == "-2"


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("обычный", "обычный"), ("a=1", "a=1"), ("", ""), (-2, -2), (4, 4),
])
def test_safe_cell(value, safe):
    assert safe_cell(value) == safe


def test_csv_without_markdown_source_uses_the_html(english, state):
    for post in state["posts"]:
        del post["body"]
    state["posts"][0]["body_html"] = "<p>Строка <em>один</em><br>\nдва</p>"
    rows = read_csv(board_csv(state, timezone=ZONE))
    assert any(row[2] == "Строка один\nдва" for row in rows)


def test_csv_in_russian_opens_in_russian_excel(app, state):
    with app.test_request_context(), force_locale("ru"):
        data = board_csv(state, timezone=ZONE)
    rows = read_csv(data, delimiter=";")  # Excel's list separator where the decimal is ","
    assert len(rows[0]) == 13
    first = next(row for row in rows if row[2] == "Робототехника в детском саду")
    assert first[0] == "Идеи «Растим инженеров»" and first[9] == "4,5"


def test_csv_of_an_empty_board_is_its_header(english):
    rows = read_csv(board_csv({"board": {}, "sections": [], "posts": [], "comments": []},
                              timezone=ZONE))
    assert len(rows) == 1


# -- PDF -------------------------------------------------------------------------------------

def _objects(pdf: bytes) -> dict[int, bytes]:
    """Every object's body by its number."""
    return {int(num): body for num, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", pdf, re.S)}


def _stream(body: bytes) -> bytes:
    """An object's stream, inflated ("" when it has none)."""
    match = re.search(rb"stream\r?\n(.*)\r?\nendstream", body, re.S)
    if match is None:
        return b""
    return zlib.decompress(match.group(1)) if b"/FlateDecode" in body else match.group(1)


def _cmap(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap: glyph code → text."""
    pairs = re.findall(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>",
                       data.split(b"endcodespacerange")[-1])
    return {int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be")
            for code, text in pairs}


def _literal(data: bytes, start: int) -> tuple[bytes, int]:
    """A PDF literal string starting after "(": its bytes and the index after ")"."""
    out, i, escapes = bytearray(), start, {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b",
                                           b"f": b"\f"}
    while data[i:i + 1] != b")":
        if data[i:i + 1] == b"\\":
            octal = re.match(rb"[0-7]{1,3}", data[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8))
                i += 1 + len(octal.group())
                continue
            out += escapes.get(data[i + 1:i + 2], data[i + 1:i + 2])
            i += 2
            continue
        out += data[i:i + 1]
        i += 1
    return bytes(out), i + 1


def pdf_text(pdf: bytes) -> str:
    """The text shown by fpdf2's pages: each string decoded with its font's ToUnicode map."""
    objects = _objects(pdf)
    fonts = {name.decode(): int(ref) for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", pdf)}
    cmaps = {}
    for name, num in fonts.items():
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[num])
        if to_unicode:
            cmaps[name] = _cmap(_stream(objects[int(to_unicode.group(1))]))
    lines = []
    for body in objects.values():
        data, font, i = _stream(body), None, 0
        while i < len(data):
            switch = re.match(rb"/(F\d+) [\d.]+ Tf", data[i:i + 20])
            if switch:
                font = switch.group(1).decode()
            if data[i:i + 1] == b"(" and font in cmaps:
                raw, i = _literal(data, i + 1)
                lines.append("".join(cmaps[font].get(int.from_bytes(raw[j:j + 2], "big"), "")
                                     for j in range(0, len(raw) - 1, 2)))
                continue
            i += 1
    return "\n".join(lines)


def test_the_fonts_and_their_licence_are_vendored():
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVu-LICENSE.txt"):
        assert (FONT_DIR / name).stat().st_size > 0
    assert "Bitstream" in (FONT_DIR / "DejaVu-LICENSE.txt").read_text()


def test_pdf_has_the_board_in_cyrillic(english, state):
    pdf = board_pdf(state, timezone=ZONE, title="Круглый стол «Преемственность»")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    for shown in ("Круглый стол «Преемственность»", "Идеи «Растим инженеров»", "Вопросы",
                  "No section", "Робототехника в детском саду", "Мария Попова · 2026-11-22 14:01",
                  "https://xn--d1acufc.xn--p1ai/bee-bot", "[picture]", "Likes: 5",
                  "Stars: 4.5 (2)", "Comments: 2", "Иван Петров (2026-11-22 15:00): Согласен",
                  "Anonymous", "awaiting approval", "pinned",
                  "Times in the time zone Europe/Moscow."):
        assert shown in text, shown
    assert "Скрытый Автор" not in text
    assert text.index("Идеи «Растим инженеров»") < text.index("Вопросы") < text.index(
        "No section")


def test_pdf_shows_a_thumbnail_when_its_bytes_are_given(english, state):
    thumb = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(thumb, "WEBP")
    pdf = board_pdf(state, timezone=ZONE, title="Доска",
                    images={"/boards/7/images/k1": thumb.getvalue()})
    assert b"/Subtype /Image" in pdf
    assert "[picture]" not in pdf_text(pdf)


def test_pdf_shows_a_placeholder_for_bad_image_bytes(english, state):
    pdf = board_pdf(state, timezone=ZONE, title="Доска",
                    images={"/boards/7/images/k1": b"not a picture"})
    assert b"/Subtype /Image" not in pdf and "[picture]" in pdf_text(pdf)


def test_pdf_survives_emoji_long_words_and_many_pages(english, state):
    many = copy.deepcopy(state)
    base = many["posts"][0]
    many["posts"] = [{**base, "id": n, "body": f"Пост {n} 👍🎉 " + "о" * 300 + "\nстрока\tдва",
                      "link_url": "https://example.org/" + "x" * 500}
                     for n in range(1, 60)]
    pdf = board_pdf(many, timezone=ZONE, title="Очень длинная доска " * 10)
    text = pdf_text(pdf)
    assert "Пост 59" in text
    assert len(re.findall(rb"/Type /Page\b", pdf)) > 3


def test_pdf_of_an_empty_board(english):
    pdf = board_pdf({"board": {}, "sections": [], "posts": [], "comments": []},
                    timezone=ZONE, title="Пустая доска")
    assert "Пустая доска" in pdf_text(pdf)


# -- the printable page ----------------------------------------------------------------------

def test_print_page_shows_the_board_with_user_strings_escaped(english, state):
    state["posts"][0]["author_name"] = "<script>alert('имя')</script>"
    state["sections"][0]["title"] = "<img src=x onerror=alert(1)>"
    state["posts"][0]["body_html"] = "<p>Робототехника <strong>в саду</strong></p>"
    html = render_template("board/print.html",
                           **print_context(state, timezone=ZONE, title="<b>Доска</b>"))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;b&gt;Доска&lt;/b&gt;" in html
    assert "<p>Робототехника <strong>в саду</strong></p>" in html  # sanitised HTML, as HTML
    assert 'href="https://xn--d1acufc.xn--p1ai/bee-bot"' in html
    assert 'src="/boards/7/images/k1/thumb"' in html
    assert "2026-11-22 14:01" in html and "Stars: 4.5 (2)" in html
    assert "Скрытый Автор" not in html and "No section" in html
    assert "Согласен &amp; поддерживаю" in html
    assert "board/print.css" in html and 'href="/boards/7/export.pdf"' in html


def test_print_page_refuses_to_link_anything_but_the_web(english, state):
    state["posts"][0]["link_url"] = "javascript:alert(1)"
    html = render_template("board/print.html",
                           **print_context(state, timezone=ZONE, title="Доска"))
    assert "javascript:alert" not in html
