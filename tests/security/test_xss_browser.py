"""The XSS corpus (tests/security/xss_corpus.py) put into every text a user can type, then every
page that shows it opened in a real browser (headless Chromium) as each role: no payload runs,
no payload becomes live markup (an event handler, a script URL, a srcdoc), and the texts are
shown as text. The Content-Security-Policy is bypassed, so this proves the escaping itself.

One seeding serves all pages: each test seeds once and opens each page once per role, and
collects every finding before failing, so a failure lists them all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from hub.archive import digest
from hub.archive.models import Material
from hub.archive.services import Details, create_link_material
from hub.attendance import services as attendance
from hub.attendance.models import Attendance, Status
from hub.board.access import Viewer
from hub.board.models import Board
from hub.board.services import create_comment, create_post, create_section, ensure_board
from hub.calendar.invitations import invitation_token, new_invitation, queue_requests, run_batches
from hub.core.tokens import hash_token
from hub.directory.models import Network, Organisation, OrgKind, Person, Role
from hub.extensions import db
from hub.growth import certificates, feedback
from hub.growth.models import FeedbackRequest, InternshipCompletion
from hub.outbox.models import OutboxMessage
from hub.outbox.views import parse
from hub.reports import reminders as report_reminders
from hub.reports import services as reports
from hub.scheduling import plan
from hub.scheduling.models import Event, EventFormat, Invitation
from hub.scheduling.validation import sanitize_description
from tests.calendar.conftest import invite, make_event, make_series  # noqa: F401
from tests.conftest import PASSWORD, socket_server_of
from tests.e2e.conftest import (  # noqa: F401
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    _server,
    find_chromium,
    live_server,
    sign_in,
)
from tests.plan.conftest import make_event as plain_event
from tests.reports.conftest import World, attend, event, host, world  # noqa: F401
from tests.security.xss_corpus import PAYLOADS, SHORT, Payload, combined, payload

pytestmark = pytest.mark.e2e

#: Runs in every frame before the page's own scripts: what a payload calls when it runs.
INIT = "window.__xss = (id) => window.__xss_report(String(id));"

#: Finds payloads that became live markup rather than text (run in the page).
LIVE_MARKUP = r"""() => {
  const bad = [];
  const urlish = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href',
                          'poster', 'background', 'codebase', 'srcset']);
  const describe = (el, a) => `<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 80)}">`;
  const sandboxed = (el) => el.hasAttribute('sandbox')
    && !/allow-scripts/i.test(el.getAttribute('sandbox'));
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const live = name.startsWith('on') || name === 'style'
        || (name === 'srcdoc' && !sandboxed(el));
      if (live && /xss/i.test(a.value)) {
        bad.push(describe(el, a));
      } else if (urlish.has(name)) {
        let scheme = '';
        try { scheme = new URL(a.value, document.baseURI).protocol; } catch (e) { scheme = ''; }
        if (['javascript:', 'data:', 'vbscript:'].includes(scheme) && /xss|script/i.test(a.value)) {
          bad.push(describe(el, a));
        }
      }
    }
  }
  for (const el of document.querySelectorAll('style')) {
    if (/xss/i.test(el.textContent)) bad.push('<style> with a payload');
  }
  for (const el of document.querySelectorAll('base, body meta[http-equiv]')) {
    bad.push(`<${el.tagName.toLowerCase()}> from a payload`);
  }
  return bad;
}"""

#: The text of the page as people read it: text nodes outside scripts, styles and templates.
PAGE_TEXT = r"""() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest('script, style, template, noscript')) parts.push(node.data);
  }
  for (const el of document.querySelectorAll('input[type=text], input:not([type])')) {
    parts.push(' ' + el.value + ' ');
  }
  return parts.join('');
}"""


def normalised(text: str) -> str:
    """Whitespace collapsed, invisible and control characters dropped (as Payload.shown)."""
    kept = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return " ".join(kept.split())


def marker(p: Payload) -> str:
    """What a payload shown as text always contains, however it is cut or wrapped."""
    return f"__xss('{p.id}')"


# -- the browser -----------------------------------------------------------------------------

@dataclass
class Findings:
    """What went wrong, page by page; the test fails with all of it."""

    ran: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pages: int = 0

    def report(self) -> str:
        return "\n".join([f"{len(self.ran)} payloads ran:", *self.ran,
                          f"{len(self.problems)} other problems:", *self.problems])


class Visitor:
    """One role's browser context (CSP bypassed), which opens pages and checks each."""

    def __init__(self, chromium, base: str, findings: Findings, who: str) -> None:  # type: ignore[no-untyped-def]
        self.base, self.findings, self.who = base, findings, who
        self.context = chromium.new_context(bypass_csp=True, locale="en-US",
                                           timezone_id="Europe/Moscow",
                                           viewport={"width": 1280, "height": 800})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.where = ""
        self.context.expose_function("__xss_report", self._ran)
        self.context.add_init_script(INIT)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)

    def _ran(self, payload_id: str) -> None:
        self.findings.ran.append(f"{self.who} {self.where}: payload {payload_id!r} ran")

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.findings.ran.append(
            f"{self.who} {self.where}: a {dialog.type} dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def sign_in(self, person: Person) -> Visitor:
        sign_in(self.page, self.base, person.email, PASSWORD)
        return self

    def visit(self, path: str, shows: tuple[Payload, ...] = (), *, ready: str = "",
              status: int = 200) -> str:
        """Open `path`, let it settle, check it; returns the page's text."""
        self.where = path
        response = self.page.goto(self.base + path, wait_until="load")
        return self.check(path, shows, ready=ready, status=status,
                          got=response.status if response else 0)

    def check(self, where: str, shows: tuple[Payload, ...] = (), *, ready: str = "",
              status: int = 200, got: int = 200) -> str:
        """Check the page as it is now (after a visit or a form's answer)."""
        self.where = where
        self.findings.pages += 1
        if got != status:
            self.findings.problems.append(f"{self.who} {where}: status {got}, not {status}")
        if ready:
            self.page.locator(ready).first.wait_for(state="attached")
        self.page.wait_for_timeout(60)  # autofocus, ontoggle and onload handlers fire here
        for element in self.page.evaluate(LIVE_MARKUP):
            self.findings.problems.append(f"{self.who} {where}: live markup {element}")
        text = normalised(self.page.evaluate(PAGE_TEXT))
        for p in shows:
            if marker(p) not in text:
                self.findings.problems.append(
                    f"{self.who} {where}: payload {p.id!r} is not shown as text")
        return text

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The e2e tests' Chromium when their session has started it (Playwright's sync API runs
    one instance per thread, so a second one would fail), else one for this module."""
    e2e = next((item for item in request.session.items
                if item.nodeid.startswith("tests/e2e/")), None)
    fixturedefs = (request.session._fixturemanager.getfixturedefs("browser", e2e) or ()
                   if e2e is not None else ())
    running = [d.cached_result[0] for d in fixturedefs
               if d.cached_result is not None and d.cached_result[2] is None]
    if running:
        yield running[0]
        return
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the playwright package is not installed")
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium, or `make chromium`)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def visitors(chromium, live_server) -> Iterator[tuple[Findings, Any]]:  # type: ignore[no-untyped-def]  # noqa: F811
    """(findings, open(who)) — browser contexts for roles, closed after the test."""
    findings = Findings()
    opened: list[Visitor] = []

    def open_as(who: str, person: Person | None = None) -> Visitor:
        visitor = Visitor(chromium, live_server, findings, who)
        opened.append(visitor)
        return visitor.sign_in(person) if person is not None else visitor

    yield findings, open_as
    for visitor in opened:
        visitor.close()


@pytest.fixture(autouse=True)
def _real_socket_server(app: Flask) -> Iterator[None]:
    """The board's browsers talk to the Socket.IO server of the live app (see socket_server_of)."""
    with socket_server_of(app, real_packets=True):
        yield


# -- seeding ---------------------------------------------------------------------------------

def stored(text: str) -> str:
    """What the database can hold: PostgreSQL refuses NUL in text, so no form can store one."""
    return text.replace("\x00", "") if db.engine.dialect.name == "postgresql" else text


def pick(pool: tuple[Payload, ...], i: int) -> Payload:
    return pool[i % len(pool)]


@dataclass
class Seeded:
    """What the pages are opened with, and which payload each place holds."""

    world: World
    network: Network
    board: Board
    plan_item_id: int
    topics: tuple[Payload, ...]
    event_ids: list[int]
    materials: list[Material]
    certificate: str
    revoked: str
    invitation_token: str
    survey_token: str
    seminar_title: tuple[Payload, ...]
    org_names: tuple[Payload, ...]
    extra_orgs: list[tuple[int, Payload, Payload]]
    people_names: list[tuple[int, Payload, Payload]]
    posts: tuple[Payload, ...]
    sections: tuple[Payload, ...]
    comment: tuple[Payload, ...]
    guest: Payload
    feedback_comment: tuple[Payload, ...]
    report_comment: tuple[Payload, ...]
    period_title: Payload
    internship_comment: tuple[Payload, ...]
    network_name: Payload
    network_description: tuple[Payload, ...]
    program_title: Payload
    override_reason: Payload
    note: Payload
    guest_name: Payload
    holder: Payload
    position: Payload


def _ids(*ids: str) -> tuple[Payload, ...]:
    return tuple(payload(i) for i in ids)


def seed(world: World, people, network: Network) -> Seeded:  # type: ignore[no-untyped-def]  # noqa: F811
    """Every text field of the hub filled with payloads: the directory, events, the plan, the
    board, the bank, attendance, certificates, feedback, the internship and reports."""
    kindergarten, coordinator, teacher = world.kindergarten, people.coordinator, people.teacher
    now = datetime.now(UTC)

    # The directory: organisations, people, the network.
    org_names = _ids("attr-dq", "attr-sq")
    kindergarten.full_name = stored(combined("attr-focus", "script", "title"))
    kindergarten.short_name = org_names[0].text
    world.other.short_name = org_names[1].text
    extra_orgs = []
    for i, p in enumerate(PAYLOADS):
        short = pick(SHORT, i + 3)
        org = Organisation(full_name=stored(p.text), short_name=stored(short.text),
                           municipality=stored(pick(SHORT, i + 7).text),
                           kind=OrgKind.SOCIAL_PARTNER if i % 2 else OrgKind.SCHOOL,
                           timezone="Europe/Moscow")
        db.session.add(org)
        db.session.flush()
        extra_orgs.append((org.id, p, short))
    people_names = []
    for i, p in enumerate(SHORT):
        position = pick(PAYLOADS, i + 11)
        person = Person(surname=stored(p.text), first_name="Мария",
                        patronymic=stored(pick(SHORT, i + 5).text),
                        email=f"xss{i}@example.org", organisation=kindergarten,
                        position=stored(position.text[:200]), role=Role.TEACHER)
        db.session.add(person)
        db.session.flush()
        people_names.append((person.id, p, position))
    position = payload("textarea")
    teacher.position = position.text
    network_name, network_description = payload("attr-focus"), _ids(
        "script", "img-onerror", "js-link", "md-link", "textarea", "template", "css", "math")
    network.name = network_name.text
    network.description = stored(combined(*(p.id for p in network_description)))

    # Events: the report's events carry payloads, and one more event per payload.
    seminar_title = _ids("script", "attr-dq", "attr-sq", "title", "js-string")
    world.seminar.title = combined(*(p.id for p in seminar_title))
    world.seminar.description_html = sanitize_description(combined(
        "script", "img-onerror", "js-link", "js-entity", "js-tab", "iframe", "css", "data-link"))
    world.seminar.network_id = network.id
    world.webinar.title = combined("script-close", "backtick", "template")
    world.late_evening.title = combined("img-onerror", "svg-onload", "unicode", "entities")
    program_title = payload("details")
    world.program.title = program_title.text
    for session in world.program.events:
        session.title = program_title.text
    item = plan.add_item(network, month=plan.month_value(2026, 12), topic=payload("math").text,
                         format=EventFormat.ROUND_TABLE, responsible=kindergarten.id)
    months = plan.school_year_months(network)
    topics = [payload("math")]
    for i, p in enumerate(PAYLOADS[1:], start=1):
        try:
            plan.add_item(network, month=plan.month_value(*months[i % len(months)]),
                          topic=p.text, format=EventFormat.WEBINAR, responsible=kindergarten.id)
        except plan.PlanError:  # the plan refuses it (control characters): nothing to show
            continue
        topics.append(p)
    event_ids = []
    for i, p in enumerate(PAYLOADS):
        extra = plain_event(start=datetime(2026, 11, 26, 6, tzinfo=UTC) + timedelta(hours=5 * i),
                            title=stored(p.text), hosts=(kindergarten,), organisers=(coordinator,),
                            audience=(teacher,), network=network,
                            plan_item=item if i == 0 else None, created_by=coordinator)
        extra.description_html = sanitize_description(p.text)
        event_ids.append(extra.id)
        new_invitation(extra, teacher)
    db.session.commit()

    # The live board of the seminar: sections, posts, a comment, a guest's post.
    board = ensure_board(world.seminar)
    db.session.flush()
    moderator = Viewer(key=f"p{coordinator.id}", name=coordinator.full_name,
                       person_id=coordinator.id, moderator=True, can_post=True)
    writer = Viewer(key=f"p{teacher.id}", name=teacher.full_name, person_id=teacher.id,
                    moderator=False, can_post=True)
    sections = _ids("attr-dq", "svg-onload", "template")
    section_ids = [create_section(board, moderator, {"title": p.text}).id for p in sections]
    posts = PAYLOADS
    first = None
    for i, p in enumerate(posts):
        post = create_post(board, writer, {"body": p.text, "section_id": section_ids[i % 3],
                                           "link": "https://example.org/?q=\"'><x>" if i == 0
                                           else ""})
        first = first or post
    comment = _ids("script", "img-onerror", "md-link", "attr-dq")
    create_comment(board, moderator, {"post_id": first.id, "body": combined(
        *(p.id for p in comment))})
    guest = payload("svg-onload")
    create_post(board, Viewer(key="gxss", name=guest.text, person_id=None, moderator=False,
                              can_post=True), {"body": "гость"})
    db.session.commit()

    # The bank: link materials with payloads in every field, searchable by «робототехника».
    materials = []
    for i, p in enumerate(PAYLOADS):
        tag = pick(tuple(s for s in SHORT if not re.search(r"[,;\n]", s.text)), i)
        details = Details(title=stored(f"Робототехника {p.text}"),
                          description=stored(f"{pick(PAYLOADS, i + 5).text} робототехника "
                                             f"{p.text}"),
                          authors=[teacher], topics=tag.text, age_groups=tag.text,
                          network_id=network.id)
        materials.append(create_link_material(coordinator, details,
                                              f"https://example.org/m/{i}",
                                              event=world.seminar if i < 5 else None))
    db.session.commit()

    # Attendance: a guest, an organiser's override and a note; certificates.
    guest_name, override_reason, note = (payload("img-onerror"), payload("attr-focus"),
                                         payload("textarea"))
    with time_machine.travel(world.seminar.end_at + timedelta(days=1)):
        extra_guest = attendance.add_guest(world.seminar, guest_name.text, "", coordinator)
        attendance.record_manual(extra_guest, world.seminar.start_at, world.seminar.end_at,
                                 note.text, coordinator)
        record = attendance.record_of(world.seminar, people.other_teacher)
        attendance.set_override(record, Status.EXCUSED, override_reason.text, coordinator)
    db.session.commit()
    holder = payload("attr-dq")
    credited = db.session.scalar(select(Attendance).where(
        Attendance.event_id == world.seminar.id, Attendance.person_id == teacher.id))
    certificate = certificates.issue_for(credited, coordinator)
    certificate.holder_name = combined("attr-dq", "script")
    certificate.organisers = combined("img-onerror", "title")
    late = db.session.scalar(select(Attendance).where(
        Attendance.event_id == world.late_evening.id, Attendance.person_id == teacher.id))
    revoked = certificates.issue_for(late, coordinator)
    certificates.revoke(revoked, coordinator, payload("svg-onload").text)
    db.session.commit()

    # Feedback (one answered, one to answer), the internship, the report.
    feedback_comment = _ids("script", "md-link", "attr-sq", "unicode")
    answered = FeedbackRequest(event_id=world.seminar.id, person_id=teacher.id,
                               token_hash=hash_token("answered-token"), sent_at=now)
    survey_token = "survey-token-xss"
    db.session.add_all([answered, FeedbackRequest(
        event_id=world.seminar.id, person_id=people.other_teacher.id,
        token_hash=hash_token(survey_token), sent_at=now)])
    db.session.flush()
    feedback.answer(answered, 4, [], stored(combined(*(p.id for p in feedback_comment))))
    internship_comment = _ids("img-case", "textarea", "js-string")
    completion = db.session.scalar(select(InternshipCompletion))
    completion.comment = combined(*(p.id for p in internship_comment))
    period_title = payload("title")
    world.period.title = period_title.text
    report_comment = _ids("textarea", "script", "attr-dq", "noscript")
    reports.save_comment(reports.report_of(world.period, kindergarten.id),
                         combined(*(p.id for p in report_comment)))
    db.session.commit()

    invitation = db.session.scalar(select(Invitation).where(
        Invitation.event_id == world.seminar.id, Invitation.person_id == teacher.id))
    return Seeded(
        world=world, network=network, board=board, plan_item_id=item.id, topics=tuple(topics),
        event_ids=event_ids,
        materials=materials, certificate=certificate.code, revoked=revoked.code,
        invitation_token=invitation_token(invitation), survey_token=survey_token,
        seminar_title=seminar_title, org_names=org_names, extra_orgs=extra_orgs,
        people_names=people_names, posts=posts, sections=sections, comment=comment,
        guest=guest, feedback_comment=feedback_comment, report_comment=report_comment,
        period_title=period_title, internship_comment=internship_comment,
        network_name=network_name, network_description=network_description,
        program_title=program_title, override_reason=override_reason, note=note,
        guest_name=guest_name, holder=holder, position=position)


@pytest.fixture
def seeded(world, people, network) -> Seeded:  # type: ignore[no-untyped-def]  # noqa: F811
    return seed(world, people, network)


# -- the pages -------------------------------------------------------------------------------

def test_every_page_shows_payloads_as_text(seeded: Seeded, people, visitors) -> None:  # type: ignore[no-untyped-def]
    """Every page that shows a user's text, as the municipal coordinator, the organiser, a
    teacher and someone signed out: nothing runs, nothing becomes markup, texts are shown."""
    findings, open_as = visitors
    s, w = seeded, seeded.world
    seminar, kg, program = w.seminar.id, w.kindergarten.id, w.program.id
    period, net = w.period.id, s.network.id
    material = s.materials[0]
    events_shown = tuple(payload for payload in PAYLOADS if payload.id != "nul")

    municipal = open_as("municipal", people.municipal)
    municipal.visit("/organisations", s.org_names)
    municipal.visit("/organisations?page=2")
    municipal.visit(f"/organisations/{kg}", s.org_names[:1])
    municipal.visit(f"/organisations/{kg}/edit")
    municipal.visit(f"/organisations/{s.extra_orgs[0][0]}", (s.extra_orgs[0][1],))
    municipal.visit(f"/organisations/{kg}/materials")
    municipal.visit(f"/organisations/{kg}/calendar?view=list&date=2026-11-26")
    municipal.visit("/networks", (s.network_name,))
    municipal.visit(f"/networks/{net}", (s.network_name, *s.network_description))
    municipal.visit(f"/networks/{net}/edit", (s.network_name,))
    municipal.visit(f"/networks/{net}/plan", s.topics)
    municipal.visit(f"/networks/{net}/plan/items/{s.plan_item_id}/edit")
    municipal.visit(f"/networks/{net}/calendar?view=list&date=2026-11-26")
    municipal.visit(f"/networks/{net}/bank")
    municipal.visit(f"/people?organisation={kg}")
    municipal.visit(f"/people/{people.teacher.id}", (s.position,))
    municipal.visit(f"/people/{s.people_names[0][0]}/edit")
    municipal.visit(f"/people/{people.teacher.id}/portfolio", s.seminar_title)
    municipal.visit("/events")
    municipal.visit("/events?page=2")
    municipal.visit(f"/events/{seminar}", s.seminar_title)
    municipal.visit(f"/events/{seminar}/edit")
    municipal.visit(f"/events/{seminar}/responses")
    municipal.visit(f"/events/{seminar}/attendance",
                    (s.guest_name, s.override_reason, *s.seminar_title))
    municipal.visit(f"/events/{seminar}/feedback", s.feedback_comment)
    municipal.visit(f"/events/{seminar}/materials")
    for event_id, p in zip(s.event_ids, PAYLOADS, strict=True):
        if p.id in {"script", "attr-dq", "textarea", "title", "unicode"}:
            municipal.visit(f"/events/{event_id}", (p,))
    municipal.visit(f"/series/{program}", (s.program_title,))
    municipal.visit(f"/programs/{program}/internship", s.internship_comment)
    municipal.visit("/feedback/organisers")
    municipal.visit("/reports/periods", (s.period_title,))
    municipal.visit(f"/reports/periods/{period}", (s.period_title,))
    municipal.visit(f"/reports/periods/{period}/edit")
    municipal.visit(f"/reports/periods/{period}/organisations/{kg}", s.report_comment)
    municipal.visit("/reports/dashboard")
    municipal.visit("/bank?q=робототехника")
    municipal.visit("/bank?q=робототехника&page=2")
    municipal.visit(f"/materials/{material.id}", (PAYLOADS[0],))
    municipal.visit(f"/materials/{material.id}/edit")
    municipal.visit(f"/boards/{s.board.id}/print", (*s.sections, s.guest))
    municipal.visit("/calendar?view=month&date=2026-11-26")

    organiser = open_as("organiser", people.coordinator)
    organiser.visit("/")
    organiser.visit(f"/events/{seminar}/board", (*s.posts[:-1], *s.sections, s.guest),
                    ready="#board-conn[data-conn='live']")
    organiser.visit(f"/events/{seminar}", s.seminar_title)
    organiser.visit(f"/events/{seminar}/attendance", (s.guest_name,))
    organiser.visit(f"/programs/{program}/internship", s.internship_comment)
    organiser.visit(f"/reports/periods/{period}/organisations/{kg}", s.report_comment)
    organiser.visit("/calendar?view=list&date=2026-11-26", events_shown[:5])
    organiser.visit("/calendar?view=week&date=2026-11-26")

    teacher = open_as("teacher", people.teacher)
    teacher.visit("/")
    teacher.visit("/calendar?view=list&date=2026-11-26", events_shown[:5])
    teacher.visit("/calendar?view=month&date=2026-11-26")
    teacher.visit("/portfolio", s.seminar_title)
    teacher.visit("/events?mine=1")
    teacher.visit(f"/events/{seminar}", s.seminar_title)
    teacher.visit(f"/events/{seminar}/attendance/me")
    teacher.visit(f"/events/{seminar}/board", (*s.posts[:-1], *s.comment, s.guest),
                  ready="#board-conn[data-conn='live']")
    teacher.visit("/bank?q=робототехника")
    teacher.visit(f"/materials/{s.materials[3].id}", (PAYLOADS[3],))
    teacher.visit("/feeds")

    anonymous = open_as("signed out")
    anonymous.visit(f"/verify/{s.certificate}", (s.holder,))
    anonymous.visit(f"/verify/{s.revoked}")
    anonymous.visit(f"/j/{s.invitation_token}")
    anonymous.visit(f"/rsvp/{s.invitation_token}")
    anonymous.visit(f"/feedback/{s.survey_token}", s.seminar_title)

    # The emails those texts go into: each HTML part rendered in the page itself (not in
    # /dev/mail's sandbox, as a careless mail client would), and /dev/mail's own pages.
    letters = queue_letters(s, people)
    assert letters >= 6
    mail = open_as("mail reader")
    mail.visit("/dev/mail/")
    for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        mail.visit(f"/dev/mail/{row.id}")
        html = parse(row.mime).html
        assert html is not None, row.subject
        mail.where = f"the HTML part of {row.kind}"
        mail.page.set_content(html)
        mail.check(f"the HTML part of {row.kind!r} to {row.to_addr}")

    assert not findings.ran and not findings.problems, findings.report()
    assert findings.pages >= 80


def queue_letters(s: Seeded, people) -> int:  # type: ignore[no-untyped-def]
    """The hub's letters about the seeded texts, queued as its jobs would: invitations to the
    seminar and to some payload events, the feedback survey, the report reminder, the bank's
    digest. Returns how many are in the outbox."""
    w = s.world
    queue_requests(w.seminar, list(db.session.scalars(
        select(Invitation).where(Invitation.event_id == w.seminar.id))))
    for event_id in s.event_ids[:6]:
        extra = db.session.get(Event, event_id)
        queue_requests(extra, list(extra.invitations))
    db.session.commit()
    run_batches()
    feedback.queue_surveys(w.seminar.end_at + timedelta(days=1))
    report_reminders.send_due_reminders(datetime.combine(
        w.period.deadline - timedelta(days=2), time(9), UTC))
    digest.set_subscribed(people.teacher, True)
    db.session.commit()
    digest.send_due_digests(datetime.now(UTC) + timedelta(minutes=1))
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0



#: Where each payload is meant to break out (the rest: in the body); "{}" is the payload.
CONTEXTS = {
    "attr-dq": '<input value="{}">', "attr-focus": '<input value="{}">',
    "attr-sq": "<input value='{}'>", "textarea": "<textarea>{}</textarea>",
    "title": "<title>{}</title>", "script-close": '<script>var t = "{}";</script>',
    "js-string": "<script>var t = '{}';</script>", "backtick": "<script>var t = `{}`;</script>",
}
#: Payloads that are harmless as raw HTML: they run only when something decodes them again
#: (entities, percent-encoding), a template engine or Markdown renders them, or a parser
#: keeps a NUL.
INERT_AS_HTML = {"entities", "percent", "template", "nul", "md-link", "md-entity", "md-auto"}


def test_the_corpus_runs_when_not_escaped(visitors) -> None:  # type: ignore[no-untyped-def]
    """The canary: each payload put raw into the context it attacks (as a template's |safe
    would) runs or becomes live markup, and is caught, so a quiet run of the other tests
    means the hub escaped it."""
    findings, open_as = visitors
    canary = open_as("canary")
    canary.page.goto(canary.base + "/login")
    caught: set[str] = set()
    for p in PAYLOADS:
        canary.where = p.id
        before = len(findings.ran)
        context = CONTEXTS.get(p.id, "<div>{}</div>")
        canary.page.set_content("<!doctype html><html><head></head><body><main>"
                                + context.replace("{}", p.text) + "</main></body></html>")
        canary.page.wait_for_timeout(30)
        if len(findings.ran) > before or canary.page.evaluate(LIVE_MARKUP):
            caught.add(p.id)
    assert caught == {p.id for p in PAYLOADS} - INERT_AS_HTML


# -- through the forms -----------------------------------------------------------------------

#: A title's worth of payloads (a title holds 300 characters).
TITLE = _ids("script", "attr-dq", "attr-focus", "title", "textarea")


def test_forms_store_payloads_that_stay_text(  # type: ignore[no-untyped-def]
        people, network, make_event, invite, visitors) -> None:  # noqa: F811
    """The real forms and the board's composer, typed into in the browser: the event form,
    the material form, a network's description and board posts seen live by another person."""
    findings, open_as = visitors
    organiser = open_as("organiser", people.coordinator)
    page = organiser.page
    everything = "\n".join(p.text for p in PAYLOADS)
    title = " ".join(p.text for p in TITLE)

    # The event form.
    organiser.visit("/events/new")
    form = page.locator("form:has([name=publish])")
    form.locator("select[name=format]").select_option(str(int(EventFormat.WEBINAR)))
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=description]").fill(everything)
    form.locator("select[name=timezone]").select_option("Europe/Moscow")
    form.locator("input[name=start_date]").fill("2026-12-09")
    form.locator("input[name=start_time]").fill("15:00")
    form.locator("input[name=end_time]").fill("16:00")
    form.locator("select[name=audience_organisations]").select_option(
        label=people.teacher.organisation.short_name)
    with page.expect_navigation():
        form.locator("[name=publish]").click()
    if page.locator(".warnings").count():  # a conflict warning: go ahead
        with page.expect_navigation():
            page.locator("form [name=publish]").click()
    organiser.check("the published event", TITLE)
    event_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    organiser.visit(f"/events/{event_id}/edit", TITLE)

    # The material form: a link with payloads in every text.
    organiser.visit("/materials/new")
    form = page.locator("form.material-form")
    form.locator("input[name=kind][value=link]").check()
    form.locator("input[name=url]").fill("https://example.org/slides")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=description]").fill(everything)
    form.locator("input[name=topics]").fill(payload("template").text)
    form.locator("input[name=age_groups]").fill(payload("attr-dq").text)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    organiser.check("the new material", (*TITLE, *PAYLOADS[:-2]))
    assert "/materials/" in page.url, page.inner_text("main")[:500]
    organiser.visit(page.url.replace(organiser.base, "") + "/edit", TITLE)

    # A network's description, by the municipal coordinator.
    municipal = open_as("municipal", people.municipal)
    municipal.visit(f"/networks/{network.id}/edit")
    municipal.page.locator("textarea[name=description]").fill(everything)
    with municipal.page.expect_navigation():
        municipal.page.locator("form.form [name=submit]:not(.visually-hidden)").click()
    municipal.check("the saved network", PAYLOADS[:-2])

    # Board posts typed by a teacher, appearing live on the organiser's board.
    seminar = make_event(start=datetime(2026, 12, 10, 9, tzinfo=UTC))
    invite(seminar, [people.teacher])
    teacher = open_as("teacher", people.teacher)
    live = "#board-conn[data-conn='live']"
    organiser.visit(f"/events/{seminar.id}/board", ready=live)
    teacher.visit(f"/events/{seminar.id}/board", ready=live)
    for chunk in (PAYLOADS[:18], PAYLOADS[18:]):
        teacher.page.locator("#bc-body").fill("\n\n".join(p.text for p in chunk))
        teacher.page.locator("#bc-submit").click()
        last = marker(chunk[-1])
        for viewer in (teacher, organiser):
            viewer.page.locator(".board-card", has_text=last).wait_for()
    teacher.check("the board after posting", PAYLOADS[:-1])
    organiser.check("the board, live", PAYLOADS[:-1])
    organiser.visit(f"/events/{seminar.id}/board", PAYLOADS[:-1], ready=live)

    assert not findings.ran and not findings.problems, findings.report()
