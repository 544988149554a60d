"""What people type on the board: Markdown made safe, texts and links checked before storing."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask
from flask_babel import LazyString, force_locale

from hub.board.content import (
    ALLOWED_TAGS,
    ContentError,
    clean_link,
    clean_text,
    link_domain,
    plain_text,
    render_markdown,
    sanitise_html,
)


class _Tags(HTMLParser):
    """Every tag and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def assert_safe(html: str) -> None:
    """Only the allowed tags; links only with an http(s)/mailto href, rel and target."""
    for tag, attrs in tags_of(html):
        assert tag in ALLOWED_TAGS, html
        if tag == "a":
            assert set(attrs) <= {"href", "rel", "target"}, html
            assert (attrs.get("href") or "https:").startswith(("http:", "https:", "mailto:"))
            assert attrs["rel"] == "nofollow noopener noreferrer"
            assert attrs["target"] == "_blank"
        else:
            assert attrs == {}, html


XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<a href="javascript:alert(1)">x</a>',
    "<div onclick=alert(1)>x</div>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&colon;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    '[x](https://example.org" onmouseover="alert(1))',
    'https://example.org/"onmouseover=alert(1)//',
    "[x](/relative/path)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "<!-- <script>alert(1)</script> -->",
    "[<img src=x onerror=alert(1)>](https://example.org)",
]


@pytest.mark.parametrize("text", XSS)
def test_no_script_handler_or_dangerous_url_survives(text):
    html = render_markdown(text)
    assert_safe(html)  # every tag and attribute, href included
    assert not any(tag in html.lower() for tag in ("<script", "<img", "<svg", "<iframe",
                                                   "<style", "<div")), html


def test_html_is_shown_as_text_not_run():
    assert render_markdown("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")
    assert render_markdown("<img src=x onerror=alert(1)>") == (
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>")
    assert render_markdown("[x](javascript:alert(1))") == "<p>[x](javascript:alert(1))</p>"


def test_html_entities_stay_text():
    assert render_markdown("&lt;b&gt; &amp; &copy; &#60;i&#62;") == (
        "<p>&lt;b&gt; &amp; © &lt;i&gt;</p>")


def test_the_sanitiser_alone_removes_what_markdown_never_makes():
    html = sanitise_html(
        '<a href="javascript:alert(1)">js</a><img src=x onerror=alert(1)>'
        '<script>alert(1)</script><a href="/admin">rel</a><a href="data:text/html,x">d</a>'
        '<a href="https://example.org" onclick="x()" style="color:red" class="c">ok</a>'
        '<h1>big</h1><table><tr><td>cell</td></tr></table>')
    assert_safe(html)
    assert "<script" not in html and "<img" not in html and "<h1" not in html
    assert ('<a href="https://example.org" target="_blank" '
            'rel="nofollow noopener noreferrer">ok</a>') in html
    assert "big" in html and "cell" in html  # the text of a removed tag stays


def test_markdown_that_a_card_uses_works():
    html = render_markdown(
        "**важно** _курсив_ ~~старое~~ `код`\nвторая строка\n\n"
        "> цитата\n\n- один\n- два\n\n1. первый\n2. второй\n\n```\nblock <b>\n```")
    assert_safe(html)
    for fragment in ("<strong>важно</strong>", "<em>курсив</em>", "<s>старое</s>",
                     "<code>код</code>", "<br>", "<blockquote>", "<ul>", "<ol>", "<li>один</li>",
                     "<pre><code>block &lt;b&gt;\n</code></pre>"):
        assert fragment in html, html


def test_links_open_in_a_new_tab_without_referrer():
    html = render_markdown("[Сайт](https://example.org/page?a=1&b=2) и <mailto:metod@example.org>")
    assert ('<a href="https://example.org/page?a=1&amp;b=2" target="_blank" '
            'rel="nofollow noopener noreferrer">Сайт</a>') in html
    assert 'href="mailto:metod@example.org"' in html


def test_bare_web_addresses_become_links():
    html = render_markdown("Смотрите https://example.org/a_(b), и www.example.org.")
    assert_safe(html)
    assert '<a href="https://example.org/a_(b)"' in html
    assert ">https://example.org/a_(b)</a>," in html
    assert '<a href="https://www.example.org"' in html and "</a>." in html
    assert 'href="https://example.org/x"' in render_markdown("(https://example.org/x)")


def test_an_address_inside_a_link_or_code_is_not_linked_twice():
    html = render_markdown("[https://a.example](https://b.example) `https://c.example`")
    assert html.count("<a ") == 1 and 'href="https://b.example"' in html
    assert "<code>https://c.example</code>" in html


def test_headings_are_at_most_h3():
    html = render_markdown("# один\n## два\n### три\n###### шесть\n\nЗаголовок\n===")
    assert html.count("<h3>") == 3 and html.count("<h4>") == 2
    assert not any(f"<h{n}" in html for n in (1, 2, 5, 6))


def test_pictures_are_not_embedded():
    html = render_markdown("![кот](https://example.org/cat.png)")
    assert "<img" not in html
    assert 'href="https://example.org/cat.png"' in html


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text_gives_nothing(text):
    assert render_markdown(text) == ""


def test_plain_text_keeps_the_markdown_and_the_lines():
    assert plain_text("**Итоги**\r\nстрока\x00\x1b[31m\x07\tконец\u2028ещё") == (
        "**Итоги**\nстрока[31m конец\nещё")


# -- clean_text --------------------------------------------------------------------------------

def test_text_is_tidied(app: Flask):
    text = clean_text("  Привет\r\nмир\x00\x08\x7f\x85\ud800\tконец \n\n", max_chars=100,
                      field="text")
    assert text == "Привет\nмир\tконец"


def test_text_at_the_limit_is_taken():
    assert clean_text("я" * 5000, max_chars=5000, field="text") == "я" * 5000


def test_too_long_text_is_refused_naming_the_limit(app: Flask):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ContentError) as refused:
            clean_text("a" * 100_000, max_chars=5000, field="text")
        assert str(refused.value) == (
            "The text is too long: 100,000 characters; at most 5,000.")
    assert refused.value.field == "text"
    assert isinstance(refused.value.message, LazyString)
    assert isinstance(refused.value, ValueError)


def test_the_message_follows_the_language_it_is_shown_in(app: Flask):
    with pytest.raises(ContentError) as refused:
        clean_text("a" * 100_000, max_chars=5000, field="text")
    with app.test_request_context(), force_locale("ru"):
        assert "100 000" in str(refused.value).replace("\xa0", " ")


def test_the_limit_counts_after_tidying():
    assert clean_text("  x  " + "\x00" * 50, max_chars=1, field="text") == "x"


@pytest.mark.parametrize("value", [b"bytes from a socket", bytearray(b"x"), None, 5, ["a"],
                                   {"text": "a"}])
def test_anything_but_text_is_refused(app: Flask, value):
    with pytest.raises(ContentError) as refused:
        clean_text(value, max_chars=100, field="comment")
    assert refused.value.field == "comment"
    with app.test_request_context():
        assert "could not be read" in str(refused.value)


# -- links -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("https://example.org/page", "https://example.org/page"),
    ("  http://example.org  ", "http://example.org"),
    ("example.org/page", "https://example.org/page"),
    ("www.example.org", "https://www.example.org"),
    ("example.org:8080/path?q=1#top", "https://example.org:8080/path?q=1#top"),
    ("//example.org/x", "https://example.org/x"),
    ("домен.рф/страница", "https://домен.рф/страница"),
    ("https://xn--d1acufc.xn--p1ai", "https://xn--d1acufc.xn--p1ai"),
    ("https://192.0.2.10/x", "https://192.0.2.10/x"),
    ("HTTPS://Example.ORG/Path", "HTTPS://Example.ORG/Path"),
    ("", ""),
    ("   ", ""),
])
def test_links_are_normalised(typed, stored):
    assert clean_link(typed) == stored


@pytest.mark.parametrize("typed", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)", "mailto:a@example.org", "ftp://example.org/file", "file:///etc/passwd",
    "https://", "http:example.org", "https:/example.org", "hello", "https://localhost/",
    "https://a..example.org", "https://exa<mple.org", "https://example.org:99999/",
    "https://example.org:port/", "https://[not-ipv6]/", "https://user:secret@example.org/",
    "https://example.org@evil.example/", "https://evil.example\\@example.org",
    "https://example.org/a b", "https://example.org/\x00", "https://example.org/\u0085x",
    "https://example.org/\nx", "https://example.org/" + "x" * 2000,
])
def test_bad_links_are_refused(app: Flask, typed):
    with pytest.raises(ContentError) as refused:
        clean_link(typed)
    assert refused.value.field == "link"
    with app.test_request_context():
        assert str(refused.value)


@pytest.mark.parametrize("value", [b"https://example.org", None, 42])
def test_a_link_that_is_not_text_is_refused(value):
    with pytest.raises(ContentError):
        clean_link(value)  # type: ignore[arg-type]


def test_a_link_of_at_most_2000_characters_is_taken(app: Flask):
    url = "https://example.org/" + "x" * (2000 - len("https://example.org/"))
    assert clean_link(url) == url
    with pytest.raises(ContentError) as refused:
        clean_link(url + "x")
    with app.test_request_context(), force_locale("en"):
        assert str(refused.value) == "The link is too long: at most 2,000 characters."


@pytest.mark.parametrize(("url", "shown"), [
    ("https://xn--d1acufc.xn--p1ai/page", "домен.рф"),
    ("https://www.xn--d1acufc.xn--p1ai", "домен.рф"),
    ("https://домен.рф/путь", "домен.рф"),
    ("https://www.Example.ORG./x", "example.org"),
    ("https://docs.example.org:8443/x", "docs.example.org"),
    ("https://[2001:db8::1]/x", "2001:db8::1"),
    ("https://xn--pple-43d.com/", "xn--pple-43d.com"),  # Cyrillic "а" + Latin: stays punycode
    ("https://xn--zz.example/", "xn--zz.example"),  # not valid punycode: as it is
    ("not a link", ""),
])
def test_the_domain_shown_on_a_card(url, shown):
    assert link_domain(url) == shown
