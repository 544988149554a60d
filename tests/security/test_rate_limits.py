"""Rate limits on signing in, on token links and on posting, answered with a clear refusal.

Proven by the domains' tests and not repeated here: the emailed sign-in link per address and
per client (tests/auth/test_link.py), wrong check-in codes per person and answers per address
(tests/attendance/test_checkins.py), presence reports per person and event
(tests/attendance/test_presence.py), /verify (tests/growth/test_certificates.py), a flood
from one socket (tests/board/test_socket.py).
"""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from hub.attendance.models import Attendance
from hub.board.models import BoardChange, BoardImage, Comment, Post
from hub.calendar.invitations import invitation_token
from hub.calendar.views import TOKEN_MISS_LIMIT
from hub.directory.models import Person
from hub.extensions import db
from tests.board.conftest import _fresh_limits, _own_socket_server, board_client  # noqa: F401
from tests.conftest import PASSWORD, login

POST_LIMIT = 10  # BOARD_POST_LIMIT: 10 a minute (and 100 an hour) per person


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_signing_in_beyond_the_limit_gets_a_clear_429_and_checks_no_password(app, client,
                                                                            people):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split(" per ")[0])
    for _ in range(limit):
        client.post("/login", data={"email": "nobody@example.org", "password": "wrong"})
    response = client.post("/login", data={"email": people.teacher.email,
                                           "password": "wrong"})
    body = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many attempts. Please wait a little and try again." in body
    assert "Traceback" not in body and "<h1>429</h1>" in body
    db.session.expire_all()
    assert db.session.get(Person, people.teacher.id).failed_logins == 0  # never checked
    right = client.post("/login", data={"email": people.teacher.email, "password": PASSWORD})
    assert right.status_code == 429 and client.get("/").status_code == 302
    json = client.post("/login", headers={"Accept": "application/json"})
    assert json.status_code == 429 and json.get_json()["message"]


def test_scanning_join_links_is_cut_off_but_working_links_never_count(client, people, event):
    """Unknown tokens of /j/, /rsvp/ and /feeds/ share one limit per address (TOKEN_MISS_LIMIT);
    a school's teachers behind one address, clicking links that work, never reach it."""
    limit = int(TOKEN_MISS_LIMIT.split(" per ")[0])
    invitation = next(i for i in event.invitations if i.person_id == people.teacher.id)
    token = invitation_token(invitation)
    for _ in range(limit + 10):
        assert client.get(f"/j/{token}").status_code == 200  # the page saying when it opens
    answers = [client.get(path).status_code for n in range(limit // 3)
               for path in (f"/j/unknown-{n:040d}", f"/rsvp/unknown-{n:040d}",
                            f"/feeds/unknown-{n:040d}.ics")]
    assert answers == [404] * limit
    refused = client.get(f"/j/unknown-{limit:040d}")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert client.get(f"/j/{token}").status_code == 429  # the scanner's address waits
    other = client.get(f"/j/{token}", environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert other.status_code == 200
    assert count(Attendance) == 0  # before the window nothing is recorded


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


def test_board_posting_beyond_the_personal_limit_is_refused_on_every_socket_and_upload(
        app, board, board_client, people):  # noqa: F811
    """The limit is the person's, not the socket's: a second tab, comments and the picture
    upload count against it too, and a refused write stores nothing."""
    first = board_client(board, people.teacher)
    answers = [first.emit("post.create", {"body": f"Идея {n}"}) for n in range(POST_LIMIT)]
    assert all(a["ok"] for a in answers)
    stored = (count(Post), count(BoardChange), count(Comment))
    second = board_client(board, people.teacher)  # another tab of the same person
    for client, event, data in (
            (first, "post.create", {"body": "ещё одна"}),
            (second, "post.create", {"body": "из второй вкладки"}),
            (second, "comment.create", {"post_id": answers[0]["post"]["id"], "body": "да"})):
        answer = client.emit(event, data)
        assert answer["ok"] is False and answer["code"] == "rate_limited", (event, answer)
        assert "try again" in answer["error"]
    assert (count(Post), count(BoardChange), count(Comment)) == stored
    http = app.test_client()
    login(http, people.teacher)
    upload = http.post(f"/boards/{board.id}/images",
                       data={"image": (io.BytesIO(_png()), "idea.png")},
                       content_type="multipart/form-data")
    assert upload.status_code == 429 and upload.get_json()["code"] == "rate_limited"
    assert count(BoardImage) == 0
    other = board_client(board, people.other_teacher)
    assert other.emit("post.create", {"body": "А я могу"})["ok"]
