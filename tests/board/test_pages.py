"""The board's HTTP side: the page, its state, images, exports, standalone boards, the join
link that lets a person onto the board without signing in, and batched counts."""

from __future__ import annotations

import csv
import io
import json
import re

from PIL import Image

from hub.board import live
from hub.board.models import Board, BoardImage, Visibility
from hub.calendar.invitations import invitation_token
from hub.extensions import db
from hub.scheduling.models import EventStatus, Invitation


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _boot(response) -> dict:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="board-boot">(.*?)</script>', html,
                      re.S)
    assert match, html[:500]
    return json.loads(match.group(1))


def _csrf(client, board: Board) -> str:  # type: ignore[no-untyped-def]
    return _boot(client.get(f"/boards/{board.id}"
                            if board.event_id is None else f"/events/{board.event_id}/board")
                 )["csrf_token"]


def test_the_event_page_links_to_the_board_and_the_board_page_boots_with_the_state(
        client, login_as, people, event, board_client):
    login_as(people.teacher)
    page = client.get(f"/events/{event.id}")
    assert f'href="/events/{event.id}/board"' in page.get_data(as_text=True)
    response = client.get(f"/events/{event.id}/board")
    assert response.status_code == 200
    boot = _boot(response)
    assert boot["state"]["viewer"]["name"] == people.teacher.full_name
    assert boot["socket"] == {"namespace": "/board", "auth": {"board": boot["board_id"]}}
    assert boot["needs_name"] is False and boot["state"]["board"]["layout"] == "wall"
    assert "/static/vendor/" in response.get_data(as_text=True)


def test_who_gets_the_board_page(app, client, login_as, people, event, make_person):
    assert client.get(f"/events/{event.id}/board").status_code == 302  # to sign in
    login_as(make_person())
    assert client.get(f"/events/{event.id}/board").status_code == 403
    event.board_enabled = False
    db.session.commit()
    assert client.get(f"/events/{event.id}/board").status_code == 404
    event.board_enabled, event.status = True, EventStatus.DRAFT
    db.session.commit()
    assert client.get(f"/events/{event.id}/board").status_code == 404


def test_a_link_board_asks_a_visitor_for_a_name(client, board):
    board.visibility = Visibility.LINK
    db.session.commit()
    boot = _boot(client.get(f"/events/{board.event_id}/board"))
    assert boot["needs_name"] is True and boot["state"] is None


def test_the_join_link_lets_a_person_onto_the_board_without_signing_in(client, people,
                                                                       event, board):
    invitation = db.session.scalar(db.select(Invitation).where(
        Invitation.person_id == people.teacher.id))
    client.get(f"/j/{invitation_token(invitation)}")
    boot = _boot(client.get(f"/events/{event.id}/board"))
    assert boot["state"]["viewer"]["name"] == people.teacher.full_name


def test_pictures_are_checked_stored_with_a_thumbnail_and_shown_to_viewers_only(
        client, login_as, people, board, board_client, make_person):
    login_as(people.teacher)
    token = _csrf(client, board)
    response = client.post(f"/boards/{board.id}/images", headers={"X-CSRFToken": token},
                           data={"image": (io.BytesIO(_png((3000, 1000))), "photo.png")})
    assert response.status_code == 200, response.get_data(as_text=True)
    image = response.get_json()["image"]
    assert image["width"] == 2048
    full = client.get(image["url"])
    thumb = client.get(image["thumb_url"])
    assert full.status_code == thumb.status_code == 200
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(thumb.data)).size[0] <= 480
    teacher = board_client(board, people.teacher)
    post = teacher.emit("post.create", {"image_id": image["id"]})["post"]
    assert post["image"]["url"] == image["url"]
    anonymous = client.application.test_client()
    assert anonymous.get(image["url"]).status_code == 403


def test_a_renamed_executable_is_refused_as_a_picture(client, login_as, people, board):
    login_as(people.teacher)
    token = _csrf(client, board)
    response = client.post(f"/boards/{board.id}/images", headers={"X-CSRFToken": token},
                           data={"image": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 500),
                                           "cat.jpg")})
    assert response.status_code == 400
    assert "not a picture" in response.get_json()["error"]
    assert db.session.scalar(db.select(db.func.count()).select_from(BoardImage)) == 0


def test_exports_give_the_posts_as_the_viewer_sees_them(client, login_as, people, board,
                                                        board_client):
    teacher = board_client(board, people.teacher)
    teacher.emit("post.create", {"body": "=HYPERLINK(\"http://evil\")"})
    teacher.emit("post.create", {"body": "Робототехника в детском саду"})
    login_as(people.coordinator)
    response = client.get(f"/boards/{board.id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    texts = [cell for row in rows for cell in row]
    assert "Робототехника в детском саду" in texts
    assert not any(cell.startswith("=") for cell in texts)
    pdf = client.get(f"/boards/{board.id}/export.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    printable = client.get(f"/boards/{board.id}/print")
    assert "Робототехника в детском саду" in printable.get_data(as_text=True)
    record = client.get(f"/events/{board.event_id}/board/export.csv")
    assert record.status_code == 302 and record.location.endswith(f"/boards/{board.id}/export.csv")


def test_coordinators_make_standalone_boards_of_their_network(client, login_as, people,
                                                              network, board_client,
                                                              make_person):
    login_as(people.teacher)
    assert client.post(f"/networks/{network.id}/boards",
                       data={"title": "Банк идей"}).status_code == 403
    client.post("/logout")
    login_as(people.coordinator)
    response = client.post(f"/networks/{network.id}/boards", data={"title": "Банк идей"})
    board = db.session.scalar(db.select(Board).where(Board.network_id == network.id))
    assert response.status_code == 302 and board.title == "Банк идей"
    assert client.get(f"/boards/{board.id}").status_code == 200
    member = board_client(board, people.coordinator)
    assert member.hello()["viewer"]["moderator"] is True
    teacher = board_client(board, people.teacher)  # the network's people: members' staff
    assert teacher.connected and teacher.hello()["viewer"]["moderator"] is False
    assert not board_client(board, make_person()).connected


def test_reaction_counts_are_batched_when_flushing_is_on(app, board, board_client, people):
    author = board_client(board, people.teacher)
    reader = board_client(board, people.other_teacher)
    post = author.emit("post.create", {"body": "Считаем"})["post"]
    reader.received()
    app.config["BOARD_FLUSH_SECONDS"] = 5.0
    try:
        author.emit("react", {"post_id": post["id"], "kind": "like"})
        reader.emit("react", {"post_id": post["id"], "kind": "like"})
        assert reader.changes() == []  # stored, waiting in the buffer
        live.flush()
        assert [c["likes"] for c in reader.changes()] == [1, 2]
    finally:
        app.config["BOARD_FLUSH_SECONDS"] = 0.0


def test_a_busy_board_sends_posts_together_and_a_quiet_one_at_once(app, board, board_client,
                                                                  people):
    author = board_client(board, people.teacher)
    reader = board_client(board, people.other_teacher)
    app.config["BOARD_FLUSH_SECONDS"] = 5.0
    try:
        author.emit("post.create", {"body": "Первая"})  # the board was quiet: sent at once
        assert [c["post"]["body"] for c in reader.changes()] == ["Первая"]
        author.emit("post.create", {"body": "Вторая"})  # within the period: buffered
        author.emit("post.create", {"body": "Третья"})
        assert reader.changes() == []
        live.flush()
        messages = [m for m in reader.received() if m["name"] == "changes"]
        assert len(messages) == 1  # one message carries both, in order
        assert [c["post"]["body"] for c in messages[0]["args"][0]["changes"]] == [
            "Вторая", "Третья"]
    finally:
        app.config["BOARD_FLUSH_SECONDS"] = 0.0
