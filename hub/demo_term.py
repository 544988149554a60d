"""Demo data, part two: the demo town's school term (September 2026 to January 2027).

Events of every format hosted in all four time zones of the networks (Europe/Moscow,
Asia/Yekaterinburg, Asia/Krasnoyarsk, Asia/Vladivostok); the digital internship — a weekly
program with a cohort of mentor–intern pairs, materialised as one Event per session, that
crosses New Year with one session moved (4 November is a holiday) and one cancelled (6 January);
a cancelled round table; a draft; audiences, Invitation rows with answers (PARTSTAT) and a few
self-registrations for the open webinar; and the joint plans of both networks with their
approvals (one approved by everyone, one changed after approval and awaiting some members).

Rows are written directly (no emails: nothing is queued in the outbox, invitations are marked as
sent). Everything is derived from the seeded random number generator of hub.demo and the given
`now`: events that ended before `now` are completed, answers are dated before `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from hub.directory.models import Category, Network, Organisation, Person, Role
from hub.extensions import db
from hub.scheduling import plan as plans
from hub.scheduling.audience import new_invitation, resolve_audience
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventFormat,
    EventHost,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
    Series,
    SeriesPerson,
    new_uid,
)
from hub.scheduling.recurrence import FREQ_WEEKLY, Recurrence, expand

F = EventFormat

#: Network keys used below → the network names of hub.demo.NETWORKS.
ENGINEERS = "Растим инженеров"
TOGETHER = "Не скучаем вместе"


@dataclass(frozen=True)
class _Event:
    """An event of the term. Times are local to the first host's zone; the first host's
    coordinator organises it (the municipal coordinator for the education office)."""

    key: str
    format: EventFormat
    title: str
    hosts: tuple[str, ...]
    day: date
    start: time
    minutes: int
    description: str
    #: The network it is held within (its name), if any.
    network: str | None = None
    #: "net:<name>", "org:<key>", "coordinators" (of every network member).
    audience: tuple[str, ...] = ()
    #: For events that span days (a methodical week): the last day; `minutes` is then the
    #: length of that day's part, counted from `start`.
    end_day: date | None = None
    speakers: int = 1
    #: Speakers come from these organisations (default: the hosts).
    speakers_from: tuple[str, ...] = ()
    moderator: bool = False
    status: EventStatus | None = None  # CANCELLED or DRAFT; otherwise by the clock
    open_registration: bool = False
    capacity: int | None = None
    credit_hours: float | None = None


EVENTS = (
    _Event("kickoff", F.MEETING,
           "Совещание сетевых координаторов «Планирование совместной работы на 2026/2027 "
           "учебный год»", ("uo",), date(2026, 9, 9), time(10), 90,
           "Утверждаем совместные планы сетевых объединений, договариваемся о формах отчётности.",
           audience=("coordinators",), speakers=0),
    _Event("lab", F.WEBINAR, "Вебинар «Цифровая лаборатория в детском саду: с чего начать»",
           ("cird",), date(2026, 9, 16), time(14), 60,
           "Датчики, наблюдения и опыты: как устроить цифровую лабораторию в старшей группе.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",)),
    _Event("lego", F.MASTER_CLASS, "Мастер-класс «Лего-конструирование: от замысла к модели»",
           ("other",), date(2026, 9, 24), time(13), 90,
           "Педагоги Светлоуральска показывают, как вести ребёнка от рисунка-замысла к модели.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",), speakers=2),
    _Event("robots", F.SEMINAR_PRACTICUM,
           "Семинар-практикум «Образовательная робототехника в ДОУ»", ("ds22", "cird"),
           date(2026, 10, 6), time(10), 120,
           "Работаем с наборами для начального конструирования и программирования: практика в "
           "малых группах, обмен сценариями занятий.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",), speakers=2),
    _Event("family", F.ROUND_TABLE, "Круглый стол «Семейные традиции: читаем вместе»",
           ("library",), date(2026, 10, 15), time(15), 90,
           "Как библиотека и детский сад приобщают семьи к чтению.",
           network=TOGETHER, audience=(f"net:{TOGETHER}",), moderator=True,
           status=EventStatus.CANCELLED),
    _Event("walk", F.WEBINAR, "Вебинар «Инженерные игры на прогулке»", ("krsk",),
           date(2026, 10, 20), time(16), 60,
           "Коллеги из Кедровогорска: снежные постройки, ручьи и запруды как инженерные задачи.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",)),
    _Event("fire", F.OPEN_LESSON,
           "Открытый показ «Пожарная безопасность: знакомство с профессией пожарного»",
           ("fire", "ds17"), date(2026, 10, 27), time(10), 60,
           "Занятие в подготовительной группе вместе с инспектором пожарной части.",
           network=TOGETHER, audience=("org:ds3", "org:ds11", "org:ds17", "org:ds31",
                                       "org:ds22"), speakers_from=("ds17",)),
    _Event("week", F.METHODICAL_WEEK,
           "Методическая неделя по ранней профориентации «Все профессии важны»", ("ds5",),
           date(2026, 11, 9), time(9), 8 * 60,
           "Пять дней открытых занятий, экскурсий и встреч с родителями разных профессий.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",), end_day=date(2026, 11, 13),
           speakers=3, credit_hours=16),
    _Event("triz", F.SEMINAR_PRACTICUM,
           "Семинар-практикум «ТРИЗ-технологии в работе с дошкольниками»", ("vlad",),
           date(2026, 11, 12), time(16), 90,
           "Коллеги из Светлой Бухты: противоречия, ресурсы и «что будет, если…» в играх детей.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",), speakers=2),
    _Event("quest", F.BUSINESS_GAME, "Деловая игра «Педагогический квест: ФОП ДО в действии»",
           ("ds14",), date(2026, 11, 18), time(14), 90,
           "Команды проходят станции квеста по разделам федеральной образовательной программы.",
           network=ENGINEERS, audience=("org:ds14", "org:ds26", "org:ds22")),
    _Event("parents", F.WEBINAR, "Вебинар для родителей «Чем занять ребёнка дома»", ("ds22",),
           date(2026, 11, 26), time(18), 60,
           "Игры, опыты и поделки из того, что есть под рукой. Открыт для всех желающих.",
           network=TOGETHER, audience=(f"net:{TOGETHER}",), open_registration=True,
           capacity=300),
    _Event("bridge", F.TELEBRIDGE,
           "Телемост «Растим инженеров: от Лесногорска до Светлой Бухты»",
           ("ds22", "other", "krsk", "vlad"), date(2026, 12, 3), time(9), 90,
           "Четыре детских сада в четырёх часовых поясах показывают проекты своих "
           "воспитанников.", network=ENGINEERS, audience=(f"net:{ENGINEERS}",), speakers=4,
           speakers_from=("ds22", "other", "krsk", "vlad")),
    _Event("cartoons", F.MASTER_CLASS, "Мастер-класс «Создание мультфильмов с детьми»",
           ("ddt",), date(2026, 12, 8), time(15), 90,
           "Проект «Мульти-пульти»: раскадровка, перекладка, озвучивание за одно занятие.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",)),
    _Event("conference", F.CONFERENCE,
           "Муниципальная научно-практическая конференция «Детский сад — территория "
           "инженерного мышления»", ("uo",), date(2026, 12, 10), time(10), 5 * 60,
           "Пленарное заседание и секции: робототехника, ранняя профориентация, преемственность.",
           audience=(f"net:{ENGINEERS}", f"net:{TOGETHER}"), speakers=3,
           speakers_from=("ds22", "sosh8", "cird"), credit_hours=5),
    _Event("museum", F.OPEN_LESSON, "Открытый показ «Музейная педагогика: новогодние традиции»",
           ("museum",), date(2026, 12, 16), time(11), 60,
           "Интерактивная экскурсия по выставке ёлочных игрушек для старших дошкольников.",
           network=TOGETHER, audience=("org:ds3", "org:ds11", "org:ds31", "org:sosh3")),
    _Event("continuity", F.ROUND_TABLE, "Круглый стол «Преемственность детского сада и школы»",
           ("sosh8", "ds22"), date(2026, 12, 22), time(15), 120,
           "Учителя начальных классов и воспитатели: чего ждёт школа и что умеет выпускник "
           "детского сада.", network=ENGINEERS, audience=(f"net:{ENGINEERS}",), speakers=2,
           moderator=True),
    _Event("midyear", F.MEETING,
           "Совещание «Итоги первого полугодия и планирование на второе»", ("uo",),
           date(2027, 1, 14), time(10), 90,
           "Отчёты сетевых координаторов, корректировка совместных планов.",
           audience=("coordinators",), speakers=0),
    _Event("beebot", F.WEBINAR, "Вебинар «Пчёлки Bee-Bot: программируем маршрут»", ("other",),
           date(2027, 1, 20), time(14), 60,
           "Мини-роботы на занятиях по математике и ознакомлению с окружающим.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",)),
    _Event("animation", F.SEMINAR_PRACTICUM,
           "Семинар-практикум «Мульти-пульти: анимация в детском саду»", ("ddt", "ds22"),
           date(2027, 1, 26), time(15), 90,
           "Черновик: уточняем программу с Домом детского творчества.",
           network=ENGINEERS, audience=(f"net:{ENGINEERS}",), status=EventStatus.DRAFT),
    _Event("snow", F.OPEN_LESSON, "Открытый показ «Экспериментируем со снегом»", ("krsk",),
           date(2027, 1, 28), time(10), 45,
           "Опыты со снегом и льдом в средней группе: наблюдаем, измеряем, рассуждаем.",
           audience=("org:krsk", "org:vlad", "org:other")),
)

#: The digital internship: weekly on Wednesdays, 15:30–16:30 Moscow, 17 sessions from 7 October.
INTERNSHIP_TITLE = "Цифровая педагогическая интернатура"
INTERNSHIP_FIRST = (date(2026, 10, 7), time(15, 30))
INTERNSHIP_SESSIONS = 17
INTERNSHIP_MINUTES = 60
#: 4 November (a public holiday) moves to Thursday 5 November; 6 January is cancelled.
INTERNSHIP_MOVED = (date(2026, 11, 4), date(2026, 11, 5))
INTERNSHIP_CANCELLED = date(2027, 1, 6)
INTERNSHIP_TOPICS = (
    "Знакомство: цели интернатуры, пары «наставник — стажёр»",
    "Цифровые инструменты педагога: облачные документы и доски",
    "Планирование образовательной деятельности по ФОП ДО",
    "Наблюдение и педагогическая диагностика",
    "Онлайн-встреча с родителями: подготовка и проведение",
    "Интерактивные игры на занятиях",
    "Разбор открытого занятия стажёра",
    "Портфолио педагога: что и как собирать",
    "Проектная деятельность с детьми",
    "Инклюзия: поддержка детей с ОВЗ",
    "Профилактика профессионального выгорания",
    "Подготовка к новогодним праздникам: сценарии",
    "Зимние каникулы: (занятие отменено)",
    "Итоги полугодия: самоанализ стажёра",
    "Цифровой след занятия: фото, видео, согласия",
    "Взаимопосещение занятий",
    "Промежуточная аттестация стажёров",
)
#: Mentors (organisation keys), each with their interns; the demo teacher is the first intern.
COHORT = (("ds22", ("ds22", "ds5")), ("ds14", ("ds26",)), ("sosh8", ("other", "krsk")))

#: The joint plans: (network, [(year, month, format, topic, responsible key, event key)]).
PLANS = (
    (ENGINEERS, (
        (2026, 9, F.WEBINAR, "Вебинар «Цифровая лаборатория в детском саду: с чего начать»",
         "cird", "lab"),
        (2026, 9, F.MASTER_CLASS, "Мастер-класс «Лего-конструирование: от замысла к модели»",
         "other", "lego"),
        (2026, 10, F.SEMINAR_PRACTICUM, "Семинар-практикум «Образовательная робототехника "
         "в ДОУ»", "ds22", "robots"),
        (2026, 10, F.WEBINAR, "Вебинар «Инженерные игры на прогулке»", "krsk", "walk"),
        (2026, 11, F.METHODICAL_WEEK, "Методическая неделя по ранней профориентации", "ds5",
         "week"),
        (2026, 11, F.SEMINAR_PRACTICUM, "Семинар-практикум «ТРИЗ-технологии в работе "
         "с дошкольниками»", "vlad", "triz"),
        (2026, 11, F.BUSINESS_GAME, "Деловая игра «Педагогический квест: ФОП ДО в действии»",
         "ds14", "quest"),
        (2026, 12, F.TELEBRIDGE, "Телемост «Растим инженеров: от Лесногорска до Светлой "
         "Бухты»", "ds22", "bridge"),
        (2026, 12, F.MASTER_CLASS, "Мастер-класс «Создание мультфильмов с детьми»", "ddt",
         "cartoons"),
        (2026, 11, F.ROUND_TABLE, "Круглый стол «Преемственность детского сада и школы»",
         "sosh8", "continuity"),  # moved to December after the first approval (below)
        (2027, 1, F.WEBINAR, "Вебинар «Пчёлки Bee-Bot: программируем маршрут»", "other",
         "beebot"),
        (2027, 1, F.SEMINAR_PRACTICUM, "Семинар-практикум «Мульти-пульти: анимация "
         "в детском саду»", "ddt", "animation"),
        (2027, 2, F.OPEN_LESSON, "Открытые показы занятий по конструированию", "ds26", None),
        (2027, 3, F.MASTER_CLASS, "Мастер-класс «Робототехника в начальной школе: первые "
         "шаги»", "sosh8", None),
        (2027, 4, F.CONFERENCE, "Сетевая конференция «Растим инженеров: итоги и перспективы»",
         "ds14", None),
        (2027, 5, F.MEETING, "Итоговое совещание сетевого объединения", "ds22", None),
    )),
    (TOGETHER, (
        (2026, 10, F.ROUND_TABLE, "Круглый стол «Семейные традиции: читаем вместе»",
         "library", "family"),  # cancelled in October, moved to February (below)
        (2026, 10, F.OPEN_LESSON, "Открытый показ «Пожарная безопасность: знакомство "
         "с профессией пожарного»", "fire", "fire"),
        (2026, 11, F.WEBINAR, "Вебинар для родителей «Чем занять ребёнка дома»", "ds22",
         "parents"),
        (2026, 12, F.OPEN_LESSON, "Открытый показ «Музейная педагогика: новогодние "
         "традиции»", "museum", "museum"),
        (2027, 1, F.MASTER_CLASS, "Мастер-класс «Зимние забавы: подвижные игры на прогулке»",
         "ds11", None),
        (2027, 3, F.WEBINAR, "Вебинар «Безопасность детей в сети: памятка для родителей»",
         "sosh3", None),
        (2027, 4, F.OPEN_LESSON, "Открытый показ «Космос рядом: экскурсия в музей»", "museum",
         None),
        (2027, 5, F.MEETING, "Итоги года: планируем вместе", "ds17", None),
    )),
)
#: When the members approved: version 1 in early September; each plan then changed once.
FIRST_APPROVALS = datetime(2026, 8, 31, 6, tzinfo=UTC)
ENGINEERS_CHANGED = datetime(2026, 9, 21, 6, tzinfo=UTC)
TOGETHER_CHANGED = datetime(2026, 10, 19, 6, tzinfo=UTC)
#: Members of «Не скучаем вместе» who have not yet approved its version 2.
TOGETHER_PENDING = ("sosh3", "museum", "fire")

#: How people answer: (answer, weight) for events already held and for those ahead.
ANSWERS_PAST = ((PartStat.ACCEPTED, 70), (PartStat.DECLINED, 8), (PartStat.TENTATIVE, 7),
                (PartStat.NEEDS_ACTION, 15))
ANSWERS_AHEAD = ((PartStat.ACCEPTED, 45), (PartStat.DECLINED, 7), (PartStat.TENTATIVE, 10),
                 (PartStat.NEEDS_ACTION, 38))
#: People of other organisations who registered themselves for the open webinar.
OPEN_REGISTRATIONS = (("ds1", 3), ("ds9", 2), ("ds33", 2))


@dataclass
class TermResult:
    events: int = 0
    sessions: int = 0
    invitations: int = 0
    plan_items: int = 0
    approvals: int = 0
    by_key: dict[str, Event] = field(default_factory=dict)


class _Staff:
    """The people of the demo town, by organisation (read once)."""

    def __init__(self, orgs: dict[str, Organisation]) -> None:
        self.orgs = orgs
        by_org: dict[int, list[Person]] = {}
        for person in db.session.scalars(select(Person).order_by(Person.id)):
            by_org.setdefault(person.organisation_id, []).append(person)
        self.by_org = by_org

    def coordinator(self, key: str) -> Person:
        people = self.by_org[self.orgs[key].id]
        for role in (Role.ORG_COORDINATOR, Role.MUNICIPAL_COORDINATOR):
            for person in people:
                if person.role == role:
                    return person
        raise LookupError(key)

    def teachers(self, key: str) -> list[Person]:
        return [p for p in self.by_org[self.orgs[key].id] if p.role == Role.TEACHER]


def _zone(org: Organisation) -> ZoneInfo:
    return ZoneInfo(org.timezone)


def _answer(rng: random.Random, held: bool) -> PartStat:
    choices, weights = zip(*(ANSWERS_PAST if held else ANSWERS_AHEAD), strict=True)
    return rng.choices(choices, weights)[0]


def build_term(rng: random.Random, orgs: dict[str, Organisation],
               networks: dict[str, Network], now: datetime) -> TermResult:
    """Write the term into the current session (flushed, not committed)."""
    staff = _Staff(orgs)
    result = TermResult()
    published: dict[int, datetime] = {}

    for spec in EVENTS:
        event = _single_event(rng, spec, orgs, networks, staff, now)
        published[id(event)] = _published_at(event, now)
        result.by_key[spec.key] = event
    sessions = _internship(orgs, staff, now)
    for session in sessions:
        published[id(session)] = min(sessions[0].start_at - timedelta(days=14),
                                     now - timedelta(days=1))
    db.session.add_all([*result.by_key.values(), *sessions])
    db.session.flush()
    result.events = len(result.by_key) + len(sessions)
    result.sessions = len(sessions)

    result.plan_items, result.approvals = _plans(orgs, networks, staff, result.by_key)
    result.invitations = _invitations(rng, [*result.by_key.values(), *sessions], published,
                                      orgs, staff, now)
    return result


def _status(spec_status: EventStatus | None, end_at: datetime, now: datetime) -> EventStatus:
    if spec_status is not None:
        return spec_status
    return EventStatus.COMPLETED if end_at <= now else EventStatus.SCHEDULED


def _published_at(event: Event, now: datetime) -> datetime:
    """When the invitations went out: three weeks ahead (and before `now`)."""
    return min(event.start_at - timedelta(days=21), now - timedelta(days=1))


def _single_event(rng: random.Random, spec: _Event, orgs: dict[str, Organisation],
                  networks: dict[str, Network], staff: _Staff, now: datetime) -> Event:
    host = orgs[spec.hosts[0]]
    zone = _zone(host)
    start = datetime.combine(spec.day, spec.start, tzinfo=zone)
    end = datetime.combine(spec.end_day or spec.day, spec.start, tzinfo=zone) + timedelta(
        minutes=spec.minutes)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    organiser = staff.coordinator(spec.hosts[0])
    status = _status(spec.status, end_utc, now)
    event = Event(
        format=spec.format, title=spec.title, description_html=f"<p>{spec.description}</p>",
        start_at=start_utc, end_at=end_utc, timezone=host.timezone, status=status,
        network_id=networks[spec.network].id if spec.network else None,
        open_registration=spec.open_registration, capacity=spec.capacity,
        credit_hours=spec.credit_hours, created_by_id=organiser.id,
        # A cancellation is an update of what the invitation said (iTIP SEQUENCE).
        sequence=1 if status == EventStatus.CANCELLED else 0)
    event.created_at = event.updated_at = _published_at(event, now) - timedelta(days=2)
    event.hosts = [EventHost(organisation_id=orgs[key].id) for key in spec.hosts]
    people = [EventPerson(person_id=organiser.id, role=EventRole.ORGANISER)]
    chosen: set[int] = {organiser.id}
    for index in range(spec.speakers):
        sources = spec.speakers_from or spec.hosts
        candidates = [p for p in staff.teachers(sources[index % len(sources)])
                      if p.id not in chosen]
        if candidates:
            speaker = rng.choice(candidates)
            chosen.add(speaker.id)
            people.append(EventPerson(person_id=speaker.id, role=EventRole.SPEAKER))
    if spec.moderator:
        moderator = staff.coordinator(spec.hosts[-1])
        if moderator.id == organiser.id and len(spec.hosts) == 1:
            moderator = staff.coordinator("uo")
        people.append(EventPerson(person_id=moderator.id, role=EventRole.MODERATOR))
    event.people = people
    audience: list[EventAudience] = []
    for target in spec.audience:
        kind, _sep, value = target.partition(":")
        if kind == "net":
            audience.append(EventAudience(network_id=networks[value].id))
        elif kind == "org":
            audience.append(EventAudience(organisation_id=orgs[value].id))
        elif kind == "coordinators":
            ids = sorted({m.coordinator_id for n in networks.values() for m in n.members})
            audience += [EventAudience(person_id=i) for i in ids]
    event.audience = audience
    return event


def _internship(orgs: dict[str, Organisation], staff: _Staff, now: datetime) -> list[Event]:
    """The program: its series, cohort and one Event per session."""
    zone = "Europe/Moscow"
    first_day, first_time = INTERNSHIP_FIRST
    first = datetime.combine(first_day, first_time, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    rule = Recurrence(freq=FREQ_WEEKLY, weekdays=[first_day.weekday()],
                      count=INTERNSHIP_SESSIONS).to_rrule(zone)
    organiser = staff.coordinator("uo")
    series = Series(uid=new_uid(), title=INTERNSHIP_TITLE, rrule=rule, timezone=zone,
                    first_start=first, duration_minutes=INTERNSHIP_MINUTES, is_program=True,
                    created_by_id=organiser.id)
    series.created_at = series.updated_at = first - timedelta(days=16)
    cohort: list[SeriesPerson] = []
    for mentor_key, intern_keys in COHORT:
        teachers = staff.teachers(mentor_key)
        mentor = next((t for t in teachers if t.category == Category.MENTOR), teachers[0])
        cohort.append(SeriesPerson(person=mentor, role=EventRole.MENTOR))
        for intern_key in intern_keys:
            interns = [t for t in staff.teachers(intern_key) if t.id != mentor.id]
            # The demo teacher account of ds22 is an intern; elsewhere a teacher without a
            # category (a novice).
            intern = next((t for t in interns if t.email.startswith("teacher@")),
                          next((t for t in interns if t.category == Category.NONE), interns[0]))
            cohort.append(SeriesPerson(person=intern, role=EventRole.INTERN, mentor=mentor))
    series.cohort = cohort

    moved_from, moved_to = INTERNSHIP_MOVED
    sessions = []
    for number, start in enumerate(expand(rule, first, zone), start=1):
        local = start.astimezone(ZoneInfo(zone))
        actual = start
        detached = local.date() == moved_from
        if detached:
            actual = datetime.combine(moved_to, local.time(), tzinfo=ZoneInfo(zone)).astimezone(
                UTC)
        end = actual + timedelta(minutes=INTERNSHIP_MINUTES)
        cancelled = local.date() == INTERNSHIP_CANCELLED
        status = EventStatus.CANCELLED if cancelled else _status(None, end, now)
        topic = INTERNSHIP_TOPICS[(number - 1) % len(INTERNSHIP_TOPICS)]
        session = Event(
            uid=series.uid, format=F.INTERNSHIP_SESSION, title=INTERNSHIP_TITLE,
            description_html=f"<p>Занятие {number}. {topic}.</p>",
            start_at=actual, end_at=end, timezone=zone, status=status, series=series,
            original_start=start, detached=detached, created_by_id=organiser.id,
            sequence=1 if detached or cancelled else 0)
        session.created_at = session.updated_at = series.created_at
        session.hosts = [EventHost(organisation_id=orgs["uo"].id),
                         EventHost(organisation_id=orgs["ds22"].id)]
        session.people = [EventPerson(person_id=organiser.id, role=EventRole.ORGANISER)]
        sessions.append(session)
    return sessions


def _working_hours(start: datetime, index: int) -> datetime:
    """The index-th approval after `start` (a Monday 06:00 UTC): three a day from Tuesday, two
    hours apart from 09:00 UTC (12:00 in Moscow, 14:00 in Yekaterinburg)."""
    return start + timedelta(days=index // 3 + 1, hours=3 + 2 * (index % 3), minutes=7 * index)


def _plans(orgs: dict[str, Organisation], networks: dict[str, Network], staff: _Staff,
           events: dict[str, Event]) -> tuple[int, int]:
    """Both networks' joint plans through the plan's own services, then dated approvals."""
    items = approvals = 0
    for name, rows in PLANS:
        network = networks[name]
        made = {}
        for year, month, fmt, topic, responsible, event_key in rows:
            item = plans.add_item(network, month=(year, month), topic=topic, format=fmt,
                                  responsible=orgs[responsible])
            made[topic] = item
            if event_key is not None:
                events[event_key].plan_item_id = item.id
            items += 1
        current = plans.plan_of(network, for_page=False)
        current.created_at = FIRST_APPROVALS - timedelta(days=10)
        members = list(network.members)
        for index, member in enumerate(members):
            approval = plans.approve(network, member.coordinator)
            approval.approved_at = _working_hours(FIRST_APPROVALS, index)
            approvals += 1
        if name == ENGINEERS:
            # The round table moved from November to December: everyone approved again.
            item = next(i for t, i in made.items() if t.startswith("Круглый стол"))
            plans.update_item(item, month=(2026, 12))
            item.plan.updated_at = ENGINEERS_CHANGED
            pending: tuple[str, ...] = ()
            changed = ENGINEERS_CHANGED
        else:
            # The cancelled round table moved to February: some members have not yet approved.
            item = next(i for t, i in made.items() if t.startswith("Круглый стол"))
            plans.update_item(item, month=(2027, 2))
            item.plan.updated_at = TOGETHER_CHANGED
            pending = TOGETHER_PENDING
            changed = TOGETHER_CHANGED
        pending_ids = {orgs[key].id for key in pending}
        for index, member in enumerate(members):
            if member.organisation_id in pending_ids:
                continue
            approval = plans.approve(network, member.coordinator)
            approval.approved_at = _working_hours(changed, index)
            approvals += 1
    db.session.flush()
    return items, approvals


def _invitations(rng: random.Random, events: list[Event], published: dict[int, datetime],
                 orgs: dict[str, Organisation], staff: _Staff, now: datetime) -> int:
    """Invitation rows for the audience of every event that is not a draft, with answers."""
    rows: list[Invitation] = []
    for event in events:
        if event.status == EventStatus.DRAFT:
            continue
        sent = published[id(event)]
        held = event.end_at <= now
        answer_until = min(event.start_at, now)
        # Speakers, moderators and organisers come to their own event.
        part = {p.person_id for p in event.people}
        for person_id in sorted(resolve_audience(event)):
            partstat = PartStat.ACCEPTED if person_id in part else _answer(rng, held)
            values: dict = {"sent_sequence": event.sequence, "created_at": sent,
                            "answered_at": None, "registered_at": None}
            if partstat != PartStat.NEEDS_ACTION and answer_until > sent:
                span = (answer_until - sent).total_seconds()
                values["answered_at"] = sent + timedelta(seconds=rng.uniform(0.05, 0.9) * span)
            else:
                partstat = PartStat.NEEDS_ACTION
            rows.append(new_invitation(event, person_id, partstat=partstat, **values))
        if event.open_registration:
            rows += _registrations(rng, event, sent, answer_until, orgs, staff)
    # Thousands of rows: one executemany INSERT rather than the unit of work (no hooks here).
    columns = [c.key for c in Invitation.__table__.columns if c.key != "id"]
    db.session.execute(insert(Invitation), [
        {name: getattr(row, name) for name in columns} for row in rows])
    return len(rows)


def _registrations(rng: random.Random, event: Event, sent: datetime, until: datetime,
                   orgs: dict[str, Organisation], staff: _Staff) -> list[Invitation]:
    """Teachers of other kindergartens who registered for an open event themselves."""
    rows = []
    for key, count in OPEN_REGISTRATIONS:
        for person in rng.sample(staff.teachers(key), count):
            registered = sent + timedelta(seconds=rng.uniform(0.1, 0.8) * (until - sent)
                                          .total_seconds())
            rows.append(new_invitation(
                event, person.id, state=InvitationState.INVITED, partstat=PartStat.ACCEPTED,
                registered_at=registered, answered_at=registered, created_at=registered,
                sent_sequence=event.sequence))
    return rows
