"""Files for the people-import tests, generated on the fly (no binary fixtures in git)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

from hub.directory.models import Organisation, OrgKind
from hub.extensions import db

HEADER = ("ФИО", "Организация", "Должность", "Email", "Телефон", "Категория")

SURNAMES = ("Иванова", "Смирнова", "Кузнецова", "Попова", "Васильева", "Петрова", "Соколова",
            "Михайлова", "Новикова", "Фёдорова", "Морозова", "Волкова", "Алексеева", "Лебедева",
            "Семёнова", "Егорова", "Павлова", "Козлова", "Степанова", "Николаева")
FIRST_NAMES = ("Мария", "Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана",
               "Юлия", "Алёна", "Дарья", "Екатерина")
PATRONYMICS = ("Петровна", "Ивановна", "Сергеевна", "Александровна", "Николаевна",
               "Владимировна", "Андреевна", "Фёдоровна")
POSITIONS = ("воспитатель", "старший воспитатель", "музыкальный руководитель",
             "инструктор по физической культуре", "учитель-логопед", "педагог-психолог")
CATEGORIES = ("высшая", "первая", "без категории", "", "педагог-наставник")


def make_network(count: int = 5) -> list[Organisation]:
    """Kindergartens named the way a town names them."""
    names = ("Яблонька", "Солнышко", "Теремок", "Радуга", "Ромашка", "Колокольчик", "Берёзка",
             "Золотой ключик", "Сказка", "Улыбка")
    orgs = []
    for i in range(count):
        number = 20 + i
        orgs.append(Organisation(
            full_name=f"МБДОУ «Детский сад № {number} «{names[i % len(names)]}»»",
            short_name=f"Детский сад № {number}", kind=OrgKind.KINDERGARTEN,
            municipality="г. Лесной", timezone="Europe/Moscow"))
    db.session.add_all(orgs)
    db.session.commit()
    return orgs


def person_row(i: int, organisation: str, *, domain: str = "sad.example.ru") -> list[str]:
    name = (f"{SURNAMES[i % len(SURNAMES)]} {FIRST_NAMES[i % len(FIRST_NAMES)]} "
            f"{PATRONYMICS[i % len(PATRONYMICS)]}")
    return [name, organisation, POSITIONS[i % len(POSITIONS)], f"teacher{i:05d}@{domain}",
            f"8 (912) {i % 1000:03d}-{i % 100:02d}-{(i * 7) % 100:02d}",
            CATEGORIES[i % len(CATEGORIES)]]


def people_rows(count: int, organisations: Sequence[Organisation]) -> list[list[str]]:
    """Valid rows; organisations written in the different ways people write them."""
    rows = []
    for i in range(count):
        org = organisations[i % len(organisations)]
        spelling = (org.short_name, org.full_name, org.short_name.upper().replace("№ ", "№"),
                    org.full_name.replace("«", '"').replace("»", '"'))[i % 4]
        rows.append(person_row(i, spelling))
    return rows


def to_csv(rows: Sequence[Sequence[str]], *, header: Sequence[str] = HEADER,
           delimiter: str = ";", encoding: str = "utf-8", bom: bool = False,
           newline: str = "\r\n") -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_xlsx(rows: Sequence[Sequence[object]], *, header: Sequence[str] | None = HEADER,
            title: str | None = None, blank_rows_at: Sequence[int] = ()) -> bytes:
    """A workbook made with openpyxl; `blank_rows_at` leaves those sheet rows empty."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Педагоги"
    number = 1
    if title:
        sheet.cell(row=number, column=1, value=title)
        number += 2  # a title, then an empty row, as offices do
    if header is not None:
        for column, value in enumerate(header, start=1):
            sheet.cell(row=number, column=column, value=value)
        number += 1
    for row in rows:
        while number in blank_rows_at:
            number += 1
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
        number += 1
    workbook.create_sheet("Другой лист")["A1"] = "не читается"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A real 2×2 PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
