"""What people type on the board: a safe subset of Markdown made into sanitised HTML, plain
text for exports, and the checks of texts and links before they are stored.

Nothing here fetches anything from the network: a link is checked by its form only.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

import nh3
from flask_babel import LazyString, format_decimal
from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

#: Tags the sanitiser keeps; everything else is removed (its text stays, escaped).
ALLOWED_TAGS = {"p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "h3", "h4"}
LINK_REL = "nofollow noopener noreferrer"
LINK_MAX_CHARS = 2000

_LINK_SCHEMES = {"http", "https", "mailto"}
_ALLOWED_LINK = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)
#: C0 and C1 control characters except \t and \n, and lone surrogates (not encodable as UTF-8).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NEWLINE = re.compile("\r\n?|[\u2028\u2029]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_ASCII_HOST = re.compile(r"[a-z0-9_.-]+")
#: A bare web address in text (linkified); trailing punctuation is trimmed off afterwards.
_BARE_URL = re.compile(r"(?<![\w@/.-])(?:https?://|www\.)[^\s<>«»“”‘’\"]+", re.IGNORECASE)
_TRAILING = ".,:;!?'*_~"


class ContentError(ValueError):
    """Text or a link the board refuses; `message` (translatable) says why, `field` names it."""

    def __init__(self, message: LazyString, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _number(value: int | float) -> LazyString:
    """A number formatted in the viewer's locale when the message is shown."""
    return LazyString(format_decimal, value)


# -- Markdown --------------------------------------------------------------------------------

def _is_allowed_link(url: str) -> bool:
    """Markdown links and autolinks: only http, https and mailto (others stay as text)."""
    return bool(_ALLOWED_LINK.match(url.strip()))


def _small_headings(state: StateCore) -> None:
    """# and ## become h3, deeper headings h4: a card has no room for larger ones."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h3" if token.tag in ("h1", "h2") else "h4"


def _url_end(candidate: str) -> int:
    """Where a bare address found in text ends: without trailing punctuation or a lone ')'."""
    end = len(candidate)
    while end and (candidate[end - 1] in _TRAILING or _unbalanced_paren(candidate[:end])):
        end -= 1
    return end


def _unbalanced_paren(candidate: str) -> bool:
    """It ends with a ')' that no '(' of its own opens: "(see https://example.org)"."""
    return candidate.endswith(")") and candidate.count("(") < candidate.count(")")


def _link_tokens(md: MarkdownIt, text: str) -> list[Token]:
    """Text tokens with every bare web address in it made into a link."""
    tokens: list[Token] = []
    done = 0
    for match in _BARE_URL.finditer(text):
        shown = match.group()[:_url_end(match.group())]
        href = md.normalizeLink(shown if "://" in shown else "https://" + shown)
        if "." not in shown or not md.validateLink(href):
            continue
        tokens.append(_text_token(text[done:match.start()]))
        link_open = Token("link_open", "a", 1, attrs={"href": href}, markup="linkify")
        tokens += [link_open, _text_token(md.normalizeLinkText(shown)),
                   Token("link_close", "a", -1, markup="linkify")]
        done = match.start() + len(shown)
    tokens.append(_text_token(text[done:]))
    return [t for t in tokens if t.type != "text" or t.content]


def _text_token(content: str) -> Token:
    """A plain text token."""
    return Token("text", "", 0, content=content)


def _linkify(state: StateCore) -> None:
    """Bare web addresses (https://…, www.…) in text become links, outside existing links."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        depth = 0
        for token in block.children:
            depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and depth == 0:
                children += _link_tokens(state.md, token.content)
            else:
                children.append(token)
        block.children = children


def _markdown() -> MarkdownIt:
    """CommonMark without raw HTML and images, with strikethrough, line breaks and autolinks."""
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.enable("strikethrough").disable("image")
    md.validateLink = _is_allowed_link  # type: ignore[method-assign]
    md.core.ruler.after("block", "small_headings", _small_headings)
    md.core.ruler.push("bare_links", _linkify)
    return md


_MD = _markdown()


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    """The sanitiser drops any href that is not http, https or mailto (relative ones too)."""
    if tag == "a" and attribute == "href" and not _is_allowed_link(value):
        return None
    return value


def sanitise_html(html: str) -> str:
    """HTML reduced to the board's tags; links open in a new tab without referrer."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href"}},
                     url_schemes=_LINK_SCHEMES, link_rel=LINK_REL, strip_comments=True,
                     set_tag_attribute_values={"a": {"target": "_blank"}},
                     attribute_filter=_only_absolute_links)


def render_markdown(text: str) -> str:
    """The safe HTML of a post's or comment's Markdown; "" for empty text."""
    if not text.strip():
        return ""
    return sanitise_html(_MD.render(text)).strip()


# -- plain text ------------------------------------------------------------------------------

def _without_controls(text: str) -> str:
    """Newlines normalised to \\n; control characters other than \\n and \\t removed."""
    return _CONTROL.sub("", _NEWLINE.sub("\n", text))


def plain_text(text: str) -> str:
    """The Markdown source for exports: control characters removed, tabs as spaces."""
    return _without_controls(text).replace("\t", " ")


def clean_text(text: object, *, max_chars: int, field: str) -> str:
    """Text a person sent, checked and tidied; raises ContentError (with `field`) if refused."""
    if not isinstance(text, str):
        raise ContentError(_l("This text could not be read: send it as plain text."), field)
    cleaned = _without_controls(text).strip()
    if len(cleaned) > max_chars:
        raise ContentError(_l("The text is too long: %(length)s characters; at most %(limit)s.",
                              length=_number(len(cleaned)), limit=_number(max_chars)), field)
    return cleaned


# -- links -----------------------------------------------------------------------------------

def _bad_link() -> ContentError:
    return ContentError(_l("Enter a web address starting with http:// or https://, "
                           "for example https://example.org/page."), "link")


def _with_scheme(url: str) -> str:
    """"example.org/page" (or "example.org:8080/page", "//example.org") as https://…"""
    if url.startswith("//"):
        return "https:" + url
    match = _SCHEME.match(url)
    if match and not url[match.end():match.end() + 1].isdigit():
        return url
    return "https://" + url


def _valid_host(host: str) -> bool:
    """A domain name with a dot (Unicode allowed) or an IP address."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return "." in host.strip(".") and bool(_ASCII_HOST.fullmatch(ascii_host))


def _split(url: str) -> SplitResult:
    """The parts of an http(s) link with a valid host; raises ContentError otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise _bad_link() from None
    if parts.scheme.lower() not in ("http", "https") or not _valid_host(parts.hostname or ""):
        raise _bad_link()
    if parts.username is not None or parts.password is not None:
        raise ContentError(_l("A link must not contain a user name or password."), "link")
    return parts


def clean_link(url: str) -> str:
    """A link for a post: http(s) with a host, "https://" added if missing; "" for no link."""
    if not isinstance(url, str):
        raise _bad_link()
    url = url.strip()
    if not url:
        return ""
    if any(ch.isspace() or ch == "\\" or _CONTROL.match(ch) for ch in url):
        raise ContentError(_l("A link cannot contain spaces or special characters."), "link")
    url = _with_scheme(url)
    if len(url) > LINK_MAX_CHARS:
        raise ContentError(_l("The link is too long: at most %(limit)s characters.",
                              limit=_number(LINK_MAX_CHARS)), "link")
    _split(url)
    return url


def _mixes_scripts(label: str) -> bool:
    """Letters of more than one script (a lookalike such as Cyrillic "а" in "аpple")."""
    scripts = {unicodedata.name(ch, "?").split(" ")[0] for ch in label if ch.isalpha()}
    return len(scripts) > 1


def _unicode_label(label: str) -> str:
    """A label in Unicode ("xn--d1acufc" → "домен"), or in punycode if it mixes scripts."""
    try:
        ascii_label = label.encode("idna").decode("ascii")
        decoded = ascii_label.encode("ascii").decode("idna")
    except UnicodeError:
        return label
    return ascii_label if _mixes_scripts(decoded) else decoded


def link_domain(url: str) -> str:
    """The host shown on a card: without "www.", internationalised names in Unicode."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
    host = host.removeprefix("www.")
    return ".".join(_unicode_label(label) for label in host.split("."))
