"""The bank's search (hub/archive/search.py): word forms, ё/е, ranking, highlighting, filters,
visibility and bad queries. The suite runs once on SQLite and once on PostgreSQL: every test
here asserts the exact set of materials found, so both databases find the same ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.archive.models import Material, MaterialKind, MaterialTag, TagKind, Visibility
from hub.archive.search import QueryError, clean_query, search
from hub.core.types import utcnow
from hub.directory.models import fold_for_search
from hub.extensions import db
from hub.scheduling.models import EventFormat

MC, SP, WEEK = EventFormat.MASTER_CLASS, EventFormat.SEMINAR_PRACTICUM, EventFormat.METHODICAL_WEEK

#: (title, description, format, year, topics, age groups), oldest first.
CORPUS = [
    ("Игры с Bee-Bot в старшей группе", "Задания для образовательной робототехники.", MC, 2025,
     ["Робототехника"], ["5–6 лет"]),
    ("Игровые технологии в ДОУ", "Презентация семинара-практикума для воспитателей.", SP, 2026,
     ["Игра"], ["3–4 года"]),
    ("Мультфильм своими руками", "Слайды мастер-класса «Создание мультфильмов с детьми».", MC,
     2025, ["Мультипликация"], ["6–7 лет"]),
    ("Ранняя профориентация дошкольников",
     "Методическая неделя: знакомство с профессиями, игровой квест «Кем быть?».", WEEK, 2026,
     ["Профориентация"], ["5–6 лет"]),
    ("Ёлочные игрушки из бумаги", "Мастер-класс для родителей и детей.", MC, 2026, [], []),
    ("Образовательная робототехника в детском саду", "Программа кружка.", SP, 2026,
     ["Робототехника"], []),
    ("Конструирование из LEGO", "Первые шаги: робототехника и алгоритмы для малышей.", SP, 2026,
     ["Робототехника"], ["Ранний возраст"]),
    ("<script>alert(1)</script> Игра & «шашки»", "<b>Описание</b> игры для педагогов.", None,
     2026, [], []),
]


def _add(title: str, description: str, fmt: EventFormat | None, year: int, topics: list[str],
         ages: list[str], *, organisation_id: int, age: int, created_by_id: int | None = None,
         visibility: Visibility = Visibility.PUBLIC) -> Material:
    material = Material(kind=MaterialKind.LINK, title=title, description=description,
                        url="https://example.org/m", format=fmt, year=year,
                        organisation_id=organisation_id, visibility=visibility,
                        created_by_id=created_by_id,
                        created_at=utcnow() - timedelta(hours=age))
    material.tags = [MaterialTag(kind=kind, label=label, value=fold_for_search(label))
                     for kind, labels in ((TagKind.TOPIC, topics), (TagKind.AGE_GROUP, ages))
                     for label in labels]
    db.session.add(material)
    return material


@pytest.fixture
def corpus(people) -> dict[str, Material]:  # type: ignore[no-untyped-def]
    """The public corpus (the teacher's organisation), an organisation-only material of the
    other organisation, and a network-only one of the teacher's."""
    org = people.teacher.organisation_id
    found = {row[0]: _add(*row, organisation_id=org, age=len(CORPUS) - i)
             for i, row in enumerate(CORPUS)}
    found["secret"] = _add("Игра «Что? Где? Когда?» для педагогов", "Только для своих.", None,
                           2026, [], [], organisation_id=people.other_teacher.organisation_id,
                           age=0, visibility=Visibility.ORGANISATION)
    found["network"] = _add("Игротека сетевого проекта", "«Не скучаем вместе».", None, 2026,
                            [], [], organisation_id=org, age=0, visibility=Visibility.NETWORK)
    db.session.commit()
    return found


def titles(text: str, viewer=None, **filters) -> set[str]:  # type: ignore[no-untyped-def]
    page = search(text, viewer=viewer, limit=50, **filters)
    assert page.total == len(page.items)
    return {hit.material.title for hit in page.items}


GAMES = {"Игры с Bee-Bot в старшей группе", "Игровые технологии в ДОУ",
         "Ранняя профориентация дошкольников", "Ёлочные игрушки из бумаги",
         "<script>alert(1)</script> Игра & «шашки»"}


@pytest.mark.parametrize(("query", "expected"), [
    ("игра", GAMES),
    ("ИГРЫ", GAMES),
    ("игровой", {"Игровые технологии в ДОУ", "Ранняя профориентация дошкольников"}),
    ("мультфильмов", {"Мультфильм своими руками"}),
    ("слайды мультфильм", {"Мультфильм своими руками"}),
    ("мастер-класс", {"Мультфильм своими руками", "Ёлочные игрушки из бумаги"}),
    ("елочные", {"Ёлочные игрушки из бумаги"}),
    ("ёлочная", {"Ёлочные игрушки из бумаги"}),
    ("робототехника", {"Игры с Bee-Bot в старшей группе",
                       "Образовательная робототехника в детском саду",
                       "Конструирование из LEGO"}),
    ("bee-bots", {"Игры с Bee-Bot в старшей группе"}),
    ("лего", set()),
    ("lego", {"Конструирование из LEGO"}),
    ("6 лет", {"Игры с Bee-Bot в старшей группе", "Мультфильм своими руками",
               "Ранняя профориентация дошкольников"}),
    ("ранний возраст", {"Конструирование из LEGO"}),
    ("профессия", {"Ранняя профориентация дошкольников"}),
    ("игры и робототехника", {"Игры с Bee-Bot в старшей группе"}),
    ("робототехника в детском саду", {"Образовательная робототехника в детском саду"}),
    ("script", {"<script>alert(1)</script> Игра & «шашки»"}),
    ('"игра', GAMES),
    ("игра*", GAMES),
    ("NEAR(игра мультфильм)", set()),
    ("игра OR робототехника", {"Игры с Bee-Bot в старшей группе"}),
    ("игра -мультфильм", set()),
    ("игра AND NOT: шашки^", {"<script>alert(1)</script> Игра & «шашки»"}),
    ("'; DROP TABLE material; --", set()),
    ("title:игра", set()),
])
def test_the_same_materials_for_every_word_form(corpus, query, expected):
    assert titles(query) == expected


def test_the_teacher_finds_last_years_master_class_slides_by_another_word_form(corpus, people):
    page = search("мультфильмы", viewer=people.teacher, fmt=MC, year=2025)
    assert [hit.material.title for hit in page.items] == ["Мультфильм своими руками"]
    assert page.items[0].title_html == "<mark>Мультфильм</mark> своими руками"
    assert "<mark>мультфильмов</mark>" in page.items[0].snippet_html


def test_a_title_match_ranks_above_a_description_match(corpus):
    page = search("робототехника", viewer=None)
    order = [hit.material.title for hit in page.items]
    assert order[0] == "Образовательная робототехника в детском саду"
    assert page.items[0].rank > page.items[-1].rank


def test_highlight_marks_the_word_and_escapes_the_rest(corpus):
    [hit] = search("шашки", viewer=None).items
    assert hit.title_html == ("&lt;script&gt;alert(1)&lt;/script&gt; Игра &amp; «"
                              "<mark>шашки</mark>»")
    assert hit.snippet_html == "&lt;b&gt;Описание&lt;/b&gt; игры для педагогов."
    [hit] = search("описание", viewer=None).items
    assert hit.snippet_html == "&lt;b&gt;<mark>Описание</mark>&lt;/b&gt; игры для педагогов."


def test_filters(corpus, people, make_org):
    assert titles("игра", fmt=MC) == {"Игры с Bee-Bot в старшей группе",
                                      "Ёлочные игрушки из бумаги"}
    assert titles("игра", topic="робототехника") == {"Игры с Bee-Bot в старшей группе"}
    assert titles("", topic="Робототехника", age_group="ранний возраст") == {
        "Конструирование из LEGO"}
    assert titles("", age_group="5–6 лет", year=2026) == {"Ранняя профориентация дошкольников"}
    assert titles("игра", organisation_id=people.teacher.organisation_id) == GAMES
    assert titles("игра", organisation_id=make_org().id) == set()
    assert titles("игра", year=2025) == {"Игры с Bee-Bot в старшей группе"}


def test_a_blank_query_lists_the_newest_first(corpus):
    page = search("  ", viewer=None, limit=3)
    assert page.total == len(CORPUS)
    assert [hit.material.title for hit in page.items] == [row[0] for row in CORPUS[::-1][:3]]
    assert page.items[0].title_html.startswith("&lt;script&gt;")
    assert page.query == ""


def test_paging_keeps_the_total(corpus):
    first = search("игра", viewer=None, limit=2)
    rest = search("игра", viewer=None, limit=10, offset=2)
    assert first.total == rest.total == len(GAMES)
    assert {h.material.title for h in first.items + rest.items} == GAMES


def test_what_each_viewer_may_find(corpus, people):
    assert titles("игра", viewer=people.teacher) == GAMES | {"Игротека сетевого проекта"}
    assert titles("игра", viewer=people.other_teacher) == GAMES | {
        "Игра «Что? Где? Когда?» для педагогов"}
    assert titles("игра", viewer=people.municipal) == GAMES | {
        "Игротека сетевого проекта", "Игра «Что? Где? Когда?» для педагогов"}
    assert titles("игра") == GAMES


def test_an_index_follows_edits_tags_and_deletes(corpus):
    material = corpus["Мультфильм своими руками"]
    material.title = "Анимация своими руками"
    material.tags.append(MaterialTag(kind=TagKind.TOPIC, label="Пластилин", value="пластилин"))
    db.session.commit()
    assert titles("мультфильм") == {"Анимация своими руками"}  # still in the description
    assert titles("анимации") == {"Анимация своими руками"}
    assert titles("пластилина") == {"Анимация своими руками"}
    material.tags = [t for t in material.tags if t.label != "Пластилин"]
    db.session.commit()
    assert titles("пластилин") == set()
    db.session.delete(corpus["Игровые технологии в ДОУ"])
    db.session.commit()
    assert titles("игровые") == {"Ранняя профориентация дошкольников"}


@pytest.mark.parametrize("query", ["игра" * 1250, "я" * 201, "!!! ,,, ???", "и в на", "—", "…"])
def test_bad_queries_say_what_to_change(corpus, query):
    with pytest.raises(QueryError) as error:
        search(query, viewer=None)
    assert str(error.value).startswith(("The search is too long", "Type a word"))


def test_clean_query_folds_and_keeps_the_words():
    assert clean_query("  Ёлочные   ИГРУШКИ!! ") == "елочные игрушки"
    assert clean_query("") == ""

