"""Text strategies shared by the fuzz tests: hostile unicode, and names the directory accepts."""

from __future__ import annotations

from hypothesis import strategies as st

#: Characters that break naive parsers and writers: separators, quotes, escapes, line breaks,
#: controls, BOM and zero-width marks, bidi overrides, a lone surrogate, emoji, combining marks.
NASTY = ("\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x7f\x85\xa0\u2028\u2029\ufeff\u200b\u202e"
         "\ud800;,:\"'\\`<>&=+-@%|^{}[]()/*#\u0301\u0410\u0451\u2116\u00ab\u00bb\U0001f916")

nasty_text = st.text(
    alphabet=st.one_of(st.sampled_from(NASTY), st.characters()), max_size=120)

#: Letters the directory accepts in names (precomposed, so NFC leaves them alone).
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

_word = st.text(alphabet=CYRILLIC + LATIN, min_size=1, max_size=15)
#: One name part: «Салтыкова-Щедрина», «O'Neil», no spaces.
name_part = st.builds(lambda a, sep, b: a + sep + b if b else a, _word,
                      st.sampled_from(["-", "'", "’"]), st.one_of(st.just(""), _word))
