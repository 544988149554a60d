"""The columns an import knows and the headers (Russian or English) that name them."""

from __future__ import annotations

import enum
import re
import unicodedata


class Column(enum.StrEnum):
    FULL_NAME = "full_name"
    SURNAME = "surname"
    FIRST_NAME = "first_name"
    PATRONYMIC = "patronymic"
    ORGANISATION = "organisation"
    POSITION = "position"
    EMAIL = "email"
    PHONE = "phone"
    CATEGORY = "category"


#: The headers of the downloadable template, in order.
TEMPLATE_HEADERS = ("ФИО", "Организация", "Должность", "Email", "Телефон", "Категория")
#: How a column is named in messages: the Russian header, then the English one.
COLUMN_TITLES = {
    Column.FULL_NAME: "ФИО / full name",
    Column.SURNAME: "Фамилия / surname",
    Column.FIRST_NAME: "Имя / first name",
    Column.PATRONYMIC: "Отчество / patronymic",
    Column.ORGANISATION: "Организация / organisation",
    Column.POSITION: "Должность / position",
    Column.EMAIL: "Email",
    Column.PHONE: "Телефон / phone",
    Column.CATEGORY: "Категория / category",
}


def header_key(value: str) -> str:
    """Header names compared without case, spaces, punctuation and ё: «Ф.И.О.» = «фио»."""
    text = unicodedata.normalize("NFC", value).casefold().replace("ё", "е")
    return re.sub(r"[^0-9a-zа-я]", "", text)


#: Accepted headers (as header_key gives them).
_HEADER_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.FULL_NAME: ("фио", "фамилияимяотчество", "фамилияиимяотчество", "фамилияимя",
                       "фамилияиимя", "фиопедагога",
                       "фиосотрудника", "fullname", "name", "fio", "personname"),
    Column.SURNAME: ("фамилия", "surname", "lastname", "familyname"),
    Column.FIRST_NAME: ("имя", "firstname", "givenname", "forename"),
    Column.PATRONYMIC: ("отчество", "patronymic", "middlename"),
    Column.ORGANISATION: ("организация", "образовательнаяорганизация", "оо", "оу", "доу",
                          "учреждение", "образовательноеучреждение", "наименованиеоо",
                          "наименованиеорганизации", "наименованиеобразовательнойорганизации",
                          "наименованиеучреждения", "местоработы", "organisation",
                          "organization", "org", "school"),
    Column.POSITION: ("должность", "занимаемаядолжность", "position", "jobtitle", "title",
                      "post"),
    Column.EMAIL: ("email", "mail", "emailaddress", "электроннаяпочта", "элпочта",
                   "адресэлектроннойпочты", "адресэлпочты", "почта", "емейл", "емэйл", "имейл",
                   "эпочта", "эладрес", "электронныйадрес"),
    Column.PHONE: ("телефон", "тел", "контактныйтелефон", "мобильныйтелефон", "номертелефона",
                   "сотовыйтелефон", "phone", "phonenumber", "telephone", "mobile", "tel"),
    Column.CATEGORY: ("категория", "квалификационнаякатегория", "квкатегория", "category",
                      "qualificationcategory", "qualification"),
}
_EXACT_HEADERS = {alias: column for column, aliases in _HEADER_ALIASES.items() for alias in aliases}
#: Headers that may go on: «Телефон (мобильный)», «Электронная почта (e-mail)», «ФИО педагога».
_PREFIX_HEADERS = tuple(
    (alias, column) for alias, column in sorted(_EXACT_HEADERS.items(), key=lambda i: -len(i[0]))
    if len(alias) >= 5 or alias == "фио"
)


def recognise_header(value: str) -> Column | None:
    key = header_key(value)
    if not key:
        return None
    if key in _EXACT_HEADERS:
        return _EXACT_HEADERS[key]
    for alias, column in _PREFIX_HEADERS:
        if key.startswith(alias):
            return column
    return None
