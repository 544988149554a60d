"""Demo boards: the most recent finished events and the next one get a board with sections,
posts, likes and comments, written through the board's own services."""

from __future__ import annotations

import random
from datetime import datetime

from hub.board import services
from hub.board.access import Viewer, person_key
from hub.board.models import Board
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus, Invitation

SECTIONS = ("Идеи", "Вопросы спикеру", "Полезные ссылки")
POSTS = (
    (0, "Играем с **Bee-Bot** на прогулке: рисуем мелом поле 15×15 см.", ""),
    (0, "Можно связать с лэпбуком «Профессии»: дети программируют путь робота к «пожарной части».",
     ""),
    (1, "Как оценивать результаты детей 4–5 лет без тестов? Поделитесь картами наблюдения.", ""),
    (1, "Сколько роботов нужно на группу из 20 детей?", ""),
    (2, "Методические рекомендации по образовательной робототехнике",
     "https://education.example.org/robototekhnika"),
    (0, "Предлагаю провести совместный квест с городской библиотекой в каникулы.", ""),
)
COMMENTS = ("Спасибо, попробуем в старшей группе!", "У нас хватает трёх на подгруппу.",
            "Поддерживаю, давайте обсудим на следующем семинаре.")


def _viewer(invitation: Invitation, moderator: bool = False) -> Viewer:
    person = invitation.person
    return Viewer(key=person_key(person), name=person.full_name, person_id=person.id,
                  moderator=moderator, can_post=True)


def _fill(board: Board, event: Event, rng: random.Random) -> None:
    organiser = next((p.person for p in event.people), None)
    if organiser is None or not event.invitations:
        return
    moderator = Viewer(key=person_key(organiser), name=organiser.full_name,
                       person_id=organiser.id, moderator=True, can_post=True)
    sections = [services.create_section(board, moderator, {"title": title}) for title in SECTIONS]
    guests = rng.sample(event.invitations, min(len(event.invitations), len(POSTS)))
    posts = []
    for invitation, (section, body, link) in zip(guests, POSTS, strict=False):
        data = {"body": body, "section_id": sections[section].id,
                "colour": rng.choice(("white", "yellow", "green", "blue"))}
        if link:
            data["link"] = link
        posts.append(services.create_post(board, _viewer(invitation), data))
    for invitation in event.invitations[:12]:
        for post in rng.sample(posts, min(len(posts), rng.randint(0, 3))):
            services.react(board, _viewer(invitation), {"post_id": post.id, "kind": "like"})
    for post, text, invitation in zip(posts[1:4], COMMENTS, guests[::-1], strict=False):
        services.create_comment(board, _viewer(invitation), {"post_id": post.id, "body": text})


def seed_boards(rng: random.Random, now: datetime) -> int:
    """Boards with content for the last three finished events and the next upcoming one."""
    finished = db.session.scalars(db.select(Event).where(
        Event.status == EventStatus.COMPLETED, Event.board_enabled, Event.end_at <= now)
        .order_by(Event.end_at.desc()).limit(3))
    upcoming = db.session.scalars(db.select(Event).where(
        Event.status == EventStatus.SCHEDULED, Event.board_enabled, Event.start_at > now)
        .order_by(Event.start_at).limit(1))
    events = [*finished, *upcoming]
    for event in events:
        board = services.ensure_board(event)
        board.freeze_after_minutes = None  # the demo's past boards stay open to try things
        _fill(board, event, rng)
    return len(events)
