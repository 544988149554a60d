"""Who is looking at a board, and what they may do there.

A viewer is a signed-in person, a person who opened their personal join link without signing
in (the link is remembered in the session, or a socket sends the token), or a guest of a board
open to anyone with the link, who gave a name and carries a signed guest token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app, session
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from hub.auth.permissions import can_edit_event, can_view_event, is_municipal
from hub.board.models import Board, Visibility
from hub.directory.models import NetworkMember, Person, Role
from hub.extensions import db
from hub.scheduling.models import EventRole, EventStatus, Invitation, InvitationState

#: Session key: {event id (str): invitation id} of the personal join links opened.
JOINED_SESSION_KEY = "joined_invitations"
GUEST_NAME_MAX = 80


@dataclass(frozen=True)
class Viewer:
    """Someone on a board: `key` identifies them in posts and reactions."""

    key: str
    name: str
    person_id: int | None
    moderator: bool
    can_post: bool

    @property
    def is_guest(self) -> bool:
        return self.person_id is None

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "moderator": self.moderator,
                "can_post": self.can_post}


def person_key(person: Person) -> str:
    return f"p{person.id}"


def _network_ids(board: Board) -> set[int]:
    if board.event is not None:
        return {board.event.network_id} if board.event.network_id else set()
    return {board.network_id} if board.network_id else set()


def in_network(person: Person, network_ids: set[int]) -> bool:
    if not network_ids:
        return False
    return db.session.scalar(
        db.select(NetworkMember.id).where(NetworkMember.network_id.in_(network_ids),
                                          NetworkMember.organisation_id == person.organisation_id)
    ) is not None


def is_moderator(person: Person | None, board: Board) -> bool:
    """Event boards: whoever may edit the event, and its speakers and moderators. Standalone
    boards: the municipal coordinator, their creator and the network members' coordinators."""
    if person is None or not person.active:
        return False
    event = board.event
    if event is not None:
        if can_edit_event(person, event):
            return True
        return any(p.person_id == person.id and p.role in (EventRole.SPEAKER, EventRole.MODERATOR)
                   for p in event.people)
    if is_municipal(person) or board.created_by_id == person.id:
        return True
    return person.role == Role.ORG_COORDINATOR and in_network(person, _network_ids(board))


def _person_may_view(person: Person, board: Board) -> bool:
    event = board.event
    if board.visibility == Visibility.LINK:
        return True
    if board.visibility == Visibility.NETWORK and in_network(person, _network_ids(board)):
        return True
    if event is None:
        return in_network(person, _network_ids(board))
    return can_view_event(person, event)


def board_open(board: Board) -> bool:
    """The board exists for people: a standalone board, or a published event with it on."""
    event = board.event
    if event is None:
        return True
    return event.board_enabled and event.status != EventStatus.DRAFT


def _viewer(board: Board, key: str, name: str, person: Person | None,
            moderator: bool) -> Viewer:
    writable = not board.frozen_at() and (
        board.event is None or board.event.status != EventStatus.CANCELLED)
    return Viewer(key=key, name=name, person_id=person.id if person else None,
                  moderator=moderator, can_post=writable)


def person_viewer(board: Board, person: Person | None, *, invited: bool = False) -> Viewer | None:
    """A person's view of the board, or None when they may not see it. `invited`: they came
    through their own join link for this event (enough to see a participants' board)."""
    if person is None or not person.active:
        return None
    moderator = is_moderator(person, board)
    if not moderator and not (board_open(board) and (invited or _person_may_view(person, board))):
        return None
    return _viewer(board, person_key(person), person.full_name, person, moderator)


def guest_viewer(board: Board, key: str, name: str) -> Viewer | None:
    """A guest of a board open to anyone with the link."""
    if board.visibility != Visibility.LINK or not board_open(board):
        return None
    return _viewer(board, key, name, None, False)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="board-guest")


def guest_token(board: Board, viewer: Viewer) -> str:
    """A signed token that brings the same guest back (same key, same name) to this board."""
    return _serializer().dumps({"b": board.id, "k": viewer.key, "n": viewer.name})


def new_guest_key() -> str:
    return "g" + secrets.token_hex(8)


def read_guest_token(board: Board, token: object) -> tuple[str, str] | None:
    if not isinstance(token, str) or len(token) > 600:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("b") != board.id:
        return None
    return str(data.get("k", "")), str(data.get("n", ""))


def clean_guest_name(name: object) -> str | None:
    """A guest's typed name: 2–80 printable characters, or None."""
    if not isinstance(name, str):
        return None
    name = " ".join("".join(ch for ch in name if ch.isprintable()).split())
    return name if 2 <= len(name) <= GUEST_NAME_MAX else None


def remember_join(invitation: Invitation) -> None:
    """The personal join link was opened: let this browser onto the event's board as them
    (until the link is revoked: the session keeps a fingerprint of the token)."""
    joined = dict(session.get(JOINED_SESSION_KEY) or {})
    joined[str(invitation.event_id)] = [invitation.id, invitation.token_hash[:16]]
    if len(joined) > 50:  # keep the cookie small: the most recent links win
        joined = dict(list(joined.items())[-50:])
    session[JOINED_SESSION_KEY] = joined


def joined_invitation(event_id: int) -> Invitation | None:
    """The invitation whose join link this browser opened for the event, while it is valid."""
    entry = (session.get(JOINED_SESSION_KEY) or {}).get(str(event_id))
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int)):
        return None
    invitation = db.session.get(Invitation, entry[0])
    if invitation is None or invitation.event_id != event_id \
            or invitation.token_hash[:16] != entry[1] \
            or invitation.state != InvitationState.INVITED:
        return None
    return invitation


def _joined_invitation(board: Board) -> Invitation | None:
    return joined_invitation(board.event_id) if board.event_id is not None else None


def _valid_invitation(invitation: Invitation | None, board: Board) -> Invitation | None:
    if invitation is None or invitation.event_id != board.event_id:
        return None
    return invitation if invitation.state == InvitationState.INVITED else None


def resolve_viewer(board: Board, *, token: object = None, guest: object = None,
                   name: object = None) -> tuple[Viewer | None, bool]:
    """The viewer of this request or socket, and whether they are a new guest (whose token
    must be handed out). Signed-in people first, then a join token, the join link remembered
    in the session, a guest token, and a new guest's name."""
    if current_user.is_authenticated:
        return person_viewer(board, current_user), False
    if isinstance(token, str) and 0 < len(token) < 200:
        from hub.calendar.invitations import find_invitation

        invitation = _valid_invitation(find_invitation(token), board)
        if invitation is not None:
            return person_viewer(board, invitation.person, invited=True), False
    invitation = _joined_invitation(board)
    if invitation is not None:
        return person_viewer(board, invitation.person, invited=True), False
    known = read_guest_token(board, guest)
    if known is not None:
        return guest_viewer(board, *known), False
    typed = clean_guest_name(name)
    if typed is not None:
        return guest_viewer(board, new_guest_key(), typed), True
    return None, False
