"""The year's joint plan of a network association (совместный план мероприятий на учебный год).

A network has at most one plan (created with its first item). The plan's items are months of
the network's school year (September to August), each with a topic, a format and the member
organisation responsible for it. The plan is approved when the coordinator of every member
organisation (NetworkMember.coordinator) has approved its current version; approvals record who
and when. Any change of the items after someone approved the current version raises the
version, so everyone is asked to approve again (the old approvals stay, as history).

Events carry out plan items (Event.plan_item_id); :func:`plan_progress` counts, per item, month
and year, the events created and held against what was planned; :func:`export_xlsx` writes the
plan as a Russian spreadsheet.

Like hub.directory.services: plain functions over ``db.session``; they check what they are given
(raw form text is fine), flush, and **never commit**; bad input raises :class:`PlanError`, whose
``errors`` maps each wrong field to a message fit for the user, before anything changes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.auth.permissions import is_municipal
from hub.core.types import utcnow
from hub.directory.models import Network, NetworkMember, Organisation, Person, Role
from hub.directory.validation import InvalidValue, clean_text
from hub.extensions import db
from hub.scheduling.models import (
    Event,
    EventFormat,
    EventStatus,
    Plan,
    PlanApproval,
    PlanItem,
    PlanStatus,
)

TOPIC_MAX = 300
#: A plan holds at most this many items (a busy network plans two or three a month).
ITEMS_MAX = 500
#: The school year begins in September.
FIRST_MONTH = 9

#: Russian month names (the nominative, as a plan's table has them), 1 = январь.
MONTHS_RU = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
             "сентябрь", "октябрь", "ноябрь", "декабрь")
#: Russian names of the formats, for the exported spreadsheet (a Russian document whatever the
#: interface language).
FORMATS_RU = {
    EventFormat.WEBINAR: "вебинар",
    EventFormat.SEMINAR_PRACTICUM: "семинар-практикум",
    EventFormat.ROUND_TABLE: "круглый стол",
    EventFormat.MASTER_CLASS: "мастер-класс",
    EventFormat.OPEN_LESSON: "открытый показ",
    EventFormat.BUSINESS_GAME: "деловая игра",
    EventFormat.METHODICAL_WEEK: "методическая неделя",
    EventFormat.MEETING: "совещание",
    EventFormat.CONFERENCE: "конференция",
    EventFormat.TELEBRIDGE: "телемост",
    EventFormat.INTERNSHIP_SESSION: "занятие цифровой интернатуры",
}
#: A draft event made from a plan item starts at this local time and lasts this long.
DRAFT_START = time(15, 0)
DRAFT_MINUTES = 90


class PlanError(InvalidValue):
    """Input the plan cannot accept. ``errors`` maps field names to user-facing messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


# --- the school year ------------------------------------------------------------------------

def school_year_months(network: Network) -> list[tuple[int, int]]:
    """(year, month) of every month of the network's school year, September to August."""
    first = int(network.school_year[:4])
    return [(first, m) for m in range(FIRST_MONTH, 13)] + [
        (first + 1, m) for m in range(1, FIRST_MONTH)]


def month_value(year: int, month: int) -> str:
    """How a form names a month: "2026-09"."""
    return f"{year:04d}-{month:02d}"


def month_name(year: int, month: int) -> str:
    """«сентябрь 2026» (Russian, for the spreadsheet)."""
    return f"{MONTHS_RU[month - 1]} {year}"


def parse_month(value: Any, network: Network) -> tuple[int, int]:
    """A month of the network's school year from "2026-09" or (2026, 9)."""
    if isinstance(value, tuple) and len(value) == 2:
        candidate = value
    else:
        text = str(value or "").strip()
        parts = text.split("-")
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 4
                                      for p in parts):
            raise InvalidValue(_("Choose a month of the school year from the list."))
        candidate = (int(parts[0]), int(parts[1]))
    if candidate not in school_year_months(network):
        raise InvalidValue(_("The month must be within the school year %(year)s "
                             "(September to August).", year=network.school_year))
    return candidate


# --- who may do what ------------------------------------------------------------------------

def member_of(user: Person, network: Network) -> NetworkMember | None:
    """The membership whose coordinator `user` is (they approve the plan for it)."""
    for member in network.members:
        if member.coordinator_id == user.id:
            return member
    return None


def can_view_plan(user: Person, network: Network) -> bool:
    """Anyone signed in (networks and their members are public within the hub)."""
    return bool(user.is_authenticated)


def can_edit_plan(user: Person, network: Network) -> bool:
    """Add, change and remove items, make events from them: the municipal coordinator and the
    network's member coordinators, while the network is active."""
    if not user.is_authenticated or not network.active:
        return False
    return is_municipal(user) or member_of(user, network) is not None


def can_approve_plan(user: Person, network: Network) -> bool:
    """Approve the plan for a member organisation: that member's coordinator."""
    return bool(user.is_authenticated) and network.active and member_of(user, network) is not None


# --- the plan and its items -------------------------------------------------------------------

def plan_of(network: Network, *, for_page: bool = True) -> Plan | None:
    """The network's plan; None before the first item. `for_page`: with its items, their
    events and the approvals loaded at once (for pages and the export)."""
    statement = select(Plan).where(Plan.network_id == network.id)
    if for_page:
        statement = statement.options(
            selectinload(Plan.items).selectinload(PlanItem.responsible),
            selectinload(Plan.items).selectinload(PlanItem.events),
            selectinload(Plan.approvals).selectinload(PlanApproval.person),
        )
    return db.session.scalar(statement)


def get_or_create_plan(network: Network) -> Plan:
    plan = plan_of(network, for_page=False)
    if plan is None:
        plan = Plan(network=network, version=1)
        db.session.add(plan)
        db.session.flush()
    return plan


def _responsible(value: Any, network: Network, current: PlanItem | None) -> Organisation:
    try:
        ident = value.id if isinstance(value, Organisation) else int(value)
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a member organisation from the list.")) from None
    members = {m.organisation_id: m.organisation for m in network.members}
    if ident in members:
        return members[ident]
    if current is not None and current.responsible_id == ident:
        return current.responsible  # no longer a member, but left as it was
    raise InvalidValue(_("The responsible organisation must be a member of the network."))


def _format(value: Any) -> EventFormat:
    try:
        return EventFormat(int(value))
    except (TypeError, ValueError):
        raise InvalidValue(_("Choose a format from the list.")) from None


def _clean_item(values: Mapping[str, Any], network: Network,
                current: PlanItem | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    checks = {
        "month": lambda v: parse_month(v, network),
        "topic": lambda v: clean_text(v, max_length=TOPIC_MAX, required=True, field=_("Topic")),
        "format": _format,
        "responsible": lambda v: _responsible(v, network, current),
    }
    for name, value in values.items():
        if name not in checks:
            raise TypeError(f"unknown plan item field {name!r}")
        try:
            clean[name] = checks[name](value)
        except InvalidValue as error:
            errors[name] = str(error)
    if errors:
        raise PlanError(errors)
    return clean


def _approved_now(plan: Plan) -> bool:
    return any(a.version == plan.version for a in plan.approvals)


def _changed(plan: Plan) -> None:
    """The items changed: a version someone approved is closed, approval starts again."""
    if _approved_now(plan):
        plan.version += 1
    plan.updated_at = utcnow()


def add_item(network: Network, *, month: Any, topic: str, format: Any,
             responsible: Any) -> PlanItem:
    """A new item of the network's plan (the plan is made with its first item)."""
    values = _clean_item({"month": month, "topic": topic, "format": format,
                          "responsible": responsible}, network, None)
    plan = get_or_create_plan(network)
    if len(plan.items) >= ITEMS_MAX:
        raise PlanError({"topic": _("A plan holds at most %(n)d items.", n=ITEMS_MAX)})
    year, month_number = values["month"]
    item = PlanItem(year=year, month=month_number, topic=values["topic"],
                    format=values["format"], responsible=values["responsible"])
    plan.items.append(item)
    _changed(plan)
    db.session.flush()
    return item


def update_item(item: PlanItem, **changes: Any) -> bool:
    """Change any of month, topic, format, responsible. True when something changed (and then
    an approved version is closed)."""
    plan = item.plan
    values = _clean_item(changes, plan.network, item)
    new = {}
    if "month" in values:
        new["year"], new["month"] = values.pop("month")
    new.update(values)
    changed = {k: v for k, v in new.items() if getattr(item, k) != v}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(item, name, value)
    _changed(plan)
    db.session.flush()
    return True


def delete_item(item: PlanItem) -> None:
    """Remove an item. Refused while events carry it out (cancelled ones are let go)."""
    live = [e for e in item.events if e.status != EventStatus.CANCELLED]
    if live:
        raise PlanError({"item": _(
            "“%(topic)s” has events (%(n)d): change the item instead of deleting it.",
            topic=item.topic, n=len(live))})
    for event in item.events:
        event.plan_item_id = None
    plan = item.plan
    plan.items.remove(item)
    db.session.delete(item)
    _changed(plan)
    db.session.flush()


def item_of(network: Network, item_id: Any) -> PlanItem | None:
    """The item `item_id` of this network's plan; None for anything else (another network's
    item, a tampered id)."""
    try:
        ident = int(item_id)
    except (TypeError, ValueError):
        return None
    item = db.session.get(PlanItem, ident)
    if item is None or item.plan.network_id != network.id:
        return None
    return item


# --- approval ---------------------------------------------------------------------------------

@dataclass
class ApprovalRow:
    """A member organisation and where its approval stands."""

    member: NetworkMember
    #: Its approval of the current version, if given.
    approval: PlanApproval | None
    #: Its latest approval of an earlier version (shown as "approved version 2 on …").
    earlier: PlanApproval | None


def approval_rows(plan: Plan | None, network: Network) -> list[ApprovalRow]:
    rows = []
    approvals = list(plan.approvals) if plan is not None else []
    for member in network.members:
        own = [a for a in approvals if a.organisation_id == member.organisation_id]
        current = next((a for a in own if a.version == plan.version), None) if plan else None
        earlier = max((a for a in own if plan is None or a.version < plan.version),
                      key=lambda a: a.version, default=None)
        rows.append(ApprovalRow(member=member, approval=current, earlier=earlier))
    return rows


def plan_status(plan: Plan | None, network: Network) -> PlanStatus:
    """APPROVED when the plan has items and every member approved its current version."""
    if plan is None or not plan.items:
        return PlanStatus.DRAFT
    rows = approval_rows(plan, network)
    return PlanStatus.APPROVED if all(r.approval for r in rows) else PlanStatus.DRAFT


def approve(network: Network, actor: Person, version: Any = None) -> PlanApproval:
    """`actor` approves the plan's current version for the member they coordinate.

    `version` is the version the approver was shown: when the plan has changed since, nothing
    is recorded (they should read it again). Approving twice is harmless.
    """
    member = member_of(actor, network)
    if member is None or not network.active:
        raise PlanError({"plan": _("Only the coordinators of the member organisations approve "
                                   "the plan.")})
    plan = plan_of(network, for_page=False)
    if plan is None or not plan.items:
        raise PlanError({"plan": _("The plan has no items yet: there is nothing to approve.")})
    if version is not None:
        try:
            seen = int(version)
        except (TypeError, ValueError):
            seen = -1
        if seen != plan.version:
            raise PlanError({"plan": _(
                "The plan has changed since you opened it (it is version %(n)d now). "
                "Read it again, then approve.", n=plan.version)})
    for existing in plan.approvals:
        if existing.organisation_id == member.organisation_id and existing.version == plan.version:
            return existing
    approval = PlanApproval(organisation_id=member.organisation_id, person=actor,
                            version=plan.version, approved_at=utcnow())
    plan.approvals.append(approval)
    db.session.flush()
    return approval


# --- planned against held ---------------------------------------------------------------------

def is_held(event: Event, now: datetime) -> bool:
    """Held: marked completed, or scheduled and already over (never a cancelled or draft one)."""
    if event.status == EventStatus.COMPLETED:
        return True
    return event.status == EventStatus.SCHEDULED and event.end_at <= now


def counts(event: Event) -> bool:
    """Whether an event counts as carrying out its item (drafts and cancelled ones do not)."""
    return event.status in (EventStatus.SCHEDULED, EventStatus.COMPLETED)


@dataclass
class ItemProgress:
    item: PlanItem
    #: Every event made from the item, by start (drafts and cancelled ones included).
    events: list[Event]
    created: int = 0
    held: int = 0

    @property
    def done(self) -> bool:
        return self.held > 0


@dataclass
class MonthProgress:
    year: int
    month: int
    items: list[ItemProgress] = field(default_factory=list)
    #: Outside the network's school year (its year was changed after the item was planned).
    outside: bool = False

    @property
    def planned(self) -> int:
        return len(self.items)

    @property
    def created(self) -> int:
        return sum(i.created for i in self.items)

    @property
    def held(self) -> int:
        return sum(i.held for i in self.items)

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)


@dataclass
class PlanProgress:
    months: list[MonthProgress]

    @property
    def planned(self) -> int:
        return sum(m.planned for m in self.months)

    @property
    def created(self) -> int:
        return sum(m.created for m in self.months)

    @property
    def held(self) -> int:
        return sum(m.held for m in self.months)

    @property
    def done(self) -> int:
        return sum(m.done for m in self.months)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.planned) if self.planned else 0


def plan_progress(plan: Plan | None, network: Network,
                  now: datetime | None = None) -> PlanProgress:
    """Per month (of the school year, in order) and per item: events created and held."""
    now = now or utcnow()
    in_year = school_year_months(network)
    months: dict[tuple[int, int], MonthProgress] = {}
    for item in plan.items if plan is not None else []:
        key = (item.year, item.month)
        if key not in months:
            months[key] = MonthProgress(item.year, item.month, outside=key not in in_year)
        events = sorted(item.events, key=lambda e: (e.start_at, e.id))
        progress = ItemProgress(item=item, events=events,
                                created=sum(1 for e in events if counts(e)),
                                held=sum(1 for e in events if is_held(e, now)))
        months[key].items.append(progress)
    return PlanProgress(months=[months[k] for k in sorted(months)])


# --- events from items ------------------------------------------------------------------------

def draft_start(item: PlanItem, zone: str, today: date) -> datetime:
    """A first guess for an event of the item: the first working day of its month still ahead
    (or the month's first working day when the month has begun and none is left), at 15:00."""
    first = date(item.year, item.month, 1)
    next_month = date(item.year + item.month // 12, item.month % 12 + 1, 1)
    candidates = [first + timedelta(days=n) for n in range((next_month - first).days)]
    workdays = [d for d in candidates if d.weekday() < 5]
    ahead = [d for d in workdays if d > today]
    day = (ahead or workdays)[0]
    return datetime.combine(day, DRAFT_START, tzinfo=ZoneInfo(zone))


def create_event_from_item(item: PlanItem, actor: Person, now: datetime | None = None) -> Event:
    """A draft event carrying out the item, made by the scheduling services as `actor` (its
    organiser): the item's topic as the title, its format, the responsible organisation as host
    (with the actor's own, when an organisation coordinator of another member makes it), the
    whole network as the audience, in the item's month at 15:00 in the host's zone. The
    organiser sets the real date and time before publishing; no invitations go out for a
    draft."""
    from hub.scheduling.services import create_event
    from hub.scheduling.spec import EventSpec, SchedulingError

    now = now or utcnow()
    network = item.plan.network
    if not can_edit_plan(actor, network):
        raise PlanError({"item": _("You cannot make events from this plan.")})
    zone = item.responsible.timezone or "Europe/Moscow"
    start = draft_start(item, zone, now.astimezone(ZoneInfo(zone)).date())
    end = start + timedelta(minutes=DRAFT_MINUTES)
    hosts = [item.responsible_id]
    if actor.role == Role.ORG_COORDINATOR and actor.organisation_id not in hosts:
        hosts.append(actor.organisation_id)
    spec = EventSpec(
        format=item.format, title=item.topic, timezone=zone, start_date=start.date(),
        start_time=start.time(), end_date=end.date(), end_time=end.time(), host_ids=hosts,
        network_id=network.id, audience_network_ids=[network.id])
    try:
        event = create_event(actor, spec)
    except SchedulingError as error:
        raise PlanError({"item": " ".join(error.errors.values())}) from None
    event.plan_item_id = item.id
    db.session.flush()
    return event


# --- the spreadsheet --------------------------------------------------------------------------

def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")


def export_xlsx(network: Network, zone: str, now: datetime | None = None) -> bytes:
    """The plan as an XLSX workbook: one sheet «План» with the items by month (planned, created,
    held) and, below them, the approvals of the current version. Russian headers; times in
    `zone`, named in the sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    now = now or utcnow()
    plan = plan_of(network)
    progress = plan_progress(plan, network, now)
    status = plan_status(plan, network)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "План"
    thin = Side(style="thin", color="A0A7B4")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE3F0")
    month_fill = PatternFill("solid", fgColor="EEF1F6")
    wrap = Alignment(wrap_text=True, vertical="top")
    center = Alignment(horizontal="center", vertical="top", wrap_text=True)
    widths = (6, 16, 60, 22, 34, 12, 12, 40)

    sheet.append([f"Совместный план мероприятий сетевого объединения «{network.name}»"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"на {network.school_year} учебный год"])
    sheet["A2"].font = Font(bold=True, size=12)
    status_text = ("согласован всеми участниками" if status == PlanStatus.APPROVED
                   else "на согласовании")
    version = plan.version if plan is not None else 1
    sheet.append([f"Версия {version}, {status_text}. Выгружено {_local(now, zone)} "
                  f"(часовой пояс {zone})."])
    sheet.append([])

    headers = ("№ п/п", "Месяц", "Тема мероприятия", "Форма проведения",
               "Ответственная организация", "Создано мероприятий", "Проведено",
               "Мероприятия (дата, время)")
    sheet.append(list(headers))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
        cell.fill = header_fill
        cell.border = border
        cell.alignment = center

    number = 0
    for month in progress.months:
        label = month_name(month.year, month.month)
        if month.outside:
            label += " (вне учебного года)"
        sheet.append(["", label.capitalize()])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(headers))
        for column in range(1, len(headers) + 1):
            cell = sheet.cell(row=row, column=column)
            cell.fill = month_fill
            cell.border = border
            cell.font = bold
        for entry in month.items:
            number += 1
            item = entry.item
            events = "\n".join(
                f"{_local(e.start_at, zone)} — {e.title}"
                + (" (отменено)" if e.status == EventStatus.CANCELLED else "")
                for e in entry.events if e.status != EventStatus.DRAFT)
            sheet.append([number, month_name(item.year, item.month), item.topic,
                          FORMATS_RU[item.format], item.responsible.full_name,
                          entry.created, entry.held, events])
            for cell in sheet[sheet.max_row]:
                cell.border = border
                cell.alignment = wrap
            for column in (1, 6, 7):
                sheet.cell(row=sheet.max_row, column=column).alignment = center
    sheet.append(["", "Итого", f"запланировано: {progress.planned}", "", "",
                  progress.created, progress.held,
                  f"проведено по {progress.done} из {progress.planned} пунктов плана"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
        cell.border = border
        cell.alignment = wrap

    sheet.append([])
    sheet.append(["", f"Согласование (версия {version})"])
    sheet.cell(row=sheet.max_row, column=2).font = Font(bold=True, size=12)
    sheet.append(["№ п/п", "Статус", "Организация", "Координатор", "Должность",
                  "Дата", "Время", "Примечание"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
        cell.fill = header_fill
        cell.border = border
        cell.alignment = center
    for index, row in enumerate(approval_rows(plan, network), start=1):
        approval = row.approval
        when = approval.approved_at.astimezone(ZoneInfo(zone)) if approval else None
        note = ""
        if approval is None and row.earlier is not None:
            note = (f"согласовал(а) версию {row.earlier.version} "
                    f"{_local(row.earlier.approved_at, zone)}")
        person = approval.person if approval else row.member.coordinator
        sheet.append([index, "согласовано" if approval else "не согласовано",
                      row.member.organisation.full_name, person.full_name, person.position,
                      when.strftime("%d.%m.%Y") if when else "",
                      when.strftime("%H:%M") if when else "", note])
        for cell in sheet[sheet.max_row]:
            cell.border = border
            cell.alignment = wrap
        if approval is None:
            sheet.cell(row=sheet.max_row, column=2).font = Font(color="C53030")

    for row in sheet.iter_rows():  # no formulas here: a topic or name like "=1+1" stays text
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    workbook.properties.title = f"Совместный план «{network.name}» {network.school_year}"
    workbook.properties.creator = "Vmeste hub"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(network: Network) -> str:
    """«План Растим инженеров 2026-2027.xlsx» (the view adds an ASCII fallback)."""
    safe = "".join(ch for ch in network.name if ch.isalnum() or ch in " -_")[:80].strip()
    return f"План {safe or network.id} {network.school_year.replace('/', '-')}.xlsx"


def members_for_choice(network: Network, include: Iterable[int] = ()) -> list[Organisation]:
    """The member organisations (and `include`: a current value no longer a member)."""
    orgs = [m.organisation for m in network.members]
    known = {o.id for o in orgs}
    for ident in include:
        if ident and ident not in known:
            extra = db.session.get(Organisation, ident)
            if extra is not None:
                orgs.append(extra)
    return orgs
