"""Demo materials: about 200 items of the methodical bank over the demo term's events and
standing alone — slides and presentations (a few small real PDFs), checklists, methodical
recommendations, recordings on example.org, the boards' exports — with authors from each
event's people, topics and age groups, mixed visibility, in the school years 2025/2026 (last
year's, standing alone) and 2026/2027. Written through the materials' own services, so files
land in the store like real uploads."""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.archive import services
from hub.archive.access import network_ids_of
from hub.archive.models import Material, Visibility
from hub.core.pdf import FONT_FAMILY, new_document
from hub.directory.models import Organisation, OrgKind, Person, Role
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat, EventPerson, EventRole, EventStatus

#: How many of them are real PDF files (the rest are links: the demo stays fast).
FILES = 14
#: Materials standing alone (the rest are the events').
STANDALONE_COUNT = 68
TOPICS = ("Робототехника", "Ранняя профориентация", "Мультипликация", "Игровые технологии",
          "Преемственность", "Работа с родителями", "Конструирование", "Цифровая лаборатория",
          "ТРИЗ", "Безопасность", "Семейное чтение", "Наставничество")
AGES = ("3–4 года", "4–5 лет", "5–6 лет", "6–7 лет")
#: Word stems of a title → the topic it is about (the other topics are drawn at random).
TOPIC_HINTS = (("робототехн", "Робототехника"), ("инженер", "Робототехника"),
               ("bee-bot", "Робототехника"), ("лего", "Конструирование"),
               ("конструир", "Конструирование"), ("лаборатор", "Цифровая лаборатория"),
               ("професси", "Ранняя профориентация"), ("пожарн", "Безопасность"),
               ("безопасн", "Безопасность"), ("триз", "ТРИЗ"), ("родител", "Работа с родителями"),
               ("семь", "Работа с родителями"), ("чита", "Семейное чтение"),
               ("квест", "Игровые технологии"), ("игр", "Игровые технологии"),
               ("мульт", "Мультипликация"), ("школ", "Преемственность"),
               ("преемствен", "Преемственность"), ("интернатур", "Наставничество"),
               ("наставни", "Наставничество"))
VISIBILITY = ((Visibility.PUBLIC, 45), (Visibility.NETWORK, 40), (Visibility.ORGANISATION, 15))
F = EventFormat
#: The event's format in the dative («Презентация к семинару-практикуму …») and genitive
#: («Слайды мастер-класса …»).
DATIVE = {F.WEBINAR: "вебинару", F.SEMINAR_PRACTICUM: "семинару-практикуму",
          F.ROUND_TABLE: "круглому столу", F.MASTER_CLASS: "мастер-классу",
          F.OPEN_LESSON: "открытому показу", F.BUSINESS_GAME: "деловой игре",
          F.METHODICAL_WEEK: "методической неделе", F.MEETING: "совещанию",
          F.CONFERENCE: "конференции", F.TELEBRIDGE: "телемосту",
          F.INTERNSHIP_SESSION: "занятию интернатуры"}
GENITIVE = {F.WEBINAR: "вебинара", F.SEMINAR_PRACTICUM: "семинара-практикума",
            F.ROUND_TABLE: "круглого стола", F.MASTER_CLASS: "мастер-класса",
            F.OPEN_LESSON: "открытого показа", F.BUSINESS_GAME: "деловой игры",
            F.METHODICAL_WEEK: "методической недели", F.MEETING: "совещания",
            F.CONFERENCE: "конференции", F.TELEBRIDGE: "телемоста",
            F.INTERNSHIP_SESSION: "занятия интернатуры"}
#: (title pattern, description, file?) of an event's materials; {dat}/{gen}: the format,
#: {name}: the event's name in quotes.
EVENT_ITEMS = (
    ("Презентация к {dat} {name}", "Слайды выступления: цели, этапы работы, фотографии занятий "
     "и выводы. Можно использовать на педагогическом совете.", True),
    ("Слайды {gen} {name}", "Основные тезисы и примеры из практики участников.", True),
    ("Чек-лист по итогам {gen} {name}", "Короткий список шагов, чтобы перенести идеи в свою "
     "группу за неделю.", False),
    ("Методические рекомендации по теме {name}", "Рекомендации для воспитателей и "
     "специалистов: организация среды, примерные занятия, критерии наблюдения.", False),
    ("Конспект занятия из программы {gen} {name}", "Конспект с целями, материалами, ходом "
     "занятия и рефлексией; адаптирован для разных возрастных групп.", False),
    ("Памятка для родителей по теме {name}", "Что можно сделать дома вместе с ребёнком: игры, "
     "вопросы, книги.", False),
    ("Картотека игр к {dat} {name}", "Двадцать игр с описанием правил и вариантами "
     "усложнения.", False),
    ("Сценарий мероприятия {name}", "Полный сценарий с распределением ролей и таймингом.", False),
)
#: Materials standing alone: (title, description).
STANDALONE = (
    ("Слайды мастер-класса «Мультипликация в детском саду»", "Пошаговый план создания "
     "мультфильма с детьми: раскадровка, съёмка, озвучивание."),
    ("Презентация к семинару-практикуму «Игровые технологии в работе с детьми 4–5 лет»",
     "Подвижные, дидактические и сюжетные игры в режиме дня."),
    ("Методические рекомендации «Преемственность детского сада и школы»", "Как организовать "
     "совместные занятия, экскурсии и встречи будущих первоклассников с учителями."),
    ("Чек-лист «Развивающая среда для образовательной робототехники»", "Что нужно в группе: "
     "наборы, поля, карточки-алгоритмы, место для хранения."),
    ("Картотека игр с Bee-Bot для старшей группы", "Маршруты, сказочные поля и математические "
     "задачи для мини-роботов."),
    ("Конспект занятия «Знакомство с профессией библиотекаря»", "Ранняя профориентация: "
     "экскурсия, ролевая игра, книжка-малышка."),
    ("Памятка для родителей «Чем занять ребёнка дома»", "Опыты и поделки из того, что есть под "
     "рукой."),
    ("Методические рекомендации по работе с родителями в сетевых проектах", "Формы "
     "вовлечения семей: конкурсы, семейные проекты, открытые показы."),
    ("Слайды семинара «Цифровая лаборатория: наблюдаем за погодой»", "Датчики температуры и "
     "влажности в руках дошкольников."),
    ("Презентация к круглому столу «Наставничество: первый год в профессии»", "Опыт "
     "наставников и вопросы молодых педагогов."),
    ("Сценарий квеста «Пожарная безопасность»", "Станции, задания и роли для детей 6–7 лет."),
    ("Конспект занятия «ТРИЗ: хорошо — плохо»", "Игры на поиск противоречий для детей 5–6 лет."),
)
#: Patterns of more materials standing alone: (title, description) with {topic} and {age}.
TOPIC_ITEMS = (
    ("Картотека игр по теме «{topic}»", "Игры с описанием правил, материалов и вариантов "
     "усложнения; тема — {topic}."),
    ("Методические рекомендации «{topic}: из опыта работы»", "Как организовать работу по теме "
     "«{topic}» в группе: среда, планирование, наблюдение."),
    ("Конспект занятия «{topic}» для детей {age}", "Цели, материалы, ход занятия и рефлексия."),
    ("Чек-лист педагога «{topic}»", "Что проверить перед занятием и после него."),
    ("Презентация из опыта работы «{topic} в детском саду»", "Слайды выступления на "
     "методическом объединении."),
    ("Памятка для родителей «{topic} дома»", "Простые идеи для занятий всей семьёй."),
)
VIDEO = "https://video.{domain}/zapisi/{n}"
DOCS = "https://docs.{domain}/materialy/{n}"


def _name(event: Event) -> str:
    found = re.search(r"«.+»", event.title)
    return found.group(0) if found else f"«{event.title}»"


def _pdf(title: str, description: str) -> bytes:
    pdf = new_document(title)
    pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 18)
    pdf.multi_cell(0, 10, title)
    pdf.ln(4)
    pdf.set_font(FONT_FAMILY, "", 12)
    pdf.multi_cell(0, 7, description)
    return bytes(pdf.output())


def _domain(person: Person) -> str:
    return person.email.rsplit("@", 1)[-1]


def _details(rng: random.Random, title: str, description: str, authors: list[Person],
             fmt: EventFormat | None, network_id: int | None) -> services.Details:
    organisation_id = authors[0].organisation_id
    if network_id is not None and network_id not in network_ids_of(organisation_id):
        network_id = None
    words = title.lower()
    topics = list(dict.fromkeys(topic for stem, topic in TOPIC_HINTS if stem in words))
    if not topics or rng.random() < 0.3:
        topics.append(rng.choice(TOPICS))
    return services.Details(
        title=title, description=description, authors=authors, format=fmt,
        topics=", ".join(dict.fromkeys(topics[:3])),
        age_groups=", ".join(rng.sample(AGES, rng.randint(1, 2))),
        visibility=rng.choices(*zip(*VISIBILITY, strict=True))[0], network_id=network_id)


class _Seeder:
    """Makes the materials, counting them and the files."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng, self.now = rng, now
        self.made: list[Material] = []
        self.files = 0
        self.n = 0

    def add(self, title: str, description: str, authors: list[Person], *, file: bool,
            event: Event | None = None, fmt: EventFormat | None = None,
            network_id: int | None = None, when: datetime, year: int | None = None) -> None:
        self.n += 1
        details = _details(self.rng, title, description, authors, fmt, network_id)
        if file and self.files < FILES:
            self.files += 1
            material = services.create_file_material(
                authors[0], details, io.BytesIO(_pdf(title, description)),
                f"material-{self.n}.pdf", event=event)
        else:
            url = (DOCS if not file else VIDEO).format(domain=_domain(authors[0]), n=self.n)
            material = services.create_link_material(authors[0], details, url, event=event)
        self._date(material, when, year)

    def _date(self, material: Material, when: datetime, year: int | None) -> None:
        material.created_at = min(when, self.now)
        if year is not None:
            material.year = year
        material.published = self.rng.random() > 0.04
        self.made.append(material)


def _events() -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.status.in_((EventStatus.SCHEDULED, EventStatus.COMPLETED)))
        .options(selectinload(Event.people).selectinload(EventPerson.person),
                 selectinload(Event.hosts)).order_by(Event.start_at)))


def _people_of(event: Event) -> list[Person]:
    ran = [p.person for p in event.people
           if p.role in (EventRole.ORGANISER, EventRole.SPEAKER, EventRole.MENTOR)]
    return [p for p in ran if p.active] or ([event.created_by] if event.created_by else [])


def _for_events(seeder: _Seeder, events: list[Event]) -> None:
    rng, now = seeder.rng, seeder.now
    singles = [e for e in events if e.series_id is None]
    sessions = [e for e in events if e.series_id is not None and e.end_at <= now]
    for event in singles:
        people = _people_of(event)
        if not people:
            continue
        held = event.end_at <= now
        names = {"dat": DATIVE[event.format], "gen": GENITIVE[event.format],
                 "name": _name(event)}
        for pattern, description, file in rng.sample(EVENT_ITEMS, rng.randint(5, 8)):
            authors = rng.sample(people, min(len(people), rng.randint(1, 2)))
            when = (event.end_at + timedelta(hours=rng.randint(1, 72)) if held
                    else now - timedelta(days=rng.randint(1, 10)))
            seeder.add(pattern.format(**names), description, authors, file=file, event=event,
                       fmt=event.format, network_id=event.network_id, when=when)
        if held and event.format in (F.WEBINAR, F.MASTER_CLASS, F.SEMINAR_PRACTICUM,
                                     F.TELEBRIDGE):
            recording = services.add_recording(
                event, VIDEO.format(domain=_domain(people[0]), n=f"e{event.id}"),
                f"Запись {GENITIVE[event.format]} {_name(event)}")
            seeder._date(recording, event.end_at + timedelta(hours=3), None)
        if held:
            export = services.add_board_export(event)
            if export is not None:
                export.created_at = min(event.end_at + timedelta(hours=1), now)
                seeder.made.append(export)
    for event in sessions:
        people = _people_of(event)
        if people:
            seeder.add(f"Материалы {GENITIVE[event.format]} «{event.title}», "
                       f"{event.start_at:%d.%m.%Y}", "Задания для стажёров и ссылки на "
                       "литературу к занятию.", people[:1], file=False, event=event,
                       fmt=event.format, when=event.end_at + timedelta(hours=2))


def _staff() -> list[Person]:
    return list(db.session.scalars(
        select(Person).join(Organisation)
        .where(Person.active.is_(True), Person.role.in_((Role.TEACHER, Role.ORG_COORDINATOR)),
               Organisation.kind.in_((OrgKind.KINDERGARTEN, OrgKind.SCHOOL,
                                      OrgKind.SUPPLEMENTARY)))
        .order_by(Person.id)))


def _standalone_items(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """The hand-written materials, then topics in the patterns of TOPIC_ITEMS, no repeats."""
    made = [(pattern.format(topic=topic, age=rng.choice(AGES)), description.format(topic=topic))
            for pattern, description in TOPIC_ITEMS for topic in TOPICS]
    return list(STANDALONE) + rng.sample(made, min(len(made), count - len(STANDALONE)))


def _standalone(seeder: _Seeder, count: int) -> None:
    """Materials tied to no event: last year's (2025/2026, made in its autumn) and this
    year's."""
    rng, now = seeder.rng, seeder.now
    staff = _staff()
    last_year = datetime(2025, 9, 1, 6, tzinfo=UTC)
    this_year = datetime(2026, 9, 1, 6, tzinfo=UTC)
    for i, (title, description) in enumerate(_standalone_items(rng, count)):
        old = i % 2 == 0 or i < len(STANDALONE)
        start, span, year = ((last_year, 110, 2025) if old
                             else (this_year, max(1, (now - this_year).days), 2026))
        when = start + timedelta(days=rng.randint(0, span), hours=rng.randint(0, 9))
        seeder.add(title, description, [rng.choice(staff)], file=i % 10 == 0,
                   fmt=rng.choice((F.MASTER_CLASS, F.SEMINAR_PRACTICUM, F.WEBINAR, None)),
                   when=when, year=year)


def seed_materials(rng: random.Random, now: datetime) -> int:
    """About 200 materials over the demo's events and standing alone; returns how many."""
    seeder = _Seeder(rng, now)
    _standalone(seeder, STANDALONE_COUNT)
    _for_events(seeder, _events())
    db.session.flush()
    # The famous slides of last year's master class stand first, public and published.
    first = next(m for m in seeder.made if m.title == STANDALONE[0][0] and m.year == 2025)
    first.visibility, first.published = Visibility.PUBLIC, True
    db.session.flush()
    return len(seeder.made)
