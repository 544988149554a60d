"""Every material route with every role: anyone signed in adds to their organisation; to an
event, its editors and people with a part; a material nobody may see is a 404 (anonymous
visitors sign in first); editing, publishing and deleting are for those who manage it."""

from __future__ import annotations

import io

import pytest

from hub.archive import services
from hub.archive.models import Visibility
from hub.archive.services import Details
from hub.extensions import db
from tests.archive import material_files as files
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {event}: organised by the coordinator, the teacher invited; {material}: a PDF of the event
# for the coordinator's organisation (the teacher's too); {hidden}: the same, unpublished;
# {public}: a public PDF; {doomed}: another one, deleted last.
ROUTES = [
    ("GET", "/materials/new", 200, 200, 200, 302),
    ("POST", "/materials/new", 400, 400, 400, 302),  # empty form: the errors are shown
    ("GET", "/materials/new?event={event}", 200, 200, 403, 302),
    ("GET", "/materials/new?event=999999", 404, 404, 404, 302),
    ("GET", "/materials/new?plan_item=999999", 404, 404, 404, 302),
    ("GET", "/materials/{material}", 200, 200, 200, 302),
    ("GET", "/materials/{hidden}", 200, 200, 404, 302),
    ("GET", "/materials/{public}", 200, 200, 200, 200),
    ("GET", "/materials/999999", 404, 404, 404, 404),
    ("GET", "/materials/{material}/download", 200, 200, 200, 302),
    ("GET", "/materials/{hidden}/download", 200, 200, 404, 302),
    ("GET", "/materials/{public}/download", 200, 200, 200, 200),
    ("GET", "/materials/999999/download", 404, 404, 404, 404),
    ("GET", "/materials/{material}/edit", 200, 200, 403, 302),
    ("GET", "/materials/{hidden}/edit", 200, 200, 404, 302),
    ("POST", "/materials/{material}/edit", 400, 400, 403, 302),
    ("POST", "/materials/{material}/unpublish", 302, 302, 403, 302),
    ("POST", "/materials/{material}/publish", 302, 302, 403, 302),
    ("POST", "/materials/999999/publish", 404, 404, 404, 302),
    ("POST", "/materials/{doomed}/delete", 302, 302, 403, 302),
    ("POST", "/materials/999999/delete", 404, 404, 404, 302),
]


@pytest.fixture
def material_ids(people, event):  # type: ignore[no-untyped-def]
    def pdf(title: str, visibility: Visibility = Visibility.ORGANISATION, **kwargs):  # type: ignore[no-untyped-def]
        return services.create_file_material(
            people.coordinator, Details(title=title, visibility=visibility),
            io.BytesIO(files.pdf()), "plan.pdf", **kwargs)

    made = {"material": pdf("Конспект", event=event), "hidden": pdf("Черновик", event=event),
            "public": pdf("Памятка", Visibility.PUBLIC), "doomed": pdf("Старое", event=event)}
    made["hidden"].published = False
    db.session.commit()
    return {"event": event.id, **{name: m.id for name, m in made.items()}}


@pytest.mark.parametrize("role", ROLES)
def test_every_material_route_answers_each_role_as_designed(role, client, people, login_as,
                                                            material_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**material_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
