"""The bank's pages: the search over everything the viewer may see (/bank), a network's public
bank, an organisation's shelf, an event's materials, "new this week", and the weekly digest's
subscription (on /bank) and unsubscribe link. Anonymous visitors see public materials only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.archive import bank, digest
from hub.archive.access import may_view
from hub.archive.jobs import register_jobs
from hub.archive.models import Material
from hub.archive.search import QueryError, SearchPage, search
from hub.archive.views import bp
from hub.auth.permissions import can_view_event, can_view_event_anonymously
from hub.directory.models import Network, Organisation
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat

bp.record_once(lambda state: register_jobs())

#: Results per page of the search.
PER_PAGE = 20
#: The longest tag value a filter takes (the column's length).
TAG_MAX = 100


def _viewer() -> Any:
    return current_user if current_user.is_authenticated else None


def _text_arg(name: str, limit: int) -> str:
    """The argument as text, without NUL characters (PostgreSQL refuses them)."""
    return request.args.get(name, "").replace("\x00", "")[:limit].strip()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


@dataclass
class Filters:
    """The search box and filters as given in the query string (bad values are ignored)."""

    q: str = ""
    fmt: EventFormat | None = None
    topic: str = ""
    age_group: str = ""
    organisation_id: int | None = None
    year: int | None = None
    page: int = 1
    args: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_request(cls) -> Filters:
        fmt = _int_arg("format")
        page = _int_arg("page") or 1
        filters = cls(
            q=_text_arg("q", 500),
            fmt=EventFormat(fmt) if fmt in set(EventFormat) else None,
            topic=_text_arg("topic", TAG_MAX), age_group=_text_arg("age", TAG_MAX),
            organisation_id=_int_arg("organisation"), year=_int_arg("year"),
            page=min(page, 1000))
        filters.args = {k: v for k, v in (
            ("q", filters.q), ("format", int(filters.fmt) if filters.fmt else None),
            ("topic", filters.topic), ("age", filters.age_group),
            ("organisation", filters.organisation_id), ("year", filters.year)) if v}
        return filters

    @property
    def active(self) -> bool:
        return bool(self.args)

    @property
    def narrowed(self) -> bool:
        """A filter besides the search box is set."""
        return any(key != "q" for key in self.args)


def _search(filters: Filters, network_id: int | None = None) -> tuple[SearchPage | None, str]:
    """(the page of results or None, the message of a bad query or "")."""
    try:
        page = search(filters.q, viewer=_viewer(), fmt=filters.fmt,
                      topic=filters.topic or None, age_group=filters.age_group or None,
                      organisation_id=filters.organisation_id, network_id=network_id,
                      year=filters.year, limit=PER_PAGE, offset=(filters.page - 1) * PER_PAGE)
    except QueryError as error:
        return None, str(error)
    return page, ""


def _bank_page(network: Network | None = None) -> str:
    filters = Filters.from_request()
    network_id = network.id if network is not None else None
    where = [bank.of_network(network_id)] if network_id is not None else []
    results, error = _search(filters, network_id) if filters.active else (None, "")
    pages = -(-results.total // PER_PAGE) if results is not None else 0
    fresh = [] if filters.active else bank.new_materials(_viewer(), where=where, limit=10)
    endpoint = "archive.network_bank" if network is not None else "archive.bank_search"
    place = {"network_id": network_id} if network_id is not None else {}

    def page_url(number: int) -> str:
        return url_for(endpoint, **place, **filters.args, page=number)

    return render_template(
        "archive/bank.html", filters=filters, page_url=page_url, results=results, error=error,
        pages=pages, fresh=fresh, choices=bank.choices(_viewer(), where), network=network,
        subscribed=digest.is_subscribed(current_user), year_label=bank.school_year_label)


@bp.get("/bank")
def bank_search():  # type: ignore[no-untyped-def]
    """The bank: search and filters over every material the viewer may find."""
    return _bank_page()


@bp.get("/networks/<int:network_id>/bank")
def network_bank(network_id: int):  # type: ignore[no-untyped-def]
    """A network's bank: its materials and its members' (public ones for anonymous visitors)."""
    network = db.get_or_404(Network, network_id)
    return _bank_page(network)


@bp.get("/bank/new")
def bank_new():  # type: ignore[no-untyped-def]
    """What appeared in the bank in the last seven days (that the viewer may see)."""
    return render_template("archive/bank_new.html", materials=bank.new_materials(_viewer()))


@bp.get("/organisations/<int:organisation_id>/materials")
def organisation_shelf(organisation_id: int):  # type: ignore[no-untyped-def]
    """An organisation's shelf: its materials the viewer may see, by school year and format."""
    organisation = db.get_or_404(Organisation, organisation_id)
    return render_template("archive/bank_shelf.html", organisation=organisation,
                           groups=bank.shelf(_viewer(), organisation.id),
                           year_label=bank.school_year_label)


def _event_materials(event: Event) -> list[Material] | None:
    """What the viewer may see of the event's materials; None when the event is not theirs to
    see and nothing of it is in the bank for them."""
    user = current_user
    sees_event = (can_view_event(user, event) if user.is_authenticated
                  else can_view_event_anonymously(event))
    if sees_event:
        return [m for m in bank.of_event(event.id, _viewer(), in_bank=False)
                if may_view(_viewer(), m)]
    found = bank.of_event(event.id, _viewer(), in_bank=True)
    return found or None


@bp.get("/events/<int:event_id>/materials")
def event_materials(event_id: int):  # type: ignore[no-untyped-def]
    """The event's materials, each as the viewer may see it."""
    event = db.get_or_404(Event, event_id)
    materials = _event_materials(event)
    if materials is None:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)
    return render_template("archive/bank_event.html", event=event, materials=materials)


@bp.post("/bank/digest")
@login_required
def digest_toggle():  # type: ignore[no-untyped-def]
    """Subscribe to the weekly digest, or unsubscribe (the form says which)."""
    wanted = request.form.get("subscribe") == "1"
    digest.set_subscribed(current_user, wanted)
    db.session.commit()
    flash(_("You will get the weekly digest of new materials by email.") if wanted
          else _("You will no longer get the weekly digest."), "success")
    return redirect(url_for("archive.bank_search"))


@bp.route("/bank/digest/unsubscribe/<token>", methods=["GET", "POST"])
def digest_unsubscribe(token: str):  # type: ignore[no-untyped-def]
    """The letter's unsubscribe link (no sign-in): a button (a mail scanner's GET changes
    nothing), then done."""
    person = digest.person_of_token(token)
    if person is None:
        return render_template("archive/bank_unsubscribe.html", person=None), 404
    if request.method == "POST":
        digest.set_subscribed(person, False)
        db.session.commit()
        return render_template("archive/bank_unsubscribe.html", person=person, done=True)
    return render_template("archive/bank_unsubscribe.html", person=person, token=token,
                           subscribed=digest.is_subscribed(person))
