"""Adding, editing, publishing, deleting and downloading materials; the event page's list; the
board's export and providers' recordings."""

from __future__ import annotations

import io
from datetime import date

import pytest

from hub.archive import services
from hub.archive.models import Material, MaterialKind, TagKind, Visibility
from hub.archive.services import Details, MaterialError
from hub.archive.storage import storage
from hub.board.access import person_viewer
from hub.board.services import create_post, ensure_board
from hub.extensions import db
from hub.scheduling.models import EventFormat, EventPerson, EventRole
from tests.archive import material_files as files


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def count() -> int:
    return db.session.scalar(db.select(db.func.count(Material.id)))


def link_form(**fields: str) -> dict[str, str]:
    return {"kind": "link", "title": "Запись семинара", "url": "https://rutube.ru/video/1",
            "visibility": "2", **fields}


@pytest.fixture
def file_material(app, people, event):  # type: ignore[no-untyped-def]
    """A PDF of the event, of the coordinator's organisation, seen by the organisation only."""
    material = services.create_file_material(
        people.coordinator, Details(title="Конспект", visibility=Visibility.ORGANISATION),
        io.BytesIO(files.pdf()), "Конспект занятия «Bee-Bot».pdf", event=event)
    db.session.commit()
    return material


# -- adding ----------------------------------------------------------------------------------

def test_the_organiser_adds_a_link_to_the_event(client, login_as, people, event):
    login_as(people.coordinator)
    page = client.get(f"/materials/new?event={event.id}")
    assert page.status_code == 200
    assert event.title in text(page)  # the organiser, among the event's people, is ticked
    assert (f'<input checked id="event_authors-0" name="event_authors" type="checkbox" '
            f'value="{people.coordinator.id}">') in text(page)
    login_as(people.municipal)  # not among them: their address is filled in
    assert people.municipal.email in text(client.get(f"/materials/new?event={event.id}"))
    login_as(people.coordinator)
    response = client.post(f"/materials/new?event={event.id}", data=link_form(
        authors=people.coordinator.email, topics="Робототехника, Bee-Bot,  робототехника ",
        age_groups="5–6 лет; Подготовительная группа"))
    assert response.status_code == 302, text(response)[:3000]
    material = db.session.scalar(db.select(Material))
    assert (material.kind, material.event_id, material.url) == (
        MaterialKind.LINK, event.id, "https://rutube.ru/video/1")
    assert material.format == EventFormat.SEMINAR_PRACTICUM  # the event's
    assert material.year == 2026 and material.visibility == Visibility.NETWORK
    assert material.organisation_id == people.coordinator.organisation_id
    assert [a.person_id for a in material.authors] == [people.coordinator.id]
    assert [(t.kind, t.label, t.value) for t in material.tags] == [
        (TagKind.TOPIC, "Робототехника", "робототехника"), (TagKind.TOPIC, "Bee-Bot", "bee-bot"),
        (TagKind.AGE_GROUP, "5–6 лет", "5–6 лет"),
        (TagKind.AGE_GROUP, "Подготовительная группа", "подготовительная группа")]
    assert response.headers["Location"].endswith(f"/materials/{material.id}")


@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,<script>1</script>",
    "file:///etc/passwd", "ftp://files.example.org/plan.pdf", "vbscript:msgbox", "//evil.example",
    "https://", "mailto:someone@example.org"])
def test_links_other_than_web_links_are_refused(client, login_as, people, url):
    login_as(people.teacher)
    response = client.post("/materials/new", data=link_form(url=url))
    assert response.status_code == 400
    assert "Only web links starting with http:// or https:// can be added." in text(response)
    assert count() == 0


def test_a_link_with_control_characters_is_refused_and_a_bare_site_gets_https(
        client, login_as, people):
    login_as(people.teacher)
    response = client.post("/materials/new", data=link_form(url="java\tscript:alert(1)"))
    assert response.status_code == 400 and "control characters" in text(response)
    assert client.post("/materials/new", data=link_form(url="rutube.ru/video/2")).status_code == 302
    assert db.session.scalar(db.select(Material.url)) == "https://rutube.ru/video/2"


def test_the_form_says_what_is_wrong(client, login_as, people):
    login_as(people.teacher)
    response = client.post("/materials/new", data=link_form(
        title="", authors="nobody@example.org", topics="x" * 101))
    assert response.status_code == 400
    page = text(response)
    assert "Give the title." in page
    assert "No one in the hub has the address nobody@example.org." in page
    assert "A tag is longer than 100 characters." in page
    no_file = client.post("/materials/new", data={"kind": "file", "title": "План"},
                          content_type="multipart/form-data")
    assert no_file.status_code == 400 and "Choose a file to upload." in text(no_file)
    assert count() == 0


def test_the_network_must_be_one_of_the_organisations(app, people, network, make_org):
    from hub.directory.models import Network

    elsewhere = Network(name="Мульти-пульти", school_year="2026/2027")
    db.session.add(elsewhere)
    db.session.commit()
    with pytest.raises(MaterialError) as refused:
        services.create_link_material(people.teacher, Details(title="Ссылка",
                                                              network_id=elsewhere.id),
                                      "https://example.org")
    assert "network_id" in refused.value.errors
    ok = services.create_link_material(people.teacher, Details(title="Ссылка",
                                                               network_id=network.id),
                                       "https://example.org")
    assert ok.network_id == network.id


@pytest.mark.parametrize(("who", "status"), [
    ("coordinator", 200),  # organiser
    ("municipal", 200),
    ("teacher", 403),  # invited only
    ("speaker", 200),
    ("other_coordinator", 403),  # cannot see the event
])
def test_who_may_add_to_an_event(client, login_as, people, event, other_coordinator, make_person,
                                 who, status):
    if who == "speaker":
        person = make_person(organisation=people.other_teacher.organisation)
        event.people.append(EventPerson(person=person, role=EventRole.SPEAKER))
        db.session.commit()
    else:
        person = other_coordinator if who == "other_coordinator" else getattr(people, who)
    login_as(person)
    assert client.get(f"/materials/new?event={event.id}").status_code == status
    assert client.post(f"/materials/new?event={event.id}",
                       data=link_form()).status_code == (302 if status == 200 else 403)


def test_unknown_or_bad_targets_are_404(client, login_as, people):
    login_as(people.teacher)
    for query in ("event=999999", "event=abc", "event=99999999999999", "plan_item=999999"):
        assert client.get(f"/materials/new?{query}").status_code == 404


def test_school_years():
    assert services.school_year(date(2026, 9, 1)) == 2026
    assert services.school_year(date(2027, 8, 31)) == 2026
    assert services.school_year(date(2026, 12, 3)) == 2026
    assert services.school_year(date(2027, 1, 10)) == 2026


def test_a_standing_alone_material_has_todays_school_year(app, people):
    import time_machine

    with time_machine.travel("2027-09-02 08:00Z", tick=False):
        material = services.create_link_material(people.teacher, Details(title="Ссылка"),
                                                 "https://example.org")
    assert material.year == 2027 and material.event_id is None


# -- one material ----------------------------------------------------------------------------

def test_the_page_escapes_the_description_and_shows_the_facts(client, login_as, people, event):
    material = services.create_link_material(people.coordinator, Details(
        title="Памятка", description="<script>alert(1)</script>\nВторая строка",
        authors=[people.teacher], topics="Робототехника"), "https://example.org/a?b=1", event=event)
    db.session.commit()
    login_as(people.teacher)
    page = text(client.get(f"/materials/{material.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nВторая строка" in page
    assert "<script>alert" not in page
    assert people.teacher.full_name in page and "Робототехника" in page
    assert 'href="https://example.org/a?b=1"' in page and 'rel="noopener noreferrer' in page
    assert f"/events/{event.id}" in page


def test_edit_changes_fields_and_replaces_the_file(app, client, login_as, people,
                                                   file_material):
    old_key = file_material.storage_key
    login_as(people.coordinator)
    assert client.get(f"/materials/{file_material.id}/edit").status_code == 200
    response = files.upload(client, files.docx(), "План.docx",
                            url=f"/materials/{file_material.id}/edit", title="План работы",
                            topics="Преемственность", visibility="1")
    assert response.status_code == 302, text(response)[:3000]
    db.session.expire_all()
    material = db.session.get(Material, file_material.id)
    assert (material.title, material.visibility, material.filename) == (
        "План работы", Visibility.PUBLIC, "План.docx")
    assert [t.label for t in material.tags] == ["Преемственность"]
    assert not storage().exists(old_key) and storage().exists(material.storage_key)


def test_a_bad_replacement_keeps_the_old_file(client, login_as, people, file_material):
    login_as(people.coordinator)
    response = files.upload(client, files.ELF, "new.pdf", url=f"/materials/{file_material.id}/edit")
    assert response.status_code == 400 and "Programs and scripts" in text(response)
    assert storage().exists(file_material.storage_key)


def test_delete_removes_the_file(client, login_as, people, event, file_material):
    key = file_material.storage_key
    login_as(people.teacher)
    assert client.post(f"/materials/{file_material.id}/delete").status_code == 403
    login_as(people.coordinator)
    response = client.post(f"/materials/{file_material.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}#materials")
    assert count() == 0 and not storage().exists(key)


def test_unpublish_hides_it_from_others_and_publish_shows_it_again(client, login_as, people,
                                                                     file_material, event):
    login_as(people.teacher)
    assert client.get(f"/materials/{file_material.id}").status_code == 200
    login_as(people.coordinator)
    response = client.post(f"/materials/{file_material.id}/unpublish",
                           data={"next": f"/events/{event.id}#materials"})
    assert response.headers["Location"].endswith(f"/events/{event.id}#materials")
    page = text(client.get(f"/events/{event.id}"))
    assert "Конспект" in page and "unpublished" in page and "Add material" in page
    login_as(people.teacher)
    assert client.get(f"/materials/{file_material.id}").status_code == 404
    assert client.get(f"/materials/{file_material.id}/download").status_code == 404
    assert "Конспект" not in text(client.get(f"/events/{event.id}"))
    login_as(people.coordinator)
    assert client.post(f"/materials/{file_material.id}/publish").status_code == 302
    login_as(people.teacher)
    assert "Конспект" in text(client.get(f"/events/{event.id}"))
    assert "Add material" not in text(client.get(f"/events/{event.id}"))


@pytest.mark.parametrize(("visibility", "expected"), [
    # municipal, coordinator, teacher (same organisation), other teacher (partner), anonymous
    (Visibility.ORGANISATION, (200, 200, 200, 404, 302)),
    (Visibility.NETWORK, (200, 200, 200, 200, 302)),
    (Visibility.PUBLIC, (200, 200, 200, 200, 200)),
])
def test_downloads_check_visibility(client, login_as, people, network, file_material, visibility,
                                    expected):
    file_material.visibility = visibility
    db.session.commit()
    got = []
    for who in ("municipal", "coordinator", "teacher", "other_teacher", "anonymous"):
        client.post("/logout")
        if who != "anonymous":
            login_as(getattr(people, who))
        response = client.get(f"/materials/{file_material.id}/download")
        got.append(response.status_code)
        if response.status_code == 200:
            assert response.data == files.pdf()
        elif response.status_code == 302:
            assert "/login" in response.headers["Location"]
    assert tuple(got) == expected


def test_the_download_is_an_attachment_of_the_stored_type(client, login_as, people,
                                                          file_material):
    login_as(people.teacher)
    response = client.get(f"/materials/{file_material.id}/download")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert ("filename*=UTF-8''%D0%9A%D0%BE%D0%BD%D1%81%D0%BF%D0%B5%D0%BA%D1%82%20"
            in disposition)
    assert int(response.headers["Content-Length"]) == len(files.pdf())


def test_a_missing_stored_file_is_a_404_not_a_500(client, login_as, people, file_material):
    storage().delete(file_material.storage_key)
    login_as(people.coordinator)
    assert client.get(f"/materials/{file_material.id}/download").status_code == 404


def test_a_links_download_opens_the_link(client, people):
    material = services.create_link_material(people.teacher, Details(
        title="Сайт", visibility=Visibility.PUBLIC), "https://example.org/page")
    db.session.commit()
    response = client.get(f"/materials/{material.id}/download")
    assert response.status_code == 302 and response.headers["Location"] == "https://example.org/page"


# -- made by the hub -------------------------------------------------------------------------

def test_the_board_export_is_made_once_and_refreshed(app, people, event, network):
    event.network_id = network.id
    db.session.commit()
    assert services.add_board_export(event) is None  # no board yet
    board = ensure_board(event)
    db.session.commit()
    assert services.add_board_export(event) is None  # nothing on it
    create_post(board, person_viewer(board, people.coordinator), {"body": "Идея: Bee-Bot"})
    db.session.commit()
    material = services.add_board_export(event)
    db.session.commit()
    assert (material.kind, material.event_id, material.format, material.network_id) == (
        MaterialKind.BOARD_EXPORT, event.id, EventFormat.SEMINAR_PRACTICUM, network.id)
    assert (material.content_type, material.filename) == ("application/pdf",
                                                         f"board-{event.id}.pdf")
    assert material.organisation_id == people.coordinator.organisation_id
    with storage().open(material.storage_key) as stream:
        assert stream.read(5) == b"%PDF-"
    first_key = material.storage_key
    create_post(board, person_viewer(board, people.coordinator), {"body": "Вопрос"})
    again = services.add_board_export(event, actor=people.coordinator)
    db.session.commit()
    assert again.id == material.id and count() == 1
    assert again.storage_key != first_key and not storage().exists(first_key)


def test_recordings_are_added_once_per_url(app, people, event):
    first = services.add_recording(event, "https://meet.example.org/rec/1", "Запись")
    same = services.add_recording(event, "https://meet.example.org/rec/1", "Запись (2)")
    other = services.add_recording(event, "https://meet.example.org/rec/2", "")
    db.session.commit()
    assert first.id == same.id != other.id and first.kind == MaterialKind.RECORDING
    assert other.title.endswith(event.title)
    with pytest.raises(MaterialError):
        services.add_recording(event, "javascript:alert(1)", "Запись")
    assert count() == 2


def test_tampered_choices_get_messages_not_500(client, login_as, people):
    login_as(people.teacher)
    response = client.post("/materials/new", data=link_form(
        kind="evil", visibility="abc", format="abc", network_id="abc", event_authors="abc"))
    assert response.status_code == 400
    assert count() == 0


def test_a_plan_items_material(client, login_as, people, network):
    from hub.scheduling.models import Plan, PlanItem

    plan = Plan(network=network)
    item = PlanItem(plan=plan, year=2027, month=2, topic="Ранняя профориентация",
                    format=EventFormat.METHODICAL_WEEK,
                    responsible_id=people.coordinator.organisation_id)
    db.session.add_all([plan, item])
    db.session.commit()
    for person, status in ((people.teacher, 200), (people.other_teacher, 403),
                           (people.coordinator, 200)):
        login_as(person)
        assert client.get(f"/materials/new?plan_item={item.id}").status_code == status
    response = client.post(f"/materials/new?plan_item={item.id}", data=link_form(format=""))
    assert response.status_code == 302
    material = db.session.scalar(db.select(Material))
    assert (material.plan_item_id, material.format, material.event_id) == (
        item.id, EventFormat.METHODICAL_WEEK, None)
