"""The board's operations, shared by the socket handlers and the HTTP views.

Each operation checks what the viewer may do, writes, and records its changes (`BoardChange`);
the caller commits, and the changes are numbered and stored in that same transaction just
before it commits (hub/board/numbering.py), then broadcast after the commit (hub/board/live.py), so
nothing is sent that was not stored.
Refusals raise `BoardError` with a message for people and change nothing. Rate limits are
the entry points' business (hub/board/events.py, views.py), not the operations'.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from hub.board.access import Viewer
from hub.board.content import ContentError, clean_link, clean_text, render_markdown
from hub.board.images import ImageRejected, process_image
from hub.board.models import (
    COLOURS,
    Board,
    BoardChange,
    BoardImage,
    Comment,
    Layout,
    Post,
    PostState,
    Reaction,
    ReactionKind,
    Reactions,
    Section,
    SortOrder,
    Visibility,
)
from hub.board.numbering import PENDING_KEY, client_form
from hub.board.state import (
    board_dict,
    comment_dict,
    counts_dict,
    post_dict,
    section_dict,
    state_for,
)
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import Event

SECTION_TITLE_MAX = 120


class BoardError(Exception):
    """A refusal: `message` is for people, `code` for programs."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- boards ----------------------------------------------------------------------------------

def board_of_event(event: Event) -> Board | None:
    return db.session.scalar(db.select(Board).where(Board.event_id == event.id))


def ensure_board(event: Event) -> Board:
    """The event's board, made on first use (two first visitors at once get the same one)."""
    board = board_of_event(event)
    if board is not None:
        return board
    board = Board(event_id=event.id, created_by_id=event.created_by_id)
    try:
        with db.session.begin_nested():
            db.session.add(board)
    except IntegrityError:
        board = board_of_event(event)
        assert board is not None
    return board


def create_standalone(network_id: int, title: str, creator_id: int) -> Board:
    title = clean_text(title, max_chars=300, field="title")
    if not title:
        raise BoardError(_("Give the board a title."), "invalid")
    board = Board(network_id=network_id, title=title, created_by_id=creator_id)
    db.session.add(board)
    db.session.flush()
    return board


_SAME = object()


def record(board: Board, payload: dict[str, Any], *, public: Any = _SAME,
           author_key: str | None = None, subject: Post | Comment | Section | None = None
           ) -> BoardChange:
    """Note one change of this transaction; `public` is what viewers other than moderators and
    `author_key` see, when that differs; `subject` is the row whose `rev` the change sets.
    The change gets its sequence number when the transaction commits (hub.board.numbering)."""
    change = BoardChange(board_id=board.id, author_key=author_key, payload=payload,
                         public=None if public is _SAME else public)
    change.subject = subject
    db.session.info.setdefault(PENDING_KEY, []).append(change)
    return change


def _post_change(board: Board, post: Post) -> None:
    db.session.flush()
    full = {"kind": "post", "post": post_dict(post)}
    if post.deleted_at is not None:
        record(board, {"kind": "post.removed", "id": post.id}, subject=post)
    elif post.state == PostState.PENDING:
        record(board, full, public={"kind": "skip"}, author_key=post.author_key, subject=post)
    elif post.state == PostState.HIDDEN:
        record(board, full, public={"kind": "post.removed", "id": post.id},
               author_key=post.author_key, subject=post)
    elif post.anonymous:
        record(board, full, public={"kind": "post", "post": post_dict(post, reveal_author=False)},
               author_key=post.author_key, subject=post)
    else:
        record(board, full, subject=post)


_COUNTS = ("likes", "score", "stars_total", "stars_count", "comments_count")


def _bump_counts(board: Board, post: Post, **deltas: int) -> None:
    """Add to the post's counts in SQL (no lost update between two writers: the row is locked
    until the commit) and record the counts as they now are."""
    table = Post.__table__
    values = {name: table.c[name] + delta for name, delta in deltas.items()}
    row = db.session.execute(update(table).where(table.c.id == post.id).values(**values)
                             .returning(*(table.c[name] for name in _COUNTS))).one()
    for name, value in zip(_COUNTS, row, strict=True):
        set_committed_value(post, name, value)
    record(board, {"kind": "counts", "id": post.id, **counts_dict(post)})


# -- input -----------------------------------------------------------------------------------

def _require_dict(data: object) -> dict:
    if not isinstance(data, dict):
        raise BoardError(_("The request is not understood."), "invalid")
    return data


def _id(data: dict, field: str, *, optional: bool = False) -> int | None:
    value = data.get(field)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**53:
        raise BoardError(_("The request is not understood."), "invalid")
    return value


def _post(board: Board, post_id: int | None) -> Post:
    post = db.session.get(Post, post_id) if post_id else None
    if post is None or post.board_id != board.id:
        raise BoardError(_("There is no such post on this board."), "not_found")
    if post.deleted_at is not None:
        raise BoardError(_("This post has been deleted."), "deleted")
    return post


def _section(board: Board, section_id: int | None) -> Section | None:
    if section_id is None:
        return None
    section = db.session.get(Section, section_id)
    if section is None or section.board_id != board.id:
        raise BoardError(_("There is no such section on this board."), "not_found")
    return section


def _content(call, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
    try:
        return call(*args, **kwargs)
    except (ContentError, ImageRejected) as error:
        raise BoardError(str(error), "invalid") from None


# -- permissions -----------------------------------------------------------------------------

def _can_write(board: Board, viewer: Viewer) -> None:
    if not viewer.can_post:
        raise BoardError(_("The board is read-only now."), "frozen")


def _moderator(viewer: Viewer) -> None:
    if not viewer.moderator:
        raise BoardError(_("Only the board's moderators may do that."), "forbidden")


def _own_or_moderator(viewer: Viewer, author_key: str) -> None:
    if not (viewer.moderator or viewer.key == author_key):
        raise BoardError(_("You may change only your own posts."), "forbidden")


# -- posts -----------------------------------------------------------------------------------

def _max_position(board: Board, model: type[Post] | type[Section]) -> float:
    query = db.select(db.func.max(model.position)).where(model.board_id == board.id)
    return db.session.scalar(query) or 0.0


def _post_fields(board: Board, data: dict, post: Post | None) -> dict[str, Any]:
    """The changed fields of a post, checked; refuses a post with nothing in it."""
    config = current_app.config
    fields: dict[str, Any] = {}
    if "body" in data or post is None:
        body = _content(clean_text, data.get("body", ""), max_chars=config["BOARD_POST_MAX_CHARS"],
                        field="text")
        fields.update(body=body, body_html=render_markdown(body))
    if "link" in data or post is None:
        link = data.get("link") or ""
        fields["link_url"] = _content(clean_link, link) if link else ""
    if "image_id" in data or post is None:
        fields["image_id"] = _image_id(board, data)
    if "colour" in data or post is None:
        colour = data.get("colour") or "white"
        if colour not in COLOURS:
            raise BoardError(_("Choose one of the colours offered."), "invalid")
        fields["colour"] = colour
    merged = {key: fields.get(key, getattr(post, key, None))
              for key in ("body", "link_url", "image_id")}
    if not any(merged.values()):
        raise BoardError(_("Write something, add a link or a picture."), "empty")
    return fields


def _image_id(board: Board, data: dict) -> int | None:
    image_id = _id(data, "image_id", optional=True)
    if image_id is None:
        return None
    image = db.session.get(BoardImage, image_id)
    if image is None or image.board_id != board.id:
        raise BoardError(_("That picture is not on this board."), "not_found")
    return image.id


#: What a browser's key of a post may look like (random, URL-safe).
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _client_key(data: dict) -> str | None:
    """The post's key from the author's browser, if it sent one."""
    key = data.get("client_key")
    if key is None:
        return None
    if not isinstance(key, str) or not CLIENT_KEY.fullmatch(key):
        raise BoardError(_("The request is not understood."), "invalid")
    return key


def create_post(board: Board, viewer: Viewer, data: object) -> Post:
    """A new post; the same `client_key` again gives back the post it made (a resend)."""
    data = _require_dict(data)
    _can_write(board, viewer)
    client_key = _client_key(data)
    if client_key is not None:
        sent = db.session.scalar(db.select(Post).where(
            Post.board_id == board.id, Post.author_key == viewer.key,
            Post.client_key == client_key))
        if sent is not None:
            return sent
    section = _section(board, _id(data, "section_id", optional=True))
    anonymous = bool(data.get("anonymous")) and board.anonymous_allowed
    fields = _post_fields(board, data, None)
    post = Post(board_id=board.id, section_id=section.id if section else None,
                author_key=viewer.key, author_id=viewer.person_id, author_name=viewer.name,
                client_key=client_key,
                anonymous=anonymous, position=_max_position(board, Post) + 1,
                state=PostState.PENDING if board.needs_approval and not viewer.moderator
                else PostState.PUBLISHED, **fields)
    db.session.add(post)
    db.session.flush()
    _post_change(board, post)
    return post


def _post_to_change(board: Board, viewer: Viewer, data: dict) -> Post:
    """The post `data["id"]`, when this viewer may change it now."""
    post = _post(board, _id(data, "id"))
    _own_or_moderator(viewer, post.author_key)
    _can_write(board, viewer)
    return post


def update_post(board: Board, viewer: Viewer, data: object) -> Post:
    data = _require_dict(data)
    post = _post_to_change(board, viewer, data)
    for key, value in _post_fields(board, data, post).items():
        setattr(post, key, value)
    post.updated_at = utcnow()
    _post_change(board, post)
    return post


def delete_post(board: Board, viewer: Viewer, data: object) -> None:
    post = _post_to_change(board, viewer, _require_dict(data))
    post.deleted_at = utcnow()
    _post_change(board, post)


_MODERATION = {"approve": ("state", PostState.PUBLISHED), "hide": ("state", PostState.HIDDEN),
               "unhide": ("state", PostState.PUBLISHED), "pin": ("pinned", True),
               "unpin": ("pinned", False)}


def moderate_post(board: Board, viewer: Viewer, data: object) -> Post:
    data = _require_dict(data)
    _moderator(viewer)
    post = _post(board, _id(data, "id"))
    action = _MODERATION.get(data.get("action"))  # type: ignore[arg-type]
    if action is None:
        raise BoardError(_("The request is not understood."), "invalid")
    setattr(post, *action)
    _post_change(board, post)
    return post


def _position_before(board: Board, model: type[Post] | type[Section], before: Any,
                     scope: Any) -> float:
    """A position just before `before` (or after everything in `scope` when None)."""
    if before is None:
        return _max_position(board, model) + 1
    previous = db.session.scalar(db.select(db.func.max(model.position)).where(
        model.board_id == board.id, model.position < before.position, *scope))
    return before.position - 1 if previous is None else (previous + before.position) / 2


def move_post(board: Board, viewer: Viewer, data: object) -> Post:
    data = _require_dict(data)
    _moderator(viewer)
    post = _post(board, _id(data, "id"))
    section = _section(board, _id(data, "section_id", optional=True))
    before_id = _id(data, "before_id", optional=True)
    before = _post(board, before_id) if before_id else None
    if before is not None and before.id == post.id:
        raise BoardError(_("The request is not understood."), "invalid")
    post.section_id = section.id if section else None
    post.position = _position_before(board, Post, before, [Post.deleted_at.is_(None)])
    _post_change(board, post)
    return post


# -- reactions and comments ------------------------------------------------------------------

_KINDS = {"like": ReactionKind.LIKE, "vote": ReactionKind.VOTE, "star": ReactionKind.STAR}


def _reaction_value(board: Board, kind: ReactionKind, data: dict) -> int:
    value = data.get("value", 1)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BoardError(_("The request is not understood."), "invalid")
    if kind == ReactionKind.VOTE and (board.reactions != Reactions.VOTES
                                      or value not in (-1, 1)):
        raise BoardError(_("This board does not take votes."), "invalid")
    if kind == ReactionKind.STAR and (board.reactions != Reactions.STARS
                                      or not 0 <= value <= 5):
        raise BoardError(_("This board does not take stars."), "invalid")
    return value


def react(board: Board, viewer: Viewer, data: object) -> dict:
    """A like toggles (or is set, with `like`); the same vote again takes it back; 0 stars
    takes the stars back."""
    data = _require_dict(data)
    post = _post(board, _id(data, "post_id"))
    kind = _KINDS.get(data.get("kind"))  # type: ignore[arg-type]
    if kind is None:
        raise BoardError(_("The request is not understood."), "invalid")
    value = _reaction_value(board, kind, data)
    if post.state != PostState.PUBLISHED:
        raise BoardError(_("This post is not published."), "invalid")
    _can_write(board, viewer)
    existing = db.session.scalar(db.select(Reaction).where(
        Reaction.post_id == post.id, Reaction.author_key == viewer.key, Reaction.kind == kind))
    old = existing.value if existing else 0
    new = 0 if (existing and kind != ReactionKind.STAR and old == value) else value
    if kind == ReactionKind.LIKE:
        new = _wanted_like(data, existing is not None)
    if existing is not None and not new:
        db.session.delete(existing)
    elif existing is not None:
        existing.value = new
    elif new:
        db.session.add(Reaction(post_id=post.id, author_key=viewer.key, kind=kind, value=new))
    _bump_counts(board, post, **_count_deltas(kind, old, new))
    return {"like": bool(new)} if kind == ReactionKind.LIKE else {kind.name.lower(): new}


def _wanted_like(data: dict, liked: bool) -> int:
    """`like: true/false` sets the like (so that sending it again changes nothing); without
    it a like toggles."""
    wanted = data.get("like")
    if wanted is None:
        return 0 if liked else 1
    if not isinstance(wanted, bool):
        raise BoardError(_("The request is not understood."), "invalid")
    return int(wanted)


def _count_deltas(kind: ReactionKind, old: int, new: int) -> dict[str, int]:
    """How a reaction changing from `old` to `new` changes the post's counts."""
    if kind == ReactionKind.LIKE:
        return {"likes": new - old}
    if kind == ReactionKind.VOTE:
        return {"score": new - old}
    return {"stars_total": new - old, "stars_count": bool(new) - bool(old)}


def create_comment(board: Board, viewer: Viewer, data: object) -> Comment:
    data = _require_dict(data)
    post = _post(board, _id(data, "post_id"))
    if not board.comments_enabled:
        raise BoardError(_("Comments are switched off on this board."), "forbidden")
    if post.state != PostState.PUBLISHED:
        raise BoardError(_("This post is not published."), "invalid")
    _can_write(board, viewer)
    body = _content(clean_text, data.get("body"), field="comment",
                    max_chars=current_app.config["BOARD_COMMENT_MAX_CHARS"])
    if not body:
        raise BoardError(_("Write something first."), "empty")
    comment = Comment(post_id=post.id, board_id=board.id, author_key=viewer.key,
                      author_id=viewer.person_id, author_name=viewer.name, body=body,
                      body_html=render_markdown(body))
    db.session.add(comment)
    db.session.flush()
    record(board, {"kind": "comment", "comment": comment_dict(comment)}, subject=comment)
    _bump_counts(board, post, comments_count=1)
    return comment


def delete_comment(board: Board, viewer: Viewer, data: object) -> None:
    data = _require_dict(data)
    comment = db.session.get(Comment, _id(data, "id"))
    if comment is None or comment.board_id != board.id or comment.deleted_at is not None:
        raise BoardError(_("There is no such comment on this board."), "not_found")
    _own_or_moderator(viewer, comment.author_key)
    _can_write(board, viewer)
    comment.deleted_at = utcnow()
    record(board, {"kind": "comment.removed", "id": comment.id, "post_id": comment.post_id})
    _bump_counts(board, comment.post, comments_count=-1)


# -- sections --------------------------------------------------------------------------------

def _title(data: dict) -> str:
    title = _content(clean_text, data.get("title"), max_chars=SECTION_TITLE_MAX, field="title")
    if not title:
        raise BoardError(_("Give the section a title."), "empty")
    return " ".join(title.split())


def _section_change(board: Board, section: Section) -> None:
    db.session.flush()
    record(board, {"kind": "section", "section": section_dict(section)}, subject=section)


def create_section(board: Board, viewer: Viewer, data: object) -> Section:
    data = _require_dict(data)
    _moderator(viewer)
    section = Section(board_id=board.id, title=_title(data),
                      position=_max_position(board, Section) + 1)
    db.session.add(section)
    _section_change(board, section)
    return section


def _section_to_change(board: Board, viewer: Viewer, data: dict) -> Section:
    """The section `data["id"]`, when this viewer (a moderator) may change it."""
    _moderator(viewer)
    section = _section(board, _id(data, "id"))
    assert section is not None  # _id without optional=True never gives None
    return section


def update_section(board: Board, viewer: Viewer, data: object) -> Section:
    data = _require_dict(data)
    section = _section_to_change(board, viewer, data)
    section.title = _title(data)
    _section_change(board, section)
    return section


def move_section(board: Board, viewer: Viewer, data: object) -> Section:
    data = _require_dict(data)
    section = _section_to_change(board, viewer, data)
    before = _section(board, _id(data, "before_id", optional=True))
    if before is not None and before.id == section.id:
        raise BoardError(_("The request is not understood."), "invalid")
    section.position = _position_before(board, Section, before, [])
    _section_change(board, section)
    return section


def delete_section(board: Board, viewer: Viewer, data: object) -> None:
    """Delete a section; its posts stay on the board without a section."""
    section = _section_to_change(board, viewer, _require_dict(data))
    posts = db.session.scalars(db.select(Post).where(Post.section_id == section.id,
                                                     Post.deleted_at.is_(None)))
    for post in posts:
        post.section_id = None
        _post_change(board, post)
    record(board, {"kind": "section.removed", "id": section.id})
    db.session.delete(section)


# -- settings --------------------------------------------------------------------------------

_ENUMS = {"layout": Layout, "sort": SortOrder, "reactions": Reactions, "visibility": Visibility}
_FLAGS = ("comments_enabled", "anonymous_allowed", "needs_approval", "frozen")
FREEZE_AFTER_MAX = 60 * 24 * 365


def _setting(field: str, value: object) -> Any:
    if field in _ENUMS:
        try:
            return _ENUMS[field][str(value).upper()]
        except KeyError:
            raise BoardError(_("The request is not understood."), "invalid") from None
    if field in _FLAGS:
        if not isinstance(value, bool):
            raise BoardError(_("The request is not understood."), "invalid")
        return value
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= FREEZE_AFTER_MAX:
        raise BoardError(_("Freeze the board between 0 minutes and a year after the event."),
                         "invalid")
    return value


def update_board(board: Board, viewer: Viewer, data: object) -> Board:
    data = _require_dict(data)
    _moderator(viewer)
    allowed = (*_ENUMS, *_FLAGS, "freeze_after_minutes")
    unknown = set(data) - set(allowed)
    if unknown or not data:
        raise BoardError(_("The request is not understood."), "invalid")
    for field, value in {f: _setting(f, data[f]) for f in data}.items():
        setattr(board, field, value)
    record(board, {"kind": "board", "board": board_dict(board)})
    return board


# -- images ----------------------------------------------------------------------------------

def add_image(board: Board, viewer: Viewer, data: bytes) -> BoardImage:
    """A picture for a post: checked, re-encoded and stored with its thumbnail."""
    _can_write(board, viewer)
    picture = _content(process_image, data, max_bytes=current_app.config["BOARD_IMAGE_MAX_BYTES"])
    image = BoardImage(board_id=board.id, author_key=viewer.key,
                       content_type=picture.content_type, width=picture.width,
                       height=picture.height, data=picture.data, thumbnail=picture.thumbnail)
    db.session.add(image)
    db.session.flush()
    return image


# -- catching up -----------------------------------------------------------------------------

def visible_form(change: BoardChange, viewer: Viewer) -> dict:
    """The form of a change this viewer receives."""
    if change.public is None or viewer.moderator or viewer.key == change.author_key:
        return client_form(change.payload, change.seq)
    return client_form(change.public, change.seq)


def sync(board: Board, viewer: Viewer, data: object) -> dict:
    """Exactly the changes after `after`, or the whole state when too far behind."""
    data = _require_dict(data)
    after = data.get("after", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise BoardError(_("The request is not understood."), "invalid")
    head = board.seq
    if after > head or head - after > current_app.config["BOARD_SYNC_MAX_CHANGES"]:
        return {"head": head, "state": state_for(board, viewer)}
    changes = db.session.scalars(db.select(BoardChange).where(
        BoardChange.board_id == board.id, BoardChange.seq > after).order_by(BoardChange.seq))
    return {"head": head, "changes": [visible_form(c, viewer) for c in changes]}
