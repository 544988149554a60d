"""The dashboard: charts as inline SVG with titles and escaped labels, the totals of the school
year, the organisation coordinator's own version."""

from __future__ import annotations

import re

from hub.reports import charts


def _total(page: str, name: str) -> str:
    return re.search(rf'id="total-{name}">([^<]*)<', page).group(1)


def test_the_municipal_dashboard_has_charts_and_the_year_totals(world, people, login_as,
                                                                make_org, make_person, host,
                                                                make_event, attend) -> None:
    evil = make_org(short_name="<script>alert(1)</script>", full_name="<b>Злой & Ко</b>")
    teacher = make_person(organisation=evil, surname="Орлова")
    attend(host(make_event("Телемост"), evil), teacher, 90)
    page = login_as(people.municipal).get("/reports/dashboard?year=2026/2027") \
        .get_data(as_text=True)
    assert page.count("<svg") == 3  # months, hours per organisation, formats
    assert "<title" in page and 'role="img"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # seminar, webinar, round table, master class (1 Sep in Yekaterinburg) and the telebridge
    assert _total(page, "events") == "5"
    # the kindergarten 8.5, the other organisation 2 (the round table is in its year), 1.5
    assert _total(page, "hours") == "12"
    assert "Credited hours per organisation (top 20)" in page


def test_the_coordinator_sees_their_organisation(world, people, login_as) -> None:
    page = login_as(people.coordinator).get("/reports/dashboard").get_data(as_text=True)
    assert world.kindergarten.short_name in page
    assert "Credited hours per organisation" not in page
    assert _total(page, "events") == "2" and _total(page, "hours") == "8.5"
    assert page.count("<svg") == 3  # months, formats, levels


def test_another_year_and_a_bad_year(world, people, login_as) -> None:
    client = login_as(people.municipal)
    earlier = client.get("/reports/dashboard?year=2025/2026").get_data(as_text=True)
    assert _total(earlier, "events") == "1"  # the master class: 31 August in Moscow
    bad = client.get("/reports/dashboard?year=2026-27")
    assert bad.status_code == 200
    assert "Give the school year as 2026/2027." in bad.get_data(as_text=True)
    assert "2026/2027" in bad.get_data(as_text=True)


def test_teachers_have_no_dashboard(people, login_as) -> None:
    assert login_as(people.teacher).get("/reports/dashboard").status_code == 403


def test_a_chart_titles_each_bar_and_escapes_every_label() -> None:
    svg = str(charts.bars("Часы <по> организациям", [("A & B", 2.5), ('"<i>"', 1)]))
    assert "<title" in svg and "Часы &lt;по&gt; организациям" in svg
    assert "<title>A &amp; B: 2.5</title>" in svg and "&lt;i&gt;" in svg and "<i>" not in svg
    columns = str(charts.columns("Месяцы", [("сен", 0), ("окт", 3)]))
    assert columns.count("<rect") == 2 and "<title>окт: 3</title>" in columns
