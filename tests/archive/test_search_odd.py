"""Odd queries never break the search, on either database (tests/archive/test_search.py has the
word forms and the results)."""

from __future__ import annotations

import pytest

from hub.archive.search import QueryError, search
from tests.archive.test_search import corpus  # noqa: F401


@pytest.mark.parametrize("query", [
    "1e5", "3.14", "½", "٣", "x", "ß", "don't", "C++", "#игра", "@user", "e-mail@x.ru",
    "http://example.org/a?b=c&d", "2026/2027", "5–6", "игра:*", "игра & !мультфильм", "игра | b",
    "a:b:c", "((игра", "игра)", "'игра'", "<->", "\\", "%", "_", "игра\x00", "😀 игра", "ǅ",
])
def test_odd_queries_run_or_say_what_to_change(corpus, query):  # noqa: F811
    try:
        page = search(query, viewer=None)
    except QueryError as error:
        assert str(error).startswith("Type a word")
    else:
        assert page.total == len(page.items)


def test_odd_filter_values_find_nothing(corpus):  # noqa: F811
    assert search("", viewer=None, topic="игра\x00", age_group="%").total == 0
    assert search("игра", viewer=None, topic="_", year=-1).total == 0
