"""The bank search's text analysis, in Python, made to give what PostgreSQL's `russian`
configuration gives, so that both databases find the same materials for the same words.

Text is folded (Unicode casefold, ё → е) and cut into words: runs of letters and digits, all
else a separator. The search columns store these words separated by spaces; PostgreSQL then
runs its `russian` configuration over them, and SQLite's FTS5 table holds `lexemes()` made here:
- a word with an ASCII digit is kept as it is (PostgreSQL's `simple` dictionary);
- an ASCII word: dropped if in PostgreSQL's english.stop, else the Snowball English stem;
- any other word: dropped if in PostgreSQL's russian.stop, else the Snowball Russian stem.
snowballstemmer 2.2 gives PostgreSQL 15's stems (3.x changed some English ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from markupsafe import Markup, escape

from hub.directory.models import fold_for_search

#: PostgreSQL's tsearch_data/russian.stop, verbatim (it writes ё as е).
RUSSIAN_STOP = frozenset((
    "и", "в", "во", "не", "что", "он", "на", "я", "с", "со", "как", "а", "то", "все", "она", "так",
    "его", "но", "да", "ты", "к", "у", "же", "вы", "за", "бы", "по", "только", "ее", "мне", "было",
    "вот", "от", "меня", "еще", "нет", "о", "из", "ему", "теперь", "когда", "даже", "ну", "вдруг",
    "ли", "если", "уже", "или", "ни", "быть", "был", "него", "до", "вас", "нибудь", "опять", "уж",
    "вам", "ведь", "там", "потом", "себя", "ничего", "ей", "может", "они", "тут", "где", "есть",
    "надо", "ней", "для", "мы", "тебя", "их", "чем", "была", "сам", "чтоб", "без", "будто", "чего",
    "раз", "тоже", "себе", "под", "будет", "ж", "тогда", "кто", "этот", "того", "потому", "этого",
    "какой", "совсем", "ним", "здесь", "этом", "один", "почти", "мой", "тем", "чтобы", "нее",
    "сейчас", "были", "куда", "зачем", "всех", "никогда", "можно", "при", "наконец", "два", "об",
    "другой", "хоть", "после", "над", "больше", "тот", "через", "эти", "нас", "про", "всего",
    "них", "какая", "много", "разве", "три", "эту", "моя", "впрочем", "хорошо", "свою", "этой",
    "перед", "иногда", "лучше", "чуть", "том", "нельзя", "такой", "им", "более", "всегда",
    "конечно", "всю", "между",
))

#: PostgreSQL's tsearch_data/english.stop, verbatim.
ENGLISH_STOP = frozenset((
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it",
    "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who",
    "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be", "been",
    "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and",
    "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to",
    "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then",
    "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few",
    "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
    "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
))

#: Longer words are not indexed (nor searched).
WORD_MAX = 100
#: Characters of a text that are indexed (PostgreSQL refuses a tsvector over 1 MB).
TEXT_MAX = 20_000

_WORD = re.compile(r"[^\W_]+")
_ASCII_DIGIT = re.compile(r"[0-9]")
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    """The folded words of `text` that the search indexes."""
    return [w for w in _WORD.findall(fold_for_search(text[:TEXT_MAX])) if len(w) <= WORD_MAX]


def document(*texts: str) -> str:
    """What a search column stores: the folded words of `texts`, separated by spaces."""
    return " ".join(w for text in texts for w in words(text))


@lru_cache(maxsize=100_000)
def lexeme(word: str) -> str | None:
    """The index's form of a folded word, as PostgreSQL's `russian` configuration makes it;
    None for a stop word."""
    if _ASCII_DIGIT.search(word):
        return word
    if word.isascii():
        return None if word in ENGLISH_STOP else _ENGLISH.stemWord(word)
    return None if word in RUSSIAN_STOP else _RUSSIAN.stemWord(word)


def lexemes(folded_words: Iterable[str]) -> list[str]:
    """The lexemes of folded words, stop words left out."""
    return [x for x in map(lexeme, folded_words) if x is not None]


#: Characters of a description around the first match that a result shows.
SNIPPET_BEFORE, SNIPPET_LENGTH = 60, 240


def highlight(text: str, wanted: set[str]) -> Markup:
    """`text` escaped, its words whose lexeme starts with one of `wanted` in <mark>."""
    return _marked(text, wanted, 0, len(text))


def snippet(text: str, wanted: set[str]) -> Markup:
    """A piece of `text` around its first matching word (or its start), escaped and marked."""
    start = 0
    for match in _WORD.finditer(text):
        if _matches(match.group(), wanted):
            start = max(0, match.start() - SNIPPET_BEFORE)
            break
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + SNIPPET_LENGTH)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + SNIPPET_LENGTH // 2 else end
    body = _marked(text, wanted, start, end)
    return Markup("{}{}{}").format(Markup("…") if start else "", body,
                                   Markup("…") if end < len(text) else "")


def _matches(word: str, wanted: set[str]) -> bool:
    folded = words(word)
    found = lexeme(folded[0]) if len(folded) == 1 else None
    return found is not None and any(found.startswith(w) for w in wanted)


def _marked(text: str, wanted: set[str], start: int, end: int) -> Markup:
    parts: list[str] = []
    position = start
    for match in _WORD.finditer(text, start, end):
        if _matches(match.group(), wanted):
            parts.append(escape(text[position:match.start()]))
            parts.append(Markup("<mark>{}</mark>").format(match.group()))
            position = match.end()
    parts.append(escape(text[position:end]))
    return Markup("").join(parts)
