"""A browser for benchmarks that act as people: one person's cookies, pages and forms over
plain HTTP on loopback.

Production marks the session cookie Secure; browsers send such cookies to http://127.0.0.1 and
localhost (a secure context), but httpx's cookie jar does not, so this class keeps the cookies
itself. Forms are read from the page as a browser submits them: every field with its current
value (hidden fields and the CSRF token included), then the caller's changes."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import httpx

USER_AGENT = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 Mobile (rehearsal)"

Fields = list[tuple[str, str]]


class _FormParser(HTMLParser):
    """The fields of every <form> of a page, in order, with the values a browser would send."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._select: tuple[str, list[str], list[str]] | None = None  # name, chosen, first
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"),
                               "fields": [], "submits": []})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self.forms[-1]["submits"].append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((name, a.get("value", "on")))
            elif kind not in ("file", "button", "image", "reset"):
                fields.append((name, a.get("value", "")))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self.forms[-1]["submits"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if not self._select[2]:
                self._select[2].append(value)
            if "selected" in a:
                self._select[1].append(value)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self.forms:
            name, chosen, first = self._select
            for value in chosen or first:
                self.forms[-1]["fields"].append((name, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1]["fields"].append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def forms_of(html: str) -> list[dict[str, Any]]:
    """Every form of the page: action, method, fields (name, value) and submit buttons."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def json_block(html: str, element_id: str) -> Any:
    """The JSON of a page's <script type="application/json" id=…> block."""
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    if match is None:
        raise ValueError(f"no JSON block #{element_id} on the page")
    return json.loads(match.group(1))


class Browser:
    """One person's browser: cookies kept by hand, redirects not followed unless asked."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.client = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self.client.close()

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if "max-age=0" in header.lower() or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def request(self, method: str, path: str, *, follow: bool = False,
                **kwargs: Any) -> httpx.Response:
        """One request with this browser's cookies; with `follow`, same-site redirects too."""
        url = path if path.startswith("http") else self.base_url + path
        for _hop in range(10):
            headers = {**kwargs.pop("headers", {}), "Cookie": self.cookie_header()}
            response = self.client.request(method, url, headers=headers, **kwargs)
            self._keep(response)
            location = response.headers.get("location", "")
            if not (follow and response.is_redirect and (location.startswith("/")
                                                         or location.startswith(self.base_url))):
                return response
            url = location if location.startswith("http") else self.base_url + location
            method, kwargs = "GET", {}
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def submit(self, path: str, changes: dict[str, str | list[str]], *, button: str | None = None,
               form_index: int | None = None, page: str | None = None) -> httpx.Response:
        """Open `path` (or use the `page` already fetched), fill its form the way a person does
        (`changes` replace the fields' values; a list gives several values) and press `button`
        (a submit's name). The form is the one with that button, else `form_index`, else the
        one with most of the fields changed. Redirects within the site are followed."""
        html = page if page is not None else self.get(path, follow=True).text
        forms = forms_of(html)
        if button is not None:
            form = next(f for f in forms if any(n == button for n, _v in f["submits"]))
        elif form_index is not None:
            form = forms[form_index]
        else:  # the form with most of the fields to change (not the sign-out button's)
            form = max(forms, key=lambda f: len({n for n, _v in f["fields"]} & set(changes)))
        fields: Fields = [(n, v) for n, v in form["fields"] if n not in changes]
        for name, value in changes.items():
            fields += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        if button is not None:
            fields.append(next((n, v) for n, v in form["submits"] if n == button))
        data: dict[str, list[str]] = {}
        for name, value in fields:
            data.setdefault(name, []).append(value)
        return self.request("POST", form["action"] or path, data=data, follow=True)

    def sign_in(self, email: str, password: str) -> None:
        """The real sign-in form; raises when it does not let us in."""
        answer = self.submit("/login", {"email": email, "password": password})
        if "/login" in str(answer.url) and answer.status_code != 200 or \
                'name="password"' in answer.text:
            raise RuntimeError(f"could not sign in as {email}: {answer.status_code}")
