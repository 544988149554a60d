"""The plan as a spreadsheet: Russian headers and months, items by month, planned against held,
and who approved."""

from __future__ import annotations

import io
from urllib.parse import unquote

from openpyxl import load_workbook

from hub.extensions import db
from hub.scheduling import plan
from hub.scheduling.models import EventFormat, EventStatus

from .conftest import make_event, utc


def _rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[c for c in row] for row in sheet.iter_rows(values_only=True)]


def _setup(network, people, other_coordinator):  # type: ignore[no-untyped-def]
    robots = plan.add_item(network, month="2026-10", format=EventFormat.SEMINAR_PRACTICUM,
                           topic="Семинар-практикум «Образовательная робототехника в ДОУ»",
                           responsible=people.coordinator.organisation)
    plan.add_item(network, month="2027-01", format=EventFormat.ROUND_TABLE,
                  topic="Круглый стол «Преемственность детского сада и школы»",
                  responsible=other_coordinator.organisation)
    plan.add_item(network, month="2026-09", format=EventFormat.TELEBRIDGE,
                  topic="Телемост «Растим инженеров»",
                  responsible=other_coordinator.organisation)
    db.session.commit()
    make_event(start=utc(2026, 10, 14, 11), status=EventStatus.COMPLETED, plan_item=robots,
               title="Образовательная робототехника в ДОУ: занятие 1")
    make_event(start=utc(2026, 10, 28, 11), status=EventStatus.CANCELLED, plan_item=robots,
               title="Образовательная робототехника в ДОУ: занятие 2")
    make_event(start=utc(2026, 10, 30, 11), status=EventStatus.DRAFT, plan_item=robots,
               title="Черновик")
    plan.approve(network, people.coordinator)
    db.session.commit()
    return robots


def test_the_spreadsheet(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    _setup(network, people, other_coordinator)
    data = plan.export_xlsx(network, "Asia/Yekaterinburg", utc(2026, 11, 22, 6))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["План"]
    rows = _rows(data)
    flat = [str(c) for row in rows for c in row if c is not None]
    assert rows[0][0] == "Совместный план мероприятий сетевого объединения «Растим инженеров»"
    assert rows[1][0] == "на 2026/2027 учебный год"
    assert "Версия 1, на согласовании" in rows[2][0]
    assert "22.11.2026 11:00 (часовой пояс Asia/Yekaterinburg)" in rows[2][0]
    header = rows[4]
    assert header[:5] == ["№ п/п", "Месяц", "Тема мероприятия", "Форма проведения",
                          "Ответственная организация"]
    # Months in school-year order, named in Russian.
    month_rows = [row[1] for row in rows[5:] if row[0] is None and row[1]]
    assert month_rows[:3] == ["Сентябрь 2026", "Октябрь 2026", "Январь 2027"]
    items = [row for row in rows if isinstance(row[0], int) and row[2] and "«" in str(row[2])]
    telebridge, robots, round_table = items[:3]
    assert telebridge[1:4] == ["сентябрь 2026", "Телемост «Растим инженеров»", "телемост"]
    assert robots[3] == "семинар-практикум"
    assert robots[4] == people.coordinator.organisation.full_name
    assert (robots[5], robots[6]) == (1, 1)  # created (not cancelled, not a draft), held
    assert "14.10.2026 16:00 — Образовательная робототехника в ДОУ: занятие 1" in robots[7]
    assert "(отменено)" in robots[7]
    assert "Черновик" not in robots[7]
    assert round_table[3] == "круглый стол"
    total = next(row for row in rows if row[1] == "Итого")
    assert total[2] == "запланировано: 3" and (total[5], total[6]) == (1, 1)
    # The approvals of the current version, below.
    assert "Согласование (версия 1)" in flat
    approvals = [row for row in rows if row[1] in ("согласовано", "не согласовано")]
    assert [row[1] for row in approvals] == ["согласовано", "не согласовано"]
    assert approvals[0][3] == people.coordinator.full_name
    assert approvals[0][5] and approvals[0][6]  # date and time
    assert approvals[1][3] == other_coordinator.full_name and not approvals[1][5]


def test_approved_and_changed_plans(network, people, other_coordinator) -> None:  # type: ignore[no-untyped-def]
    robots = _setup(network, people, other_coordinator)
    plan.approve(network, other_coordinator)
    db.session.commit()
    assert "согласован всеми участниками" in _rows(plan.export_xlsx(network, "Europe/Moscow"))[2][0]
    plan.update_item(robots, topic="Семинар-практикум «Пчёлки Bee-Bot»")
    db.session.commit()
    rows = _rows(plan.export_xlsx(network, "Europe/Moscow"))
    assert "Версия 2, на согласовании" in rows[2][0]
    notes = [row[7] for row in rows if row[1] == "не согласовано"]
    assert len(notes) == 2 and all(n.startswith("согласовал(а) версию 1 ") for n in notes)


def test_an_empty_plan_exports_too(network) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(plan.export_xlsx(network, "Europe/Moscow"))
    assert rows[4][0] == "№ п/п"
    assert [row[1] for row in rows if row[1] == "не согласовано"] == ["не согласовано"] * 2


def test_the_download(network, people, other_coordinator, login_as) -> None:  # type: ignore[no-untyped-def]
    _setup(network, people, other_coordinator)
    client = login_as(people.teacher)
    response = client.get(f"/networks/{network.id}/plan.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert f'filename="plan-{network.id}-2026-2027.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == (
        "План Растим инженеров 2026-2027.xlsx")
    assert _rows(response.data)[0][0].endswith("«Растим инженеров»")
    page = client.get(f"/networks/{network.id}/plan").get_data(as_text=True)
    assert f'href="/networks/{network.id}/plan.xlsx"' in page
