"""The bank's search over 20,000 materials (hub/archive/search.py), on SQLite and on PostgreSQL,
beside a plain LIKE query in the same run.

What it does, for each database:

1. makes a fresh database (a temporary SQLite file; the PostgreSQL database `search_bench` on
   127.0.0.1:5432, created and dropped; skipped, saying so, when PostgreSQL does not answer)
   with create_all from the app's models (so with the search index of
   hub/archive/search_schema.py), and fills it with bulk inserts: 12 organisations in 3
   networks, 20,000 materials of 4 school years with titles and descriptions made from word
   lists of the bank's subjects in their inflected forms (игра, игры, игровые, робототехника,
   мультфильмов, ранний возраст, …), a topic and an age group each, three in four public, the
   rest for the network or the organisation;
2. indexes them all with hub.archive.search_index.reindex_all (timed);
3. times, for a signed-in teacher, 50 queries (several forms of the same words, one and two
   words) REPEAT times each, in turn: search() (the page of 20 with its tags, organisation,
   event and authors, the count, the highlighting), and a plain query of the same first word:
   `title LIKE '%word%' OR description LIKE '%word%'` (ILIKE on PostgreSQL) with the same
   visibility condition, its page of 20 and its count;
4. prints per query the results found and the p50/p99 of both, then the figures over all the
   calls of each.

The last lines are exactly

    search db=sqlite docs=20000 p50_ms=… p99_ms=… like_p99_ms=…
    search db=postgresql docs=20000 p50_ms=… p99_ms=… like_p99_ms=…

(`p50_ms=skipped` … when PostgreSQL is unreachable). Run:

    .venv/bin/python bench/search.py
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import quantiles
from time import perf_counter
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, or_, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from config import database_url  # noqa: E402
from hub import create_app  # noqa: E402
from hub.archive.access import visible  # noqa: E402
from hub.archive.models import (  # noqa: E402
    Material,
    MaterialKind,
    MaterialTag,
    TagKind,
    Visibility,
)
from hub.archive.search import search  # noqa: E402
from hub.archive.search_index import reindex_all  # noqa: E402
from hub.directory.models import (  # noqa: E402
    Category,
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
    fold_for_search,
)
from hub.extensions import db  # noqa: E402
from hub.scheduling.models import EventFormat  # noqa: E402

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "search_bench"
DOCS, ORGANISATIONS, REPEAT, PAGE = 20_000, 12, 8, 20

#: Subjects: (the topic tag, the forms its words take in titles and descriptions).
SUBJECTS = [
    ("Игра", ["игра", "игры", "игре", "игру", "игрой", "игровые", "игровой", "игровых",
              "игровая", "игрушки", "дидактические игры", "сюжетно-ролевая игра"]),
    ("Робототехника", ["робототехника", "робототехники", "робототехнике", "роботы",
                       "робота", "Bee-Bot", "LEGO WeDo", "образовательная робототехника"]),
    ("Мультипликация", ["мультипликация", "мультипликации", "мультфильм", "мультфильмы",
                        "мультфильмов", "мультфильма", "анимация", "студия «Мульти-пульти»"]),
    ("Профориентация", ["профориентация", "профориентации", "ранняя профориентация",
                        "профессии", "профессий", "профессиями", "мир профессий"]),
    ("Конструирование", ["конструирование", "конструирования", "конструктор",
                         "конструкторы", "техническое творчество"]),
    ("Экспериментирование", ["экспериментирование", "опыты", "опытов", "эксперименты",
                             "цифровая лаборатория", "исследовательская деятельность"]),
    ("Театр", ["театр", "театрализованная деятельность", "театральные", "спектакль",
               "кукольный театр", "театрализация"]),
    ("Речевое развитие", ["речь", "речи", "речевое развитие", "логоритмика",
                          "звуковая культура речи", "чтение", "художественной литературы"]),
    ("Финансовая грамотность", ["финансовая грамотность", "финансовой грамотности",
                                "деньги", "экономическое воспитание"]),
    ("Экология", ["экология", "экологии", "экологическое воспитание", "природа",
                  "природы", "огород на окне"]),
    ("Патриотическое воспитание", ["патриотическое воспитание", "малая родина",
                                   "родного края", "музей", "музейная педагогика"]),
    ("Здоровье", ["здоровье", "здоровья", "здоровьесберегающие технологии",
                  "безопасность", "безопасности", "пожарная безопасность"]),
]
AGES = ["Ранний возраст", "3–4 года", "4–5 лет", "5–6 лет", "6–7 лет", "1–4 класс"]
FORMS = ["Мастер-класс", "Семинар-практикум", "Круглый стол", "Вебинар", "Открытый показ",
         "Деловая игра", "Методическая неделя", "Презентация", "Конспект занятия",
         "Слайды выступления", "Запись вебинара", "Доска мероприятия"]
WHERE = ["в ДОУ", "в детском саду", "в старшей группе", "в подготовительной группе",
         "для дошкольников", "с детьми раннего возраста", "для родителей", "в школе",
         "для педагогов", "в сетевом проекте «Не скучаем вместе»"]
SENTENCES = [
    "Опыт работы педагогов по теме «{a}».",
    "Практические приёмы: {a} и {b}.",
    "Материалы для воспитателей и специалистов: {a}, {b}.",
    "Рассматриваются вопросы: {a} в совместной деятельности с детьми.",
    "Конспекты занятий, презентация и фотоотчёт ({a}).",
    "Рекомендации родителям: {b} дома.",
    "Сетевое взаимодействие ДОУ и школы: {a}.",
    "Итоги методической недели, {b}.",
]
#: The queries timed: several forms of the same words.
QUERIES = [
    "игра", "игры", "игровые", "игровой", "игрушки", "дидактические игры", "робототехника",
    "робототехнике", "роботы", "Bee-Bot", "LEGO", "мультфильм", "мультфильмов",
    "мультипликация", "анимация", "профориентация", "профессии", "мир профессий",
    "конструирование", "конструктор", "техническое творчество", "опыты", "эксперимент",
    "цифровая лаборатория", "театр", "театрализованная", "спектакль", "речь",
    "речевое развитие", "логоритмика", "чтение", "финансовая грамотность", "деньги",
    "экология", "экологическое воспитание", "природа", "патриотическое", "музей",
    "здоровье", "безопасность", "ранний возраст", "раннего возраста", "старшая группа",
    "подготовительной группы", "родителям", "педагогов", "презентация", "конспект занятия",
    "мастер-класс", "семинар практикум",
]


# -- filling -----------------------------------------------------------------------------------

def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(model), rows[start:start + 5000])


def fill(rng: random.Random) -> Person:
    """The organisations, networks and materials, committed; returns the teacher who searches."""
    _insert(Organisation, [{"id": n, "full_name": f"МБДОУ «Детский сад № {n}»",
                            "short_name": f"Детский сад № {n}", "kind": OrgKind.KINDERGARTEN,
                            "municipality": "г. Лесногорск", "timezone": "Europe/Moscow",
                            "sort_key": f"детский сад № {n:08d}"}
                           for n in range(1, ORGANISATIONS + 1)])
    _insert(Network, [{"id": n, "name": f"Сетевой проект № {n}", "school_year": "2026/2027"}
                      for n in range(1, 4)])
    _insert(Person, [{"id": 1, "surname": "Попова", "first_name": "Анна", "patronymic": "",
                      "email": "teacher@ds1.example.org", "organisation_id": 1,
                      "position": "воспитатель", "category": Category.FIRST,
                      "role": Role.TEACHER}] + [
        {"id": n + 1, "surname": "Кузнецова", "first_name": "Ольга", "patronymic": "",
         "email": f"coordinator@ds{n}.example.org", "organisation_id": n,
         "position": "старший воспитатель", "category": Category.HIGHEST,
         "role": Role.ORG_COORDINATOR} for n in range(1, ORGANISATIONS + 1)])
    _insert(NetworkMember, [{"network_id": n % 3 + 1, "organisation_id": n,
                             "coordinator_id": n + 1} for n in range(1, ORGANISATIONS + 1)])
    formats = [f for f in EventFormat if f != EventFormat.INTERNSHIP_SESSION]
    start = datetime(2023, 9, 1, tzinfo=UTC)
    materials, tags = [], []
    for n in range(1, DOCS + 1):
        topic, forms = rng.choice(SUBJECTS)
        _other, other_forms = rng.choice(SUBJECTS)
        title = f"{rng.choice(FORMS)} «{rng.choice(forms).capitalize()} {rng.choice(WHERE)}»"
        description = " ".join(rng.choice(SENTENCES).format(a=rng.choice(forms),
                                                            b=rng.choice(other_forms))
                               for _ in range(rng.randint(2, 5)))
        created = start + timedelta(minutes=rng.randint(0, 4 * 365 * 24 * 60))
        visibility = rng.choices(list(Visibility), weights=(75, 15, 10))[0]
        materials.append({"id": n, "kind": MaterialKind.FILE, "title": title,
                          "description": description, "url": "", "storage_key": "",
                          "filename": "", "content_type": "", "size": 0,
                          "organisation_id": rng.randint(1, ORGANISATIONS),
                          "format": rng.choice(formats), "year": created.year
                          - (created.month < 9), "visibility": visibility,
                          "published": True, "created_at": created, "updated_at": created})
        age = rng.choice(AGES)
        tags += [{"material_id": n, "kind": TagKind.TOPIC, "label": topic,
                  "value": fold_for_search(topic)},
                 {"material_id": n, "kind": TagKind.AGE_GROUP, "label": age,
                  "value": fold_for_search(age)}]
    _insert(Material, materials)
    _insert(MaterialTag, tags)
    db.session.commit()
    return db.session.get(Person, 1)


# -- measuring ---------------------------------------------------------------------------------

def _like(word: str, viewer: Person) -> int:
    """The baseline: a page and the count of materials whose title or description contains
    `word`, with the same visibility condition."""
    pattern = f"%{word}%"
    if db.engine.dialect.name == "postgresql":
        match = or_(Material.title.ilike(pattern), Material.description.ilike(pattern))
    else:
        match = or_(Material.title.like(pattern), Material.description.like(pattern))
    where = [visible(viewer), match]
    db.session.scalars(select(Material).where(*where).order_by(
        Material.created_at.desc(), Material.id.desc()).limit(PAGE)).all()
    return db.session.scalar(select(func.count(Material.id)).where(*where)) or 0


def _ms(samples: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def measure(name: str, viewer: Person) -> tuple[float, float, float]:
    """(p50, p99, LIKE's p99) in ms over every call; prints each query's figures."""
    fts_all: list[float] = []
    like_all: list[float] = []
    print(f"[{name}] {'query':<28} {'found':>6} {'p50_ms':>7} {'p99_ms':>7} "
          f"{'like_found':>10} {'like_p50':>8} {'like_p99':>8}")
    for query in QUERIES:
        fts: list[float] = []
        like: list[float] = []
        search(query, viewer=viewer, limit=PAGE)  # warm-up
        for _ in range(REPEAT):
            db.session.expire_all()
            started = perf_counter()
            found = search(query, viewer=viewer, limit=PAGE).total
            fts.append(perf_counter() - started)
            started = perf_counter()
            like_found = _like(query.split()[0], viewer)
            like.append(perf_counter() - started)
        fts_all += fts
        like_all += like
        print(f"[{name}] {query:<28} {found:>6} {_ms(fts, 50):>7.1f} {_ms(fts, 99):>7.1f} "
              f"{like_found:>10} {_ms(like, 50):>8.1f} {_ms(like, 99):>8.1f}")
    return _ms(fts_all, 50), _ms(fts_all, 99), _ms(like_all, 99)


def run(name: str, uri: str) -> str:
    """Fill, index and measure one database; returns the figures of the last line."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri, BABEL_DEFAULT_LOCALE="ru")
    with app.app_context():
        db.create_all()
        started = perf_counter()
        viewer = fill(random.Random(2026))
        print(f"[{name}] filled {DOCS} materials in {perf_counter() - started:.1f} s")
        started = perf_counter()
        with db.engine.begin() as conn:
            reindex_all(conn)
            if name == "postgresql":
                conn.execute(text("ANALYZE"))
        print(f"[{name}] indexed in {perf_counter() - started:.1f} s")
        p50, p99, like_p99 = measure(name, viewer)
        print(f"[{name}] over {len(QUERIES)} queries × {REPEAT}: search p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms; LIKE p99 {like_p99:.1f} ms")
        db.session.remove()
        db.engine.dispose()
    return f"p50_ms={p50:.1f} p99_ms={p99:.1f} like_p99_ms={like_p99:.1f}"


def _postgres() -> str | None:
    """The bench database's URL after making it afresh; None when PostgreSQL does not answer."""
    try:
        admin = create_engine(database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}"))
            conn.execute(text(f"CREATE DATABASE {PG_BENCH_DB}"))
        admin.dispose()
    except OperationalError as error:
        print(f"[postgresql] skipped: PostgreSQL at 127.0.0.1:5432 does not answer "
              f"({str(error).splitlines()[0]})")
        return None
    return database_url(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB)


def _drop_postgres() -> None:
    admin = create_engine(database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)"))
    admin.dispose()


def main() -> None:
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = run("sqlite", f"sqlite:///{Path(folder) / 'search.sqlite3'}")
    uri = _postgres()
    if uri is None:
        results["postgresql"] = "p50_ms=skipped p99_ms=skipped like_p99_ms=skipped"
    else:
        try:
            results["postgresql"] = run("postgresql", uri)
        finally:
            _drop_postgres()
    for name, figures in results.items():
        print(f"search db={name} docs={DOCS} {figures}")


if __name__ == "__main__":
    main()
