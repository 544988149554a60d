"""Board posts (hub/board/content.py): whatever Markdown (or HTML posing as it) people type, the
HTML made of it holds only the board's tags, no event handlers and no link or source with a
javascript:, data: or vbscript: address, however written; links are http(s) or refused with a
reason; texts past their limit are refused with a ContentError."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import unquote

from hypothesis import example, given
from hypothesis import strategies as st

from hub.board.content import (
    ALLOWED_TAGS,
    ContentError,
    clean_link,
    clean_text,
    link_domain,
    plain_text,
    render_markdown,
)
from tests.fuzz.text import nasty_text

SCHEMES = ["javascript", "JaVaScRiPt", "vbscript", "data", "livescript", "file", "jar"]
#: Ways to hide a scheme from a naive filter: entities, percent-encoding, whitespace, controls.
DISGUISES = ["{s}:", " {s}:", "{s}\t:", "java\nscript:", "java&#x09;script:", "&#106;avascript:",
             "&#x6A;avascript:", "%6A%61vascript:", "\x01{s}:", "{s}&colon;", "java\x00script:",
             "&#0000106avascript:", "{s}%3A"]
PAYLOAD = ["alert(1)", "text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "//%0aalert(1)"]
_SAFE = {"http", "https", "mailto"}


@st.composite
def bad_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(SCHEMES))
    return draw(st.sampled_from(DISGUISES)).format(s=scheme) + draw(st.sampled_from(PAYLOAD))


_html_bits = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "<iframe src=//evil>", "<object data=x>", "<style>*{}</style>", "<a href=\"{u}\">x</a>",
    "<math><mi xlink:href=\"{u}\">", "<p onclick=\"x\">", "<!--", "-->", "<![CDATA[", "]]>",
    "<form action={u}><button>", "<base href={u}>", "<meta http-equiv=refresh content=\"0;{u}\">",
    "</textarea><script>", "<a\nhref='{u}'>", "<<a>a href={u}>", "<embed src={u}>",
])
_markdown_bits = st.sampled_from([
    "[x]({u})", "[x]( {u} )", "<{u}>", "![x]({u})", "[x][r]\n\n[r]: {u}", "**", "_", "`", "```\n",
    "# ", "> ", "- ", "1. ", "\n\n", "www.example.org/", "https://example.org/a?b=(c)", "~~",
    "[x](<{u}>)", "[x]({u} \"t\")", "\\", "&amp;", "&#x3C;script&#x3E;",
])


@st.composite
def post_texts(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(_html_bits, _markdown_bits, nasty_text), max_size=12))
    return "".join(piece.replace("{u}", draw(bad_urls())) for piece in pieces)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def _scheme(url: str) -> str:
    """The scheme a browser would see: entities and percent-escapes decoded, whitespace and
    controls dropped."""
    decoded = unquote(html.unescape(url))
    compact = re.sub(r"[\x00-\x20\x7f]", "", decoded)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", compact)
    return match.group(1).lower() if match else ""


def assert_safe(markup: str) -> None:
    parser = _Collector()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attrs:
            assert not name.startswith("on"), (name, markup)
            assert name in {"href", "rel", "target"}, (name, markup)
            if name == "href":
                assert _scheme(value or "") in _SAFE, (value, markup)


@given(post_texts())
@example("[x](javascript:alert(1))")
@example("<javascript:alert(1)>")
@example("[x](java&#x09;script:alert(1))")
@example("www.example.org/<script>")
def test_markdown_becomes_safe_html(text):
    assert_safe(render_markdown(text))


@given(st.text(max_size=400))
def test_any_text_becomes_safe_html(text):
    assert_safe(render_markdown(text))


@given(st.one_of(bad_urls(), nasty_text, st.from_regex(r"https?://[^\s]{1,60}", fullmatch=True),
                 st.text(min_size=1990, max_size=2100).map(lambda s: "https://x.org/" + s)))
@example("https://user:pass@example.org/")
@example("https://example.org:99999/")
@example("https://[::1/")
def test_a_link_is_http_or_a_clear_error(url):
    try:
        clean = clean_link(url)
    except ContentError as error:
        assert error.field == "link" and str(error.message).strip()
        return
    assert clean == "" or _scheme(clean) in {"http", "https"}
    link_domain(clean)  # the card's domain never fails


@given(text=st.one_of(nasty_text, st.text(min_size=990, max_size=1100)),
       limit=st.sampled_from([1000, 5000]))
def test_texts_past_the_limit_are_refused_with_a_reason(text, limit):
    try:
        cleaned = clean_text(text, max_chars=limit, field="body")
    except ContentError as error:
        assert error.field == "body" and "1" in str(error.message)
        assert len(plain_text(text).strip()) > limit
        return
    assert len(cleaned) <= limit
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", cleaned)
    assert_safe(render_markdown(cleaned))


@given(st.one_of(st.integers(), st.none(), st.lists(st.text()), st.binary()))
def test_text_that_is_not_a_string_is_refused(value):
    try:
        clean_text(value, max_chars=100, field="body")
    except ContentError as error:
        assert error.field == "body"
    else:
        raise AssertionError("accepted a non-string")
