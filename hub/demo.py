"""Demo data: a realistic (and entirely invented) town network of kindergartens and schools,
and its school term (events, the digital internship, invitations, joint plans: hub.demo_term).

`flask demo` loads it; `make run` calls `flask demo --if-empty`, so it is loaded on the first run
only. Everything is generated from a seeded random number generator, so the same seed gives the
same town every time. The whole town is written in one transaction, the people in one flush
(batched INSERTs); one argon2 hash of the demo password is shared by the accounts that get one.

Every person here is invented: names are random combinations of common Russian names, emails
are on subdomains of example.org (reserved for examples, RFC 2606), phones are random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.archive.demo import seed_materials
from hub.attendance.demo import seed_attendance
from hub.auth.passwords import hash_password
from hub.board.demo import seed_boards
from hub.conferencing.rooms import reconcile_upcoming
from hub.core.types import utcnow
from hub.demo_term import build_term
from hub.directory.models import Category, Organisation, OrgKind, Person, Role
from hub.directory.services import create_network, create_organisation
from hub.extensions import db
from hub.reports.demo import seed_reports

DEFAULT_SEED = 2026
#: The password of the demo sign-in accounts (and of every coordinator in the demo town).
DEMO_PASSWORD = "vmeste-demo-2026"
TOWN = "г. Лесногорск"
TOWN_DOMAIN = "lesnogorsk.example.org"
TOWN_TZ = "Europe/Moscow"
OTHER_TOWN = "г. Светлоуральск"
OTHER_DOMAIN = "svetlouralsk.example.org"
OTHER_TZ = "Asia/Yekaterinburg"
#: Two more partner kindergartens of «Растим инженеров», further east (invented towns).
KRSK_TOWN = "г. Кедровогорск"
KRSK_DOMAIN = "kedrovogorsk.example.org"
KRSK_TZ = "Asia/Krasnoyarsk"
VLAD_TOWN = "г. Светлая Бухта"
VLAD_DOMAIN = "svetlaya-bukhta.example.org"
VLAD_TZ = "Asia/Vladivostok"
SCHOOL_YEAR = "2026/2027"

#: The accounts printed by `flask demo`; their names and places do not depend on the seed.
MUNICIPAL_EMAIL = f"municipal@uo.{TOWN_DOMAIN}"
COORDINATOR_EMAIL = f"coordinator@ds22.{TOWN_DOMAIN}"
TEACHER_EMAIL = f"teacher@ds22.{TOWN_DOMAIN}"

# --- names -----------------------------------------------------------------------------------

def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Surnames in the masculine form; `_feminine` gives the feminine one (-ова, -ева, -ина, -ая).
SURNAMES = _words(
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов "
    "Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев "
    "Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев "
    "Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин "
    "Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов "
    "Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов "
    "Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев "
    "Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев "
    "Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев "
    "Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков "
    "Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов "
    "Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин "
    "Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев "
    "Харитонов Князев Цветков Левин Митрофанов Воронцов Аксёнов Софронов Мальцев Логинов "
    "Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Дёмин Хохлов "
    "Жданов Ёлкин Ершов Одинцов Берёзкин Снегирёв Лаптев Шубин Зуев Корнилов Рожков "
    "Покровский Успенский Вознесенский Городецкий Соколовский Заречный Луговой"
)

FEMALE_NAMES = _words(
    "Анна Мария Елена Ольга Наталья Татьяна Ирина Светлана Екатерина Юлия Анастасия Марина "
    "Людмила Галина Надежда Валентина Оксана Алёна Ксения Дарья Виктория Евгения Лариса Любовь "
    "Вера Нина Жанна Кристина Алла Инна Лилия Полина Александра Елизавета Софья Маргарита Яна "
    "Валерия Тамара Снежана"
)

MALE_NAMES = _words(
    "Александр Сергей Андрей Дмитрий Алексей Михаил Иван Николай Владимир Артём Павел Евгений "
    "Игорь Роман Олег Денис Фёдор Пётр Семён"
)

#: Fathers' names → (masculine, feminine) patronymic.
PATRONYMICS = (
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"),
    ("Дмитриевич", "Дмитриевна"), ("Алексеевич", "Алексеевна"), ("Михайлович", "Михайловна"),
    ("Иванович", "Ивановна"), ("Николаевич", "Николаевна"), ("Владимирович", "Владимировна"),
    ("Викторович", "Викторовна"), ("Юрьевич", "Юрьевна"), ("Анатольевич", "Анатольевна"),
    ("Геннадьевич", "Геннадьевна"), ("Валерьевич", "Валерьевна"), ("Евгеньевич", "Евгеньевна"),
    ("Игоревич", "Игоревна"), ("Олегович", "Олеговна"), ("Павлович", "Павловна"),
    ("Петрович", "Петровна"), ("Фёдорович", "Фёдоровна"), ("Васильевич", "Васильевна"),
    ("Борисович", "Борисовна"), ("Григорьевич", "Григорьевна"),
    ("Константинович", "Константиновна"), ("Вячеславович", "Вячеславовна"),
    ("Ильич", "Ильинична"), ("Львович", "Львовна"), ("Семёнович", "Семёновна"),
    ("Артёмович", "Артёмовна"), ("Романович", "Романовна"), ("Степанович", "Степановна"),
)


def _feminine(surname: str) -> str:
    """Иванов → Иванова, Королёв → Королёва, Ильин → Ильина, Покровский → Покровская."""
    if surname.endswith(("ский", "цкий")):
        return surname[:-2] + "ая"
    if surname.endswith(("ый", "ой")):
        return surname[:-2] + "ая"
    return surname + "а"


_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "ie", "y", "", "e", "iu", "ia"],
    strict=True,
))


def translit(text: str) -> str:
    """Latin letters for an email address (the passport rules of 2013: Щ → shch, Ю → iu)."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


# --- the town --------------------------------------------------------------------------------

#: (number, name, legal form, "kind of kindergarten" words) of the town's kindergartens.
KINDERGARTENS = (
    (1, "Солнышко", "МБДОУ", "Центр развития ребёнка — детский сад"),
    (3, "Ромашка", "МБДОУ", ""),
    (5, "Берёзка", "МАДОУ", ""),
    (7, "Колокольчик", "МБДОУ", ""),
    (9, "Теремок", "МБДОУ", "Детский сад комбинированного вида"),
    (11, "Радуга", "МАДОУ", ""),
    (12, "Золотой ключик", "МБДОУ", ""),
    (14, "Сказка", "МАДОУ", ""),
    (15, "Светлячок", "МБДОУ", ""),
    (17, "Рябинка", "МБДОУ", ""),
    (18, "Алёнушка", "МБДОУ", "Детский сад компенсирующего вида"),
    (19, "Ласточка", "МБДОУ", ""),
    (21, "Дюймовочка", "МАДОУ", ""),
    (22, "Яблонька", "МБДОУ", ""),
    (24, "Звёздочка", "МБДОУ", ""),
    (26, "Улыбка", "МАДОУ", ""),
    (27, "Родничок", "МБДОУ", ""),
    (29, "Белочка", "МБДОУ", ""),
    (31, "Журавушка", "МБДОУ", ""),
    (33, "Снежинка", "МАДОУ", "Детский сад общеразвивающего вида"),
)


@dataclass
class _Org:
    """An organisation to create, with its staff plan."""

    key: str
    full_name: str
    short_name: str
    kind: OrgKind
    domain: str
    #: (position, how many, share of men) — the coordinator comes on top of these.
    staff: list[tuple[str, int, float]]
    coordinator_position: str
    municipality: str = TOWN
    timezone: str = TOWN_TZ
    coordinator_role: Role = Role.ORG_COORDINATOR
    #: The role of everyone else there.
    staff_role: Role = Role.TEACHER


def _town(rng: random.Random) -> list[_Org]:
    orgs = [_Org(
        key="uo",
        full_name="Управление образования администрации г. Лесногорска",
        short_name="Управление образования",
        kind=OrgKind.EDUCATION_OFFICE,
        domain=f"uo.{TOWN_DOMAIN}",
        staff=[("главный специалист отдела общего образования", 1, 0.1)],
        coordinator_position="методист управления образования",
        coordinator_role=Role.MUNICIPAL_COORDINATOR,
        staff_role=Role.MUNICIPAL_COORDINATOR,
    )]
    for number, name, form, kind_words in KINDERGARTENS:
        words = kind_words or "Детский сад"
        orgs.append(_Org(
            key=f"ds{number}",
            full_name=f"{form} «{words} № {number} «{name}»»",
            short_name=f"Детский сад № {number}",
            kind=OrgKind.KINDERGARTEN,
            domain=f"ds{number}.{TOWN_DOMAIN}",
            staff=_kindergarten_staff(rng, size=rng.randint(15, 21)),
            coordinator_position="старший воспитатель",
        ))
    for number, form in ((3, "МБОУ"), (8, "МАОУ")):
        orgs.append(_Org(
            key=f"sosh{number}",
            full_name=f"{form} «СОШ № {number}»",
            short_name=f"СОШ № {number}",
            kind=OrgKind.SCHOOL,
            domain=f"sosh{number}.{TOWN_DOMAIN}",
            staff=[
                ("учитель начальных классов", rng.randint(7, 9), 0.05),
                ("учитель русского языка и литературы", 2, 0.1),
                ("учитель математики", 2, 0.3),
                ("учитель информатики", 1, 0.6),
                ("учитель английского языка", 2, 0.1),
                ("учитель технологии", 1, 0.5),
                ("учитель физической культуры", 1, 0.6),
                ("педагог-психолог", 1, 0.1),
                ("социальный педагог", 1, 0.1),
                ("учитель-логопед", 1, 0.0),
                ("педагог-организатор", 1, 0.2),
            ],
            coordinator_position="заместитель директора по ВМР",
        ))
    orgs.append(_Org(
        key="ddt",
        full_name="МАУ ДО «Дом детского творчества»",
        short_name="Дом детского творчества",
        kind=OrgKind.SUPPLEMENTARY,
        domain=f"ddt.{TOWN_DOMAIN}",
        staff=[("педагог дополнительного образования", 12, 0.25), ("методист", 2, 0.1),
               ("педагог-организатор", 2, 0.2), ("концертмейстер", 1, 0.3)],
        coordinator_position="заместитель директора по ВМР",
    ))
    orgs += [
        _Org(
            key="cird",
            full_name="АНО ДО «Центр инновационного развития детей»",
            short_name="Центр инновационного развития детей",
            kind=OrgKind.SOCIAL_PARTNER,
            domain=f"cird.{TOWN_DOMAIN}",
            staff=[("педагог дополнительного образования", 4, 0.5)],
            coordinator_position="методист",
        ),
        _Org(
            key="library",
            full_name="МБУК «Лесногорская городская библиотека»",
            short_name="Городская библиотека",
            kind=OrgKind.SOCIAL_PARTNER,
            domain=f"library.{TOWN_DOMAIN}",
            staff=[("библиотекарь", 2, 0.0), ("библиограф", 1, 0.0)],
            coordinator_position="заведующий отделом обслуживания детей",
        ),
        _Org(
            key="museum",
            full_name="МАУК «Лесногорский музейно-выставочный комплекс»",
            short_name="Музейно-выставочный комплекс",
            kind=OrgKind.SOCIAL_PARTNER,
            domain=f"museum.{TOWN_DOMAIN}",
            staff=[("экскурсовод", 2, 0.2), ("научный сотрудник", 1, 0.4)],
            coordinator_position="заведующий экспозиционно-выставочным отделом",
        ),
        _Org(
            key="fire",
            full_name="Пожарно-спасательная часть № 14 г. Лесногорска",
            short_name="Пожарная часть № 14",
            kind=OrgKind.SOCIAL_PARTNER,
            domain=f"pch14.{TOWN_DOMAIN}",
            staff=[("начальник караула", 1, 1.0), ("пожарный", 1, 1.0)],
            coordinator_position="инспектор по пропаганде пожарной безопасности",
        ),
        _Org(
            key="other",
            full_name="МАДОУ «Детский сад № 7 «Уралочка»»",
            short_name="Детский сад № 7 (Светлоуральск)",
            kind=OrgKind.KINDERGARTEN,
            domain=f"ds7.{OTHER_DOMAIN}",
            staff=_kindergarten_staff(rng, size=12),
            coordinator_position="старший воспитатель",
            municipality=OTHER_TOWN,
            timezone=OTHER_TZ,
        ),
        # Fixed staff (no random draws here), so the people of the town above stay the same.
        _Org(
            key="krsk",
            full_name="МБДОУ «Детский сад № 10 «Кедрёнок»»",
            short_name="Детский сад № 10 (Кедровогорск)",
            kind=OrgKind.KINDERGARTEN,
            domain=f"ds10.{KRSK_DOMAIN}",
            staff=[("воспитатель", 7, 0.0), ("музыкальный руководитель", 1, 0.0),
                   ("учитель-логопед", 1, 0.0), ("инструктор по физической культуре", 1, 0.4)],
            coordinator_position="старший воспитатель",
            municipality=KRSK_TOWN,
            timezone=KRSK_TZ,
        ),
        _Org(
            key="vlad",
            full_name="МАДОУ «Детский сад № 2 «Жемчужинка»»",
            short_name="Детский сад № 2 (Светлая Бухта)",
            kind=OrgKind.KINDERGARTEN,
            domain=f"ds2.{VLAD_DOMAIN}",
            staff=[("воспитатель", 7, 0.03), ("педагог-психолог", 1, 0.0),
                   ("учитель-логопед", 1, 0.0), ("педагог дополнительного образования", 1, 0.3)],
            coordinator_position="заместитель заведующего по ВМР",
            municipality=VLAD_TOWN,
            timezone=VLAD_TZ,
        ),
    ]
    return orgs


def _kindergarten_staff(rng: random.Random, size: int) -> list[tuple[str, int, float]]:
    specialists = [
        ("музыкальный руководитель", rng.randint(1, 2), 0.05),
        ("инструктор по физической культуре", 1, 0.35),
        ("учитель-логопед", rng.randint(1, 2), 0.0),
        ("педагог-психолог", 1, 0.05),
    ]
    if rng.random() < 0.4:
        specialists.append(("учитель-дефектолог", 1, 0.0))
    if rng.random() < 0.5:
        specialists.append(("педагог дополнительного образования", 1, 0.2))
    carers = size - sum(count for _position, count, _share in specialists)
    return [("воспитатель", carers, 0.03), *specialists]


#: The people whose accounts `flask demo` prints: (org key, email, surname, first name,
#: patronymic, position, role).
FIXED_PEOPLE = (
    ("uo", MUNICIPAL_EMAIL, "Белоусова", "Светлана", "Викторовна",
     "методист управления образования", Role.MUNICIPAL_COORDINATOR),
    ("ds22", COORDINATOR_EMAIL, "Ковалёва", "Ирина", "Николаевна",
     "старший воспитатель", Role.ORG_COORDINATOR),
    ("ds22", TEACHER_EMAIL, "Зайцева", "Анна", "Сергеевна", "воспитатель", Role.TEACHER),
)

NETWORKS = (
    ("Растим инженеров",
     "Сетевой проект по ранней инженерной подготовке дошкольников: образовательная робототехника, "
     "конструирование, программируемые мини-роботы Bee-Bot, преемственность со школой.",
     ("ds22", "ds5", "ds14", "ds26", "sosh8", "cird", "ddt", "other", "krsk", "vlad")),
    ("Не скучаем вместе",
     "Совместные досуговые и просветительские мероприятия для детей и семей: праздники, "
     "экскурсии, встречи в библиотеке и музее, уроки безопасности.",
     ("ds22", "ds3", "ds11", "ds17", "ds31", "sosh3", "library", "museum", "fire")),
)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class DemoAccount:
    """A demo sign-in account as printed by the command."""

    role: Role
    email: str
    full_name: str
    organisation: str


@dataclass
class DemoResult:
    organisations: int = 0
    people: int = 0
    networks: int = 0
    accounts: list[DemoAccount] = field(default_factory=list)
    #: The school term (hub.demo_term): events (sessions included), internship sessions,
    #: invitations, joint plan items.
    events: int = 0
    sessions: int = 0
    invitations: int = 0
    plan_items: int = 0


def has_data() -> bool:
    """True when any organisation exists (then `--if-empty` loads nothing)."""
    return db.session.scalar(select(Organisation.id).limit(1)) is not None


def _category(rng: random.Random, position: str, coordinator: bool, kind: OrgKind) -> Category:
    if kind == OrgKind.SOCIAL_PARTNER and position != "педагог дополнительного образования":
        return Category.NONE
    if coordinator:
        return rng.choices((Category.HIGHEST, Category.METHODIST, Category.MENTOR),
                           (6, 2, 2))[0]
    return rng.choices(
        (Category.NONE, Category.FIRST, Category.HIGHEST, Category.METHODIST, Category.MENTOR),
        (25, 36, 31, 3, 5),
    )[0]


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return ""
    return "+79" + "".join(rng.choice("0123456789") for _ in range(9))


class _People:
    """Invents people with unique emails."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken

    def invent(self, male_share: float) -> tuple[str, str, str]:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        male_patronymic, female_patronymic = rng.choice(PATRONYMICS)
        if rng.random() < male_share:
            return surname, rng.choice(MALE_NAMES), male_patronymic
        return _feminine(surname), rng.choice(FEMALE_NAMES), female_patronymic

    def email(self, surname: str, first_name: str, patronymic: str, domain: str) -> str:
        base = f"{translit(surname)}.{translit(first_name[0])}{translit(patronymic[0])}"
        candidate, n = f"{base}@{domain}", 1
        while candidate in self.taken:
            n += 1
            candidate = f"{base}{n}@{domain}"
        self.taken.add(candidate)
        return candidate


def load_demo(seed: int = DEFAULT_SEED, now: datetime | None = None) -> DemoResult:
    """Create the demo town and its school term in the current session and commit it as one
    transaction. Events that ended before `now` (default: the current time) are completed."""
    rng = random.Random(seed)
    session = db.session
    try:
        result = _build(rng, now or utcnow())
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _build(rng: random.Random, now: datetime) -> DemoResult:
    session = db.session
    plans = _town(rng)
    # Few organisations: the directory's own service creates (and checks) each of them.
    orgs = {
        plan.key: create_organisation(
            full_name=plan.full_name, short_name=plan.short_name, kind=plan.kind,
            municipality=plan.municipality, timezone=plan.timezone)
        for plan in plans
    }

    shared_hash = hash_password(DEMO_PASSWORD)
    inventor = _People(rng, taken={fixed[1] for fixed in FIXED_PEOPLE})
    rows: list[dict] = []
    accounts: list[DemoAccount] = []

    def row(org: Organisation, names: tuple[str, str, str], email: str, position: str,
            role: Role, password_hash: str = "") -> dict:
        return {
            "surname": names[0], "first_name": names[1], "patronymic": names[2],
            "email": email, "phone": _phone(rng), "organisation_id": org.id,
            "position": position, "role": role, "password_hash": password_hash,
            "category": _category(rng, position, role != Role.TEACHER, org.kind),
        }

    fixed_by_org: dict[str, list[tuple]] = {}
    for fixed in FIXED_PEOPLE:
        fixed_by_org.setdefault(fixed[0], []).append(fixed)

    for plan in plans:
        org = orgs[plan.key]
        fixed_here = fixed_by_org.get(plan.key, [])
        for _key, email, surname, first, patronymic, position, role in fixed_here:
            rows.append(row(org, (surname, first, patronymic), email, position, role,
                            shared_hash))
            accounts.append(DemoAccount(role, email, f"{surname} {first} {patronymic}",
                                        org.short_name))
        if not any(role == plan.coordinator_role for *_, role in fixed_here):
            names = inventor.invent(0.1 if plan.kind != OrgKind.SOCIAL_PARTNER else 0.3)
            rows.append(row(org, names, inventor.email(*names, plan.domain),
                            plan.coordinator_position, plan.coordinator_role, shared_hash))
        fixed_positions = [position for *_, position, role in fixed_here if role == Role.TEACHER]
        for position, count, male_share in plan.staff:
            for _i in range(count - fixed_positions.count(position)):
                names = inventor.invent(male_share)
                rows.append(row(org, names, inventor.email(*names, plan.domain), position,
                                plan.staff_role,
                                shared_hash if plan.staff_role != Role.TEACHER else ""))

    # One flush: SQLAlchemy sends the people as multi-row INSERTs, and the model's hooks
    # (the folded search key) still run, unlike with a Core insert.
    session.add_all([Person(**values) for values in rows])
    session.flush()

    coordinators: dict[int, int] = {
        org_id: person_id for org_id, person_id in session.execute(
            select(Person.organisation_id, Person.id).where(Person.role == Role.ORG_COORDINATOR))
    }
    networks = [
        create_network(name=name, school_year=SCHOOL_YEAR, description=description,
                       members=[(orgs[key].id, coordinators[orgs[key].id]) for key in member_keys])
        for name, description, member_keys in NETWORKS
    ]
    term = build_term(rng, orgs, {n.name: n for n in networks}, now)
    session.flush()
    reconcile_upcoming(limit=None)  # every upcoming event gets its Jitsi room
    seed_boards(rng, now)
    seed_attendance(rng, now)
    municipal = session.scalars(select(Person).where(Person.email == MUNICIPAL_EMAIL)).one()
    seed_reports(rng, municipal, int(SCHOOL_YEAR[:4]), now)
    seed_materials(rng, now)
    order = {Role.MUNICIPAL_COORDINATOR: 0, Role.ORG_COORDINATOR: 1, Role.TEACHER: 2}
    accounts.sort(key=lambda a: order[a.role])
    return DemoResult(organisations=len(orgs), people=len(rows), networks=len(networks),
                      accounts=accounts, events=term.events, sessions=term.sessions,
                      invitations=term.invitations, plan_items=term.plan_items)


def demo_accounts() -> list[DemoAccount]:
    """The printed accounts as they are in the database now (those that still exist)."""
    found = []
    for _key, email, *_names, role in FIXED_PEOPLE:
        person = db.session.scalar(select(Person).where(Person.email == email))
        if person is not None:
            found.append(DemoAccount(role, email, person.full_name,
                                     person.organisation.short_name))
    return found


def sign_in_lines(accounts: list[DemoAccount]) -> list[str]:
    """How to sign in as each demo account: the lines `flask demo` prints."""
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    titles = {
        Role.MUNICIPAL_COORDINATOR: _("Municipal coordinator"),
        Role.ORG_COORDINATOR: _("Organisation coordinator"),
        Role.TEACHER: _("Teacher"),
    }
    lines = [_("Sign in at %(url)s:", url=f"{base}/login")]
    for account in accounts:
        lines.append(_("  %(title)s, %(name)s (%(organisation)s): email %(email)s, "
                       "password %(password)s",
                       title=titles[account.role], name=account.full_name,
                       organisation=account.organisation, email=account.email,
                       password=DEMO_PASSWORD))
    if current_app.config.get("DEV_MAIL"):
        lines.append(_("The emailed sign-in link works too: ask for it on the sign-in page and "
                       "open it from %(url)s.", url=f"{base}/dev/mail"))
    else:
        lines.append(_("The emailed sign-in link works too: ask for it on the sign-in page."))
    lines.append(_("Every other coordinator has the same password; other teachers have none "
                   "and sign in by the emailed link."))
    return lines


@click.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Load only when the database has no organisations yet (make run uses this).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Seed of the random generator: the same seed gives the same town.")
@with_appcontext
def demo_command(if_empty: bool, seed: int) -> None:
    """Load demo data: a town network of kindergartens, schools and partners."""
    if has_data():
        count = db.session.scalar(select(func.count(Organisation.id)))
        if not if_empty:
            raise click.ClickException(_(
                "The database already has %(n)d organisations: demo data is loaded only into an "
                "empty database.", n=count))
        click.echo(_("The database already has data: demo data not loaded."))
        accounts = demo_accounts()
        if accounts:
            for line in sign_in_lines(accounts):
                click.echo(line)
        return
    result = load_demo(seed)
    click.echo(_("Demo data loaded: %(orgs)d organisations, %(people)d people, "
                 "%(networks)d network associations (seed %(seed)d).",
                 orgs=result.organisations, people=result.people,
                 networks=result.networks, seed=seed))
    click.echo(_("School term September 2026 – January 2027: %(events)d events (%(sessions)d "
                 "sessions of the digital internship), %(invitations)d invitations, "
                 "%(items)d items of the joint plans. No emails were sent.",
                 events=result.events, sessions=result.sessions,
                 invitations=result.invitations, items=result.plan_items))
    for line in sign_in_lines(result.accounts):
        click.echo(line)
