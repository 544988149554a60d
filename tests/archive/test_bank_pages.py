"""The bank's pages: search with word forms, filters and a bad query; what anonymous visitors
see; a network's bank; an organisation's shelf; an event's materials; new this week."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape

from hub.archive import search
from hub.archive.models import Visibility
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import EventFormat
from tests.archive import bank_fixtures

make_material = bank_fixtures.make_material

MASTER_CLASS = "Слайды мастер-класса «Мультипликация в детском саду»"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_a_word_form_finds_a_title_with_another_form(client, make_material):
    make_material(MASTER_CLASS, fmt=EventFormat.MASTER_CLASS, year=2025)
    make_material("Чек-лист «Робототехника в старшей группе»")
    page = text(client.get("/bank", query_string={"q": "мультипликацией"}))
    assert "1 material found" in page
    assert re.search(r"<mark>Мультипликация</mark>", page)
    assert "Робототехника в старшей группе" not in page


def test_filters_narrow_the_results(client, make_material):
    make_material("Игры с Bee-Bot", topics=("Робототехника",), ages=("5–6 лет",), year=2026)
    make_material("Игры с конструктором", topics=("Робототехника",), ages=("3–4 года",),
                  year=2025, fmt=EventFormat.WEBINAR)
    page = text(client.get("/bank?q=игры&age=5–6 лет"))
    assert "Bee-Bot" in page and "конструктором" not in page
    page = text(client.get(f"/bank?q=игры&year=2025&format={int(EventFormat.WEBINAR)}"))
    assert "конструктором" in page and "Bee-Bot" not in page
    # The filters offer what the visible materials have.
    page = text(client.get("/bank"))
    assert ">Робототехника</option>" in page and ">2025/2026</option>" in page


def test_a_bad_query_gets_a_clear_message(client, make_material):
    make_material()
    for bad in ("!!! ???", "слово " * 200):
        with pytest.raises(search.QueryError) as caught:
            search.clean_query(bad)
        response = client.get("/bank", query_string={"q": bad})
        assert response.status_code == 200
        page = text(response)
        assert 'role="alert"' in page and str(escape(str(caught.value))) in page


def test_anonymous_visitors_see_public_materials_only(client, people, network, make_material):
    make_material("Открытый конспект занятия")
    make_material("Материал сети", visibility=Visibility.NETWORK)
    make_material("Материал детского сада", visibility=Visibility.ORGANISATION)
    make_material("Черновик", published=False)
    shelf = f"/organisations/{people.coordinator.organisation_id}/materials"
    for path in ("/bank", "/bank/new", shelf, f"/networks/{network.id}/bank"):
        page = text(client.get(path))
        assert "Открытый конспект занятия" in page, path
        for hidden in ("Материал сети", "Материал детского сада", "Черновик"):
            assert hidden not in page, (path, hidden)


def test_signed_in_people_see_their_networks_materials(client, people, network, login_as,
                                                       make_material, make_org):
    make_material("Материал сети", visibility=Visibility.NETWORK)
    make_material("Материал детского сада", visibility=Visibility.ORGANISATION)
    outsider = make_org()
    make_material("Чужой материал", visibility=Visibility.NETWORK, organisation=outsider)
    login_as(people.other_teacher)
    page = text(client.get("/bank/new"))
    assert "Материал сети" in page
    assert "Материал детского сада" not in page and "Чужой материал" not in page


def test_the_network_bank_holds_its_members_materials(client, people, network, make_material,
                                                      make_org):
    make_material("Материал участника сети")
    make_material("Материал со стороны", organisation=make_org())
    page = text(client.get(f"/networks/{network.id}/bank"))
    assert "Материал участника сети" in page and "Материал со стороны" not in page
    assert network.name in page
    assert client.get("/networks/999999/bank").status_code == 404


def test_the_network_page_links_its_bank(client, people, network, login_as):
    login_as(people.teacher)
    assert f"/networks/{network.id}/bank" in text(client.get(f"/networks/{network.id}"))


def test_the_organisation_shelf_groups_by_year_and_format(client, people, login_as,
                                                          make_material):
    org = people.coordinator.organisation
    make_material("Прошлогодний вебинар", year=2025, fmt=EventFormat.WEBINAR,
                  created_at=utcnow() - timedelta(days=300))
    make_material("Свежий семинар", year=2026)
    make_material("Только для своих", visibility=Visibility.ORGANISATION)
    page = text(client.get(f"/organisations/{org.id}/materials"))
    assert page.index("2026/2027") < page.index("Свежий семинар") < page.index("2025/2026")
    assert page.index("2025/2026") < page.index("Прошлогодний вебинар")
    assert "Только для своих" not in page
    login_as(people.teacher)
    assert "Только для своих" in text(client.get(f"/organisations/{org.id}/materials"))
    assert f"/organisations/{org.id}/materials" in text(client.get(f"/organisations/{org.id}"))
    assert client.get("/organisations/999999/materials").status_code == 404


def test_new_this_week(client, make_material, make_event, people):
    make_material("Вчерашний чек-лист", created_at=utcnow() - timedelta(days=1))
    make_material("Давний чек-лист", created_at=utcnow() - timedelta(days=10))
    upcoming = make_event()  # 3 December: not held yet
    make_material("Слайды к будущему семинару", event=upcoming)
    page = text(client.get("/bank/new"))
    assert "Вчерашний чек-лист" in page
    assert "Давний чек-лист" not in page and "Слайды к будущему семинару" not in page
    assert "Вчерашний чек-лист" in text(client.get("/bank"))  # the block on the bank's page


def test_an_event_material_is_new_when_the_event_ends(client, make_material, make_event):
    import time_machine

    event = make_event()
    make_material("Слайды семинара", event=event, created_at=utcnow())
    assert "Слайды семинара" not in text(client.get("/bank/new"))
    with time_machine.travel(event.end_at + timedelta(days=6)):
        assert "Слайды семинара" in text(client.get("/bank/new"))


def test_the_event_materials_page(client, people, login_as, make_material, make_event):
    event = make_event()
    make_material("Слайды семинара", event=event, visibility=Visibility.NETWORK)
    make_material("Снятый с публикации", event=event, published=False)
    response = client.get(f"/events/{event.id}/materials")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as(people.coordinator)
    page = text(client.get(f"/events/{event.id}/materials"))
    assert "Слайды семинара" in page and "Снятый с публикации" in page
    assert client.get("/events/999999/materials").status_code == 404


def test_the_digest_button_is_on_the_bank(client, people, login_as):
    assert "/bank/digest" not in text(client.get("/bank"))
    login_as(people.teacher)
    page = text(client.get("/bank"))
    assert 'action="/bank/digest"' in page
    assert 'href="/bank"' in page  # the navigation's link
    db.session.rollback()
