"""The bank's operations: add, change, publish and remove materials; an event's board export
and the recordings providers report. Permissions are the views' business; the caller commits.
A stored file whose material is deleted or replaced is removed once the session commits."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.archive.access import network_ids_of
from hub.archive.models import (
    Material,
    MaterialAuthor,
    MaterialKind,
    MaterialTag,
    TagKind,
    Visibility,
)
from hub.archive.storage import StorageError, new_key, storage
from hub.archive.uploads import PDF, CheckedUpload, UploadRejected, check_upload, clean_filename
from hub.core.types import utcnow
from hub.directory.models import Person, fold_for_search
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, PlanItem
from hub.scheduling.validation import parse_email_list

log = logging.getLogger(__name__)

TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
URL_MAX = 2000
TAG_MAX = 100
TAGS_MAX = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MaterialError(ValueError):
    """What is wrong, by form field; `too_large` when the file was over the limit."""

    def __init__(self, errors: dict[str, str], *, too_large: bool = False) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.too_large = too_large


@dataclass
class Details:
    """What every material has, as the form gives it."""

    title: str
    description: str = ""
    authors: Sequence[Person] = ()
    #: Comma-separated words, as typed.
    topics: str = ""
    age_groups: str = ""
    format: EventFormat | None = None
    visibility: Visibility = Visibility.NETWORK
    #: One of the organisation's networks, or None for all of them.
    network_id: int | None = None
    #: None: the creator's organisation (or, without a creator, the event's host).
    organisation_id: int | None = None


# -- checks ---------------------------------------------------------------------------------

def school_year(day: date) -> int:
    """The school year's first calendar year: 1 September–31 August."""
    return day.year if day.month >= 9 else day.year - 1


def year_of(event: Event | None) -> int:
    """The school year of the event's start (in its own zone), or of today."""
    if event is None:
        return school_year(utcnow().date())
    return school_year(event.start_at.astimezone(ZoneInfo(event.timezone)).date())


def clean_url(value: str | None) -> str:
    """An http(s) link as typed (a bare «site.ru/…» gets https://); raises MaterialError."""
    url = (value or "").strip()
    if not url:
        raise MaterialError({"url": _("Give the link.")})
    if len(url) > URL_MAX:
        raise MaterialError({"url": _("The link is longer than %(n)d characters.", n=URL_MAX)})
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in url):
        raise MaterialError({"url": _("The link must not contain spaces or control characters.")})
    parts = urlsplit(url)
    if not parts.scheme and re.match(r"^[\w-]+(\.[\w-]+)+(/|$)", url):
        url = f"https://{url}"
        parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise MaterialError({"url": _(
            "Only web links starting with http:// or https:// can be added.")})
    return url


def _plain(text: str | None) -> str:
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n")).strip()


def parse_tags(text: str | None, field: str) -> list[tuple[str, str]]:
    """(label, folded value) of comma-separated words, without repeats."""
    found: dict[str, str] = {}
    for part in re.split(r"[,;\n]+", _plain(text)):
        label = " ".join(part.split())
        if not label:
            continue
        if len(label) > TAG_MAX:
            raise MaterialError({field: _("A tag is longer than %(n)d characters.", n=TAG_MAX)})
        found.setdefault(fold_for_search(label), label)
    if len(found) > TAGS_MAX:
        raise MaterialError({field: _("At most %(n)d tags.", n=TAGS_MAX)})
    return [(label, value) for value, label in found.items()]


def people_by_emails(text: str | None) -> list[Person]:
    """People of the hub by their addresses (one per line or comma-separated)."""
    from hub.directory.validation import InvalidValue

    try:
        emails = parse_email_list(text)
    except InvalidValue as error:
        raise MaterialError({"authors": str(error)}) from None
    people = {p.email: p for p in db.session.scalars(select(Person).where(
        Person.email.in_(emails), Person.active.is_(True)))} if emails else {}
    unknown = [e for e in emails if e not in people]
    if unknown:
        raise MaterialError({"authors": _("No one in the hub has the address %(emails)s.",
                                          emails=", ".join(unknown[:5]))})
    return [people[e] for e in emails]


def _organisation_id(details: Details, actor: Person | None, event: Event | None) -> int | None:
    if details.organisation_id is not None:
        return details.organisation_id
    if actor is not None:
        return actor.organisation_id
    if event is not None and event.hosts:
        return min(event.hosts, key=lambda h: h.id).organisation_id
    if event is not None and event.created_by is not None:
        return event.created_by.organisation_id
    return None


def _errors_of(details: Details, organisation_id: int | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    title = _plain(details.title)
    if not title:
        errors["title"] = _("Give the title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("The title is longer than %(n)d characters.", n=TITLE_MAX)
    if len(_plain(details.description)) > DESCRIPTION_MAX:
        errors["description"] = _("The description is longer than %(n)d characters.",
                                  n=DESCRIPTION_MAX)
    if details.network_id is not None and (
            organisation_id is None or details.network_id not in network_ids_of(organisation_id)):
        errors["network_id"] = _("Choose one of the organisation's networks.")
    for field, text in (("topics", details.topics), ("age_groups", details.age_groups)):
        try:
            parse_tags(text, field)
        except MaterialError as error:
            errors.update(error.errors)
    return errors


def details_errors(details: Details, actor: Person | None, event: Event | None = None
                   ) -> dict[str, str]:
    """What is wrong with the details (by form field), without adding anything."""
    return _errors_of(details, _organisation_id(details, actor, event))


def _apply(material: Material, details: Details, organisation_id: int | None) -> None:
    material.title = _plain(details.title)
    material.description = _plain(details.description)
    material.format = details.format
    material.visibility = details.visibility
    material.organisation_id = organisation_id
    material.network_id = details.network_id
    wanted = {p.id for p in details.authors}
    material.authors = [a for a in material.authors if a.person_id in wanted] + [
        MaterialAuthor(person_id=p.id) for p in dict.fromkeys(details.authors)
        if p.id not in {a.person_id for a in material.authors}]
    tags = [(TagKind.TOPIC, t) for t in parse_tags(details.topics, "topics")] + [
        (TagKind.AGE_GROUP, t) for t in parse_tags(details.age_groups, "age_groups")]
    kept = {(t.kind, t.value): t for t in material.tags}
    material.tags = [kept.get((kind, value)) or MaterialTag(kind=kind, label=label, value=value)
                     for kind, (label, value) in tags]
    for tag, (_kind, (label, _value)) in zip(material.tags, tags, strict=True):
        tag.label = label


def _new(kind: MaterialKind, actor: Person | None, details: Details, event: Event | None,
         plan_item: PlanItem | None) -> tuple[Material, int | None]:
    organisation_id = _organisation_id(details, actor, event)
    errors = _errors_of(details, organisation_id)
    if errors:
        raise MaterialError(errors)
    material = Material(kind=kind, event=event, plan_item=plan_item, year=year_of(event),
                        created_by=actor, published=True)
    if details.format is None and event is not None:
        details.format = event.format
    elif details.format is None and plan_item is not None:
        details.format = plan_item.format
    return material, organisation_id


# -- files kept in the store ----------------------------------------------------------------

def _max_bytes() -> int:
    return int(current_app.config["ARCHIVE_MAX_BYTES"])


def _checked(stream: BinaryIO, filename: str | None) -> CheckedUpload:
    try:
        return check_upload(stream, filename, max_bytes=_max_bytes())
    except UploadRejected as error:
        raise MaterialError({"file": str(error.message)}, too_large=error.too_large) from None


def _store(material: Material, upload: CheckedUpload) -> None:
    """Keep the file under a fresh key and point the material at it."""
    key = new_key()
    try:
        storage().put(key, upload.file, upload.type.content_type)
    finally:
        upload.close()
    if material.storage_key:
        delete_after_commit(material.storage_key)
    material.storage_key = key
    material.filename = upload.filename
    material.content_type = upload.type.content_type
    material.size = upload.size


def _purge(session: Session) -> None:
    for key in session.info.pop("archive_deleted_keys", []):
        try:
            storage().delete(key)
        except StorageError:
            log.warning("could not delete the stored file %s", key, exc_info=True)


def _forget(session: Session) -> None:
    session.info.pop("archive_deleted_keys", None)


def delete_after_commit(key: str) -> None:
    """Remove a stored file once the current transaction commits (kept if it rolls back)."""
    session = db.session()
    session.info.setdefault("archive_deleted_keys", []).append(key)
    if not sa_event.contains(session, "after_commit", _purge):
        sa_event.listen(session, "after_commit", _purge)
        sa_event.listen(session, "after_rollback", _forget)


def _flush_or_discard(material: Material, key: str) -> None:
    try:
        db.session.flush()
    except BaseException:
        storage().delete(key)
        raise


# -- the operations -------------------------------------------------------------------------

def create_file_material(actor: Person | None, details: Details, stream: BinaryIO,
                         filename: str | None, *, event: Event | None = None,
                         plan_item: PlanItem | None = None) -> Material:
    """A material of an uploaded file, checked by size and content; raises MaterialError."""
    try:
        material, organisation_id = _new(MaterialKind.FILE, actor, details, event, plan_item)
    except MaterialError as error:
        try:
            _checked(stream, filename).close()
        except MaterialError as file_error:
            error.errors.update(file_error.errors)
            error.too_large = file_error.too_large
        raise
    upload = _checked(stream, filename)
    _apply(material, details, organisation_id)
    _store(material, upload)
    db.session.add(material)
    _flush_or_discard(material, material.storage_key)
    return material


def create_link_material(actor: Person | None, details: Details, url: str | None, *,
                         event: Event | None = None, plan_item: PlanItem | None = None,
                         kind: MaterialKind = MaterialKind.LINK) -> Material:
    """A material of a web link (http or https only); raises MaterialError."""
    errors: dict[str, str] = {}
    try:
        url = clean_url(url)
    except MaterialError as error:
        errors.update(error.errors)
    try:
        material, organisation_id = _new(kind, actor, details, event, plan_item)
    except MaterialError as error:
        errors.update(error.errors)
    if errors:
        raise MaterialError(errors)
    material.url = url or ""
    _apply(material, details, organisation_id)
    db.session.add(material)
    db.session.flush()
    return material


def update_material(material: Material, details: Details, *, url: str | None = None,
                    stream: BinaryIO | None = None, filename: str | None = None) -> None:
    """Change what the form edits; a link's URL, or a file replaced by a new upload."""
    organisation_id = details.organisation_id or material.organisation_id
    errors = _errors_of(details, organisation_id)
    new_url = material.url
    if material.kind == MaterialKind.LINK:
        try:
            new_url = clean_url(url)
        except MaterialError as error:
            errors.update(error.errors)
    upload, too_large = None, False
    if stream is not None and material.kind == MaterialKind.FILE:
        try:
            upload = _checked(stream, filename)
        except MaterialError as error:
            errors.update(error.errors)
            too_large = error.too_large
    if errors:
        if upload is not None:
            upload.close()
        raise MaterialError(errors, too_large=too_large)
    material.url = new_url
    _apply(material, details, organisation_id)
    if upload is not None:
        _store(material, upload)
    db.session.flush()


def delete_material(material: Material) -> None:
    """Remove the material; its stored file goes when the session commits."""
    if material.storage_key:
        delete_after_commit(material.storage_key)
    db.session.delete(material)
    db.session.flush()


def set_published(material: Material, published: bool) -> None:
    """Show the material in the bank, or keep it to those who manage it."""
    material.published = published
    db.session.flush()


def materials_of_event(event: Event) -> list[Material]:
    """The event's materials, oldest first."""
    return list(db.session.scalars(select(Material).where(Material.event_id == event.id)
                                   .order_by(Material.created_at, Material.id)))


def _automatic_details(event: Event, title: str) -> Details:
    organisation_id = _organisation_id(Details(title=title), None, event)
    network_id = event.network_id if organisation_id is not None and (
        event.network_id in network_ids_of(organisation_id)) else None
    return Details(title=title[:TITLE_MAX], format=event.format, network_id=network_id,
                   organisation_id=organisation_id)


def add_board_export(event: Event, actor: Person | None = None) -> Material | None:
    """The event's board as a PDF material, made or refreshed (one per event); None when the
    event has no board or nothing on it is published."""
    from hub.board.access import Viewer
    from hub.board.export import board_pdf
    from hub.board.services import board_of_event
    from hub.board.state import state_for

    board = board_of_event(event)
    if board is None:
        return None
    reader = Viewer(key="archive", name="", person_id=None, moderator=False, can_post=False)
    state = state_for(board, reader)
    if not state["posts"]:
        return None
    pdf = board_pdf(state, timezone=event.timezone, title=board.display_title)
    material = db.session.scalar(select(Material).where(
        Material.event_id == event.id, Material.kind == MaterialKind.BOARD_EXPORT))
    if material is None:
        details = _automatic_details(event, _("Board: %(title)s", title=event.title))
        material, organisation_id = _new(MaterialKind.BOARD_EXPORT, actor, details, event, None)
        _apply(material, details, organisation_id)
        db.session.add(material)
    upload = CheckedUpload(file=io.BytesIO(pdf), type=PDF, size=len(pdf),
                           filename=clean_filename(f"board-{event.id}", "pdf"))
    _store(material, upload)
    _flush_or_discard(material, material.storage_key)
    return material


def add_recording(event: Event, url: str, title: str) -> Material:
    """A provider's recording of the event as a material (once per URL); raises
    MaterialError for a URL that is not http(s)."""
    url = clean_url(url)
    found = db.session.scalar(select(Material).where(
        Material.event_id == event.id, Material.kind == MaterialKind.RECORDING,
        Material.url == url))
    if found is not None:
        return found
    details = _automatic_details(event, _plain(title) or _("Recording: %(title)s",
                                                          title=event.title))
    return create_link_material(None, details, url, event=event, kind=MaterialKind.RECORDING)
