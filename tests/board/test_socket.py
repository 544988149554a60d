"""The board over real Socket.IO test clients: who may connect, posts, reactions, comments,
sections, moderation and approval, the numbered changes and catching up, and bad input."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest

from hub.board import live
from hub.board.access import person_key
from hub.board.models import Board, BoardChange, Post, Reactions, Visibility
from hub.calendar.invitations import invitation_token
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import Invitation

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> **bold**'


def _tags(html: str) -> list[tuple[str, list]]:
    """Every start tag of `html` with its attributes."""
    found: list[tuple[str, list]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _seq(board: Board) -> int:
    db.session.expire_all()
    return db.session.get(Board, board.id).seq


def _set(board: Board, **values) -> None:  # type: ignore[no-untyped-def]
    board = db.session.get(Board, board.id)
    for key, value in values.items():
        setattr(board, key, value)
    db.session.commit()


# -- connecting ------------------------------------------------------------------------------

def test_participants_and_moderators_connect_and_are_told_who_they_are(board, board_client,
                                                                       people):
    teacher = board_client(board, people.teacher)
    organiser = board_client(board, people.coordinator)
    assert teacher.connected and organiser.connected
    hello = teacher.hello()
    assert hello["viewer"] == {"key": person_key(people.teacher),
                               "name": people.teacher.full_name, "moderator": False,
                               "can_post": True}
    assert hello["head"] == 0 and "guest_token" not in hello
    assert organiser.hello()["viewer"]["moderator"] is True


def test_strangers_and_anonymous_visitors_are_refused_on_a_participants_board(
        board, board_client, make_person):
    stranger = board_client(board, make_person())
    anonymous = board_client(board)
    guest = board_client(board, name="Гость Петров")
    assert not stranger.connected and not anonymous.connected and not guest.connected


def test_a_socket_for_a_board_that_does_not_exist_is_refused(board_client, people):
    client = board_client(Board(id=999999), people.teacher)
    assert not client.connected


def test_the_personal_join_token_lets_a_person_in_without_signing_in(board, board_client,
                                                                     people):
    invitation = db.session.scalar(db.select(Invitation).where(
        Invitation.person_id == people.teacher.id))
    client = board_client(board, token=invitation_token(invitation))
    assert client.connected
    assert client.hello()["viewer"]["name"] == people.teacher.full_name
    ack = client.emit("post.create", {"body": "Вопрос из зала"})
    assert ack["ok"] and ack["post"]["author_name"] == people.teacher.full_name
    assert not board_client(board, token="not-a-real-token").connected


def test_guests_of_a_link_board_post_under_their_name_and_come_back_with_their_token(
        board, board_client):
    _set(board, visibility=Visibility.LINK)
    guest = board_client(board, name="  Анна   Гостева ")
    hello = guest.hello()
    assert hello["viewer"]["name"] == "Анна Гостева" and hello["viewer"]["key"].startswith("g")
    post = guest.emit("post.create", {"body": "Привет всем"})["post"]
    guest.disconnect()
    again = board_client(board, guest=hello["guest_token"])
    assert again.hello()["viewer"]["key"] == hello["viewer"]["key"]
    assert again.emit("post.update", {"id": post["id"], "body": "Исправила"})["ok"]
    forged = hello["guest_token"][:-2] + "xx"
    assert not board_client(board, guest=forged).connected
    assert not board_client(board, name="x").connected  # a name of one letter is no name


# -- posts and live changes ------------------------------------------------------------------

def test_a_post_is_stored_then_reaches_everyone_with_the_next_sequence_number(
        board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    organiser = board_client(board, people.coordinator)
    for client in (author, other, organiser):
        client.received()
    ack = author.emit("post.create", {"body": "Идея: **робототехника** на прогулке",
                                      "link": "https://пример.рф/статья", "colour": "yellow"})
    assert ack["ok"], ack
    post = ack["post"]
    assert "<strong>робототехника</strong>" in post["body_html"]
    assert post["link_domain"] == "пример.рф" and post["colour"] == "yellow"
    for client in (author, other, organiser):
        (change,) = client.changes()
        assert change["seq"] == 1 and change["kind"] == "post"
        assert change["post"]["id"] == post["id"] and change["post"]["rev"] == 1
    assert db.session.get(BoardChange, 1) is None or _count(BoardChange) == 1
    assert _seq(board) == 1


def test_script_in_a_post_is_never_sent_as_markup(board, board_client, people):
    client = board_client(board, people.teacher)
    post = client.emit("post.create", {"body": XSS})["post"]
    tags = _tags(post["body_html"])
    assert {tag for tag, _attrs in tags} == {"p", "strong"} and not any(a for _t, a in tags)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in post["body_html"]  # shown as text
    assert "<strong>bold</strong>" in post["body_html"]


def test_authors_edit_and_delete_their_own_posts_only(board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    post = author.emit("post.create", {"body": "Черновик"})["post"]
    refused = other.emit("post.update", {"id": post["id"], "body": "Чужая правка"})
    assert refused == {"ok": False, "error": "You may change only your own posts.",
                       "code": "forbidden"}
    assert not other.emit("post.delete", {"id": post["id"]})["ok"]
    assert author.emit("post.update", {"id": post["id"], "body": "Готово"})["post"][
        "body_html"] == "<p>Готово</p>"
    other.received()
    assert author.emit("post.delete", {"id": post["id"]})["ok"]
    assert other.changes() == [{"seq": 3, "kind": "post.removed", "id": post["id"]}]


def test_likes_toggle_and_every_client_gets_the_counts(board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    post = author.emit("post.create", {"body": "Нравится?"})["post"]
    author.received(), other.received()
    assert other.emit("react", {"post_id": post["id"], "kind": "like"})["mine"]["like"] is True
    assert author.emit("react", {"post_id": post["id"], "kind": "like"})["ok"]
    counts = author.changes()
    assert [c["likes"] for c in counts] == [1, 2] and counts[-1]["kind"] == "counts"
    assert [c["likes"] for c in other.changes()] == [1, 2]
    assert other.emit("react", {"post_id": post["id"], "kind": "like"})["mine"]["like"] is False
    assert other.changes()[-1]["likes"] == 1
    assert db.session.get(Post, post["id"]).likes == 1


def test_a_post_sent_again_with_its_key_is_stored_once(board, board_client, people):
    """A phone whose connection dropped before the answer sends the post again with the same
    key: the first post comes back, and nothing new is stored or sent."""
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    first = author.emit("post.create", {"body": "Идея", "client_key": "k" * 32})
    other.received()
    again = author.emit("post.create", {"body": "Идея", "client_key": "k" * 32})
    assert again["ok"] and again["post"]["id"] == first["post"]["id"]
    assert _count(Post) == 1 and other.changes() == [] and _seq(board) == 1
    # The same key from someone else is their own post; a new key is a new post.
    assert other.emit("post.create", {"body": "Идея", "client_key": "k" * 32})["post"][
        "id"] != first["post"]["id"]
    assert author.emit("post.create", {"body": "Ещё", "client_key": "n" * 32})["ok"]
    assert _count(Post) == 3
    for bad in ("short", "x" * 65, "не ключ!", 12345):
        refused = author.emit("post.create", {"body": "Идея", "client_key": bad})
        assert refused["code"] == "invalid"
    assert _count(Post) == 3


def test_a_like_sent_with_its_wanted_state_can_be_sent_again(board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    post = author.emit("post.create", {"body": "Нравится?"})["post"]
    for _ in range(2):
        ack = other.emit("react", {"post_id": post["id"], "kind": "like", "like": True})
        assert ack["mine"]["like"] is True
    assert db.session.get(Post, post["id"]).likes == 1
    for _ in range(2):
        assert other.emit("react", {"post_id": post["id"], "kind": "like", "like": False})[
            "mine"]["like"] is False
    db.session.expire_all()
    assert db.session.get(Post, post["id"]).likes == 0
    assert other.emit("react", {"post_id": post["id"], "kind": "like", "like": "yes"})[
        "code"] == "invalid"


def test_votes_and_stars_only_where_the_board_takes_them(board, board_client, people):
    client = board_client(board, people.teacher)
    post = client.emit("post.create", {"body": "Оцените"})["post"]
    assert client.emit("react", {"post_id": post["id"], "kind": "vote", "value": 1})[
        "code"] == "invalid"
    _set(board, reactions=Reactions.VOTES)
    assert client.emit("react", {"post_id": post["id"], "kind": "vote", "value": -1})["ok"]
    assert client.emit("react", {"post_id": post["id"], "kind": "vote", "value": 1})["ok"]
    assert db.session.get(Post, post["id"]).score == 1
    assert client.emit("react", {"post_id": post["id"], "kind": "vote", "value": 1})["ok"]
    db.session.expire_all()
    assert db.session.get(Post, post["id"]).score == 0  # the same vote again takes it back
    _set(board, reactions=Reactions.STARS)
    other = board_client(board, people.other_teacher)
    client.emit("react", {"post_id": post["id"], "kind": "star", "value": 5})
    other.emit("react", {"post_id": post["id"], "kind": "star", "value": 2})
    assert client.changes()[-1]["stars"] == 3.5
    assert not client.emit("react", {"post_id": post["id"], "kind": "star", "value": 6})["ok"]


def test_comments_are_added_counted_and_removed(board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    post = author.emit("post.create", {"body": "Обсудим"})["post"]
    comment = other.emit("comment.create", {"post_id": post["id"], "body": "Согласна!"})
    assert comment["ok"] and comment["comment"]["body_html"] == "<p>Согласна!</p>"
    kinds = [(c["kind"], c.get("comments")) for c in author.changes()]
    assert kinds[-2:] == [("comment", None), ("counts", 1)]
    assert not author.emit("comment.delete", {"id": comment["comment"]["id"]})["ok"]
    assert other.emit("comment.delete", {"id": comment["comment"]["id"]})["ok"]
    assert author.changes()[-1]["comments"] == 0
    _set(board, comments_enabled=False)
    assert author.emit("comment.create", {"post_id": post["id"], "body": "Ещё"})[
        "code"] == "forbidden"


# -- moderation ------------------------------------------------------------------------------

def test_pending_posts_are_seen_by_their_author_and_moderators_until_approved(
        board, board_client, people):
    _set(board, needs_approval=True)
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    organiser = board_client(board, people.coordinator)
    for client in (author, other, organiser):
        client.received()
    post = author.emit("post.create", {"body": "На проверку"})["post"]
    assert post["state"] == "pending"
    assert other.changes() == [{"seq": 1, "kind": "skip"}]
    assert organiser.changes()[0]["post"]["state"] == "pending"
    assert any(c["kind"] == "post" for c in author.changes())
    assert not other.emit("react", {"post_id": post["id"], "kind": "like"})["ok"]
    assert other.emit("sync", {"after": 0})["changes"] == [{"seq": 1, "kind": "skip"}]
    assert not author.emit("post.moderate", {"id": post["id"], "action": "approve"})["ok"]
    assert organiser.emit("post.moderate", {"id": post["id"], "action": "approve"})["ok"]
    (approved,) = other.changes()
    assert approved["kind"] == "post" and approved["post"]["state"] == "published"


def test_a_hidden_post_disappears_for_participants_but_not_for_moderators(
        board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    organiser = board_client(board, people.coordinator)
    post = author.emit("post.create", {"body": "Реклама"})["post"]
    for client in (author, other, organiser):
        client.received()
    assert organiser.emit("post.moderate", {"id": post["id"], "action": "hide"})["ok"]
    assert other.changes() == [{"seq": 2, "kind": "post.removed", "id": post["id"]}]
    assert organiser.changes()[0]["post"]["state"] == "hidden"
    state = other.http.get(f"/boards/{board.id}/state.json").get_json()
    assert state["posts"] == []
    assert organiser.emit("post.moderate", {"id": post["id"], "action": "pin"})["post"][
        "pinned"] is True


def test_anonymous_posts_hide_the_author_from_participants_only(board, board_client, people):
    author = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    organiser = board_client(board, people.coordinator)
    assert author.emit("post.create", {"body": "Без имени", "anonymous": True})["post"][
        "anonymous"] is False  # the board does not allow it: signed
    _set(board, anonymous_allowed=True)
    for client in (author, other, organiser):
        client.received()
    author.emit("post.create", {"body": "Без имени", "anonymous": True})
    seen = other.changes()[0]["post"]
    assert seen["author_key"] is None and seen["author_name"] == "Anonymous"
    assert organiser.changes()[0]["post"]["author_name"] == people.teacher.full_name
    assert any(c.get("post", {}).get("author_key") == person_key(people.teacher)
               for c in author.changes())


def test_sections_and_moving_posts_are_for_moderators(board, board_client, people):
    organiser = board_client(board, people.coordinator)
    teacher = board_client(board, people.teacher)
    assert teacher.emit("section.create", {"title": "Идеи"})["code"] == "forbidden"
    ideas = organiser.emit("section.create", {"title": "Идеи"})["section"]
    questions = organiser.emit("section.create", {"title": "Вопросы"})["section"]
    assert organiser.emit("section.move", {"id": questions["id"], "before_id": ideas["id"]})[
        "section"]["position"] < ideas["position"]
    assert organiser.emit("section.update", {"id": ideas["id"], "title": "Идеи и находки"})[
        "section"]["title"] == "Идеи и находки"
    first = teacher.emit("post.create", {"body": "Первый", "section_id": ideas["id"]})["post"]
    second = teacher.emit("post.create", {"body": "Второй", "section_id": ideas["id"]})["post"]
    assert teacher.emit("post.move", {"id": second["id"], "section_id": None})[
        "code"] == "forbidden"
    moved = organiser.emit("post.move", {"id": second["id"], "section_id": ideas["id"],
                                         "before_id": first["id"]})["post"]
    assert moved["position"] < first["position"]
    teacher.received()
    assert organiser.emit("section.delete", {"id": ideas["id"]})["ok"]
    changes = teacher.changes()
    assert [c["kind"] for c in changes] == ["post", "post", "section.removed"]
    assert all(c["post"]["section_id"] is None for c in changes[:2])


def test_board_settings_change_live_and_a_frozen_board_is_read_only(board, board_client,
                                                                    people):
    organiser = board_client(board, people.coordinator)
    teacher = board_client(board, people.teacher)
    teacher.received()
    assert teacher.emit("board.update", {"layout": "columns"})["code"] == "forbidden"
    assert organiser.emit("board.update", {"layout": "columns", "sort": "liked",
                                           "frozen": True})["ok"]
    (change,) = teacher.changes()
    assert change["board"]["layout"] == "columns" and change["board"]["frozen"] is True
    refused = teacher.emit("post.create", {"body": "Поздно"})
    assert refused["code"] == "frozen" and refused["error"] == "The board is read-only now."
    assert not organiser.emit("board.update", {"layout": "spiral"})["ok"]
    assert not organiser.emit("board.update", {"owner": "me"})["ok"]


def test_the_board_freezes_by_itself_after_the_event(board, board_client, people, event):
    event.start_at = utcnow() - timedelta(hours=5)
    event.end_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    _set(board, freeze_after_minutes=120)
    teacher = board_client(board, people.teacher)
    assert teacher.hello()["viewer"]["can_post"] is False
    assert teacher.emit("post.create", {"body": "Поздно"})["code"] == "frozen"
    _set(board, freeze_after_minutes=None)
    assert teacher.emit("post.create", {"body": "Успела"})["ok"]


def test_permission_is_checked_again_on_every_event(board, board_client, people):
    teacher = board_client(board, people.teacher)
    assert teacher.emit("post.create", {"body": "Пока можно"})["ok"]
    people.teacher.active = False
    db.session.commit()
    assert teacher.emit("post.create", {"body": "Уже нельзя"})["code"] == "forbidden"
    assert teacher.emit("sync", {"after": 0})["code"] == "forbidden"


# -- catching up -----------------------------------------------------------------------------

def test_a_client_that_reconnects_gets_exactly_what_it_missed(board, board_client, people):
    author = board_client(board, people.teacher)
    reader = board_client(board, people.other_teacher)
    author.emit("post.create", {"body": "До обрыва"})
    last = reader.changes()[-1]["seq"]
    reader.disconnect()
    author.emit("post.create", {"body": "Пропущено 1"})
    author.emit("post.create", {"body": "Пропущено 2"})
    again = board_client(board, people.other_teacher)
    answer = again.emit("sync", {"after": last})
    assert answer["ok"] and answer["head"] == 3
    assert [c["seq"] for c in answer["changes"]] == [2, 3]
    assert [c["post"]["body"] for c in answer["changes"]] == ["Пропущено 1", "Пропущено 2"]


def test_a_client_far_behind_gets_the_whole_state(app, board, board_client, people):
    author = board_client(board, people.teacher)
    app.config["BOARD_SYNC_MAX_CHANGES"] = 1
    try:
        author.emit("post.create", {"body": "Один"})
        author.emit("post.create", {"body": "Два"})
        answer = author.emit("sync", {"after": 0})
    finally:
        app.config["BOARD_SYNC_MAX_CHANGES"] = 500
    assert "changes" not in answer and len(answer["state"]["posts"]) == 2
    assert answer["state"]["head"] == 2


# -- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("event_name", "data", "code"), [
    ("post.create", {"body": "я" * 100_000}, "invalid"),
    ("post.create", {"body": b"\x00\x01binary"}, "invalid"),
    ("post.create", b"\x89PNG\r\n\x1a\n", "invalid"),
    ("post.create", "just a string", "invalid"),
    ("post.create", {"body": "ok", "colour": "url(javascript:x)"}, "invalid"),
    ("post.create", {"body": "", "link": ""}, "empty"),
    ("post.create", {"link": "javascript:alert(1)"}, "invalid"),
    ("post.create", {"body": "x", "section_id": "1; DROP TABLE"}, "invalid"),
    ("post.update", {"id": 424242, "body": "x"}, "not_found"),
    ("react", {"post_id": True, "kind": "like"}, "invalid"),
    ("no.such.event", {"x": 1}, "unknown_event"),
    ("sync", {"after": -5}, "invalid"),
])
def test_bad_input_is_refused_with_a_reason_and_stores_nothing(board, board_client, people,
                                                               event_name, data, code):
    client = board_client(board, people.teacher)
    answer = client.emit(event_name, data)
    assert answer["ok"] is False and answer["code"] == code and answer["error"]
    assert _count(Post) == 0 and _count(BoardChange) == 0 and _seq(board) == 0
    assert client.emit("post.create", {"body": "Сервер работает"})["ok"]


def test_ids_of_another_board_are_refused(board, board_client, people, make_event):
    other_board = Board(title="Другая", visibility=Visibility.LINK)
    db.session.add(other_board)
    db.session.commit()
    guest = board_client(other_board, name="Гость")
    foreign = guest.emit("post.create", {"body": "Чужая доска"})["post"]
    client = board_client(board, people.teacher)
    for event_name, data in [("post.update", {"id": foreign["id"], "body": "x"}),
                             ("post.delete", {"id": foreign["id"]}),
                             ("react", {"post_id": foreign["id"], "kind": "like"}),
                             ("comment.create", {"post_id": foreign["id"], "body": "x"})]:
        assert client.emit(event_name, data)["code"] == "not_found"
    assert db.session.get(Post, foreign["id"]).body == "Чужая доска"


def test_a_like_on_a_deleted_post_is_refused(board, board_client, people):
    client = board_client(board, people.teacher)
    post = client.emit("post.create", {"body": "Удалю"})["post"]
    client.emit("post.delete", {"id": post["id"]})
    answer = client.emit("react", {"post_id": post["id"], "kind": "like"})
    assert answer == {"ok": False, "error": "This post has been deleted.", "code": "deleted"}


def test_a_flood_of_posts_is_cut_off_and_everyone_else_is_still_served(board, board_client,
                                                                       people):
    flooder = board_client(board, people.teacher)
    other = board_client(board, people.other_teacher)
    answers = [flooder.emit("post.create", {"body": f"спам {n}"}) for n in range(1000)]
    accepted = [a for a in answers if a["ok"]]
    assert 1 <= len(accepted) <= 20
    refusals = {a["code"] for a in answers if not a["ok"]}
    assert refusals == {"rate_limited"}
    assert "try again" in next(a["error"] for a in answers if not a["ok"])
    assert _count(Post) == len(accepted) == _seq(board)
    assert other.emit("post.create", {"body": "А я могу"})["ok"]


def test_a_write_that_finds_no_free_database_connection_is_refused_as_busy(
        board, board_client, people, monkeypatch):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from hub.board import services

    author = board_client(board, people.teacher)

    def pool_exhausted(*_args):  # type: ignore[no-untyped-def]
        raise PoolTimeout("QueuePool limit reached, connection timed out")

    monkeypatch.setattr(services, "_post_change", pool_exhausted)
    answer = author.emit("post.create", {"body": "Не сейчас"})
    assert answer["ok"] is False and answer["code"] == "busy"
    assert "nothing was saved" in answer["error"]
    assert _count(Post) == 0
    monkeypatch.undo()
    assert author.emit("post.create", {"body": "Теперь"})["ok"]


# -- presence and heads ----------------------------------------------------------------------

def test_presence_counts_the_people_on_the_board_and_heads_tell_the_last_number(
        board, board_client, people):
    first = board_client(board, people.teacher)
    assert first.hello()["presence"] == 1
    second = board_client(board, people.other_teacher)
    assert second.hello()["presence"] == 2
    first.emit("post.create", {"body": "Раз"})
    live._tick_presence(live._local_counts())
    live._tick_heads([board.id])
    messages = {m["name"]: m["args"][0] for m in second.received()}
    assert messages["presence"] == {"board": board.id, "count": 2}
    assert messages["head"] == {"board": board.id, "seq": 1}
    second.disconnect()
    assert live.presence(board.id) == 1
