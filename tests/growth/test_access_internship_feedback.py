"""Every internship and feedback route with every role. The progress page: the program's
organisers and coordinators, its mentors and interns (the teacher is an intern); confirming:
the mentor or an organiser. The survey needs no sign-in (the token is the key); unknown tokens
answer a friendly 404. Results: whoever may edit the event; per organiser: coordinators."""

from __future__ import annotations

import pytest

from hub.core.tokens import hash_token
from hub.directory.models import Role
from hub.extensions import db
from hub.growth.models import FeedbackRequest
from hub.scheduling.models import EventRole, SeriesPerson
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {program}: a program created and organised by the coordinator, the teacher its intern
# (with a mentor); {plain}: a series that is not a program; {intern}: the teacher;
# {event}: the seminar organised by the coordinator; {token}: the teacher's survey of it.
ROUTES = [
    ("GET", "/programs/{program}/internship", 200, 200, 200, 302),
    ("GET", "/programs/{plain}/internship", 404, 404, 404, 302),
    ("GET", "/programs/999999/internship", 404, 404, 404, 302),
    # Nothing held yet: organisers are refused with a message (back to the page); the
    # intern may not confirm their own completion.
    ("POST", "/programs/{program}/internship/{intern}/confirm", 302, 302, 403, 302),
    ("POST", "/programs/{program}/internship/999999/confirm", 404, 404, 404, 302),
    ("GET", "/feedback/{token}", 200, 200, 200, 200),
    ("POST", "/feedback/{token}", 400, 400, 400, 400),  # no rating: the form says so
    ("GET", "/feedback/not-a-real-survey-token-000000000000000", 404, 404, 404, 404),
    ("POST", "/feedback/not-a-real-survey-token-000000000000000", 404, 404, 404, 404),
    ("GET", "/events/{event}/feedback", 200, 200, 403, 302),
    ("GET", "/events/999999/feedback", 404, 404, 404, 302),
    ("GET", "/feedback/organisers", 200, 200, 403, 302),
]


@pytest.fixture
def growth_ids(event, people, make_series, make_person):  # type: ignore[no-untyped-def]
    program = make_series(rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=4")
    mentor = make_person(Role.TEACHER, people.teacher.organisation, email="mentor@example.org")
    program.cohort = [
        SeriesPerson(person=mentor, role=EventRole.MENTOR),
        SeriesPerson(person=people.teacher, role=EventRole.INTERN, mentor_id=mentor.id),
    ]
    plain = make_series(title="Методическая неделя")
    plain.is_program = False
    token = "teacher-survey-token-0000000000000000000000"
    db.session.add(FeedbackRequest(event_id=event.id, person_id=people.teacher.id,
                                   token_hash=hash_token(token)))
    db.session.commit()
    return {"program": program.id, "plain": plain.id, "intern": people.teacher.id,
            "event": event.id, "token": token}


@pytest.mark.parametrize("role", ROLES)
def test_every_growth_route_answers_each_role_as_designed(role, client, people, login_as,
                                                          growth_ids):
    if role != "anonymous":
        login_as(getattr(people, role))
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**growth_ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif want == 404:
            assert "Traceback" not in response.get_data(as_text=True)
        elif role == "anonymous" and want == 302:
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
