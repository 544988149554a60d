"""The live board: a board per event (or a network's standalone board), its sections, posts,
reactions and comments, uploaded images, and the numbered log of changes that clients replay.

Every change to a board is stored as a `BoardChange` with the board's next sequence number in
the same transaction as the change itself, and only then broadcast. A client that reconnects
asks for the changes after the last number it saw (see docs/board.md).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.extensions import db

if TYPE_CHECKING:
    from hub.directory.models import Network, Person
    from hub.scheduling.models import Event


class Layout(LabelledEnum):
    WALL = 1  # cards in a grid
    COLUMNS = 2  # a column per section (Padlet's shelf)
    STREAM = 3  # one column, newest first

    @classmethod
    def labels(cls) -> dict:
        return {cls.WALL: _l("Wall"), cls.COLUMNS: _l("Columns"), cls.STREAM: _l("Stream")}


class SortOrder(LabelledEnum):
    MANUAL = 1
    NEWEST = 2
    LIKED = 3

    @classmethod
    def labels(cls) -> dict:
        return {cls.MANUAL: _l("Manual order"), cls.NEWEST: _l("Newest first"),
                cls.LIKED: _l("Most liked")}


class Reactions(LabelledEnum):
    """What participants give posts: a like (always), up/down votes, or 1–5 stars."""

    LIKES = 1
    VOTES = 2
    STARS = 3

    @classmethod
    def labels(cls) -> dict:
        return {cls.LIKES: _l("Likes"), cls.VOTES: _l("Likes and up/down votes"),
                cls.STARS: _l("Likes and 1–5 stars")}


class Visibility(LabelledEnum):
    """Who may see the board and post on it (moderators always may)."""

    PARTICIPANTS = 1  # the event's participants (the event page's audience)
    LINK = 2  # anyone with the link, guests without an account included
    NETWORK = 3  # the people of the event's (or board's) network association

    @classmethod
    def labels(cls) -> dict:
        return {cls.PARTICIPANTS: _l("The event's participants"),
                cls.LINK: _l("Anyone with the link"),
                cls.NETWORK: _l("The network association")}


class PostState(LabelledEnum):
    PENDING = 1  # waits for a moderator: seen by its author and the moderators only
    PUBLISHED = 2
    HIDDEN = 3  # hidden by a moderator: seen by the moderators only

    @classmethod
    def labels(cls) -> dict:
        return {cls.PENDING: _l("awaiting approval"), cls.PUBLISHED: _l("published"),
                cls.HIDDEN: _l("hidden")}


#: Card colours a post may have (CSS classes board-colour-<name>).
COLOURS = ("white", "yellow", "green", "blue", "pink", "purple", "orange")

#: Default minutes after the event's end at which its board freezes by itself.
DEFAULT_FREEZE_AFTER_MINUTES = 24 * 60


class Board(db.Model):
    """The live board of one event, or a network association's standalone board."""

    __tablename__ = "board"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The event the board belongs to; None for a standalone board of a network.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), unique=True)
    #: A standalone board's network association (an event's board uses the event's network).
    network_id: Mapped[int | None] = mapped_column(ForeignKey("network.id"), index=True)
    #: A standalone board's title (an event's board shows the event's).
    title: Mapped[str] = mapped_column(String(300), default="")
    layout: Mapped[Layout] = mapped_column(IntEnum(Layout), default=Layout.WALL)
    sort: Mapped[SortOrder] = mapped_column(IntEnum(SortOrder), default=SortOrder.MANUAL)
    reactions: Mapped[Reactions] = mapped_column(IntEnum(Reactions), default=Reactions.LIKES)
    visibility: Mapped[Visibility] = mapped_column(
        IntEnum(Visibility), default=Visibility.PARTICIPANTS)
    comments_enabled: Mapped[bool] = mapped_column(default=True)
    anonymous_allowed: Mapped[bool] = mapped_column(default=False)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    #: Frozen by a moderator: read-only until they unfreeze it.
    frozen: Mapped[bool] = mapped_column(default=False)
    #: An event's board freezes by itself this many minutes after the event ends (None: never).
    freeze_after_minutes: Mapped[int | None] = mapped_column(
        default=DEFAULT_FREEZE_AFTER_MINUTES)
    #: The sequence number of the last change (the board's row is the counter).
    seq: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event | None] = relationship()
    network: Mapped[Network | None] = relationship()
    sections: Mapped[list[Section]] = relationship(
        back_populates="board", order_by="Section.position", cascade="all, delete-orphan")

    def frozen_at(self, now: datetime | None = None) -> bool:
        """Read-only now: frozen by hand, or past the automatic freeze after the event."""
        if self.frozen:
            return True
        if self.event is None or self.freeze_after_minutes is None:
            return False
        now = now or utcnow()
        return now >= self.event.end_at + timedelta(minutes=self.freeze_after_minutes)

    @property
    def display_title(self) -> str:
        return self.event.title if self.event is not None else self.title


class Section(db.Model):
    """A section of a board (a column in the columns layout)."""

    __tablename__ = "board_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    position: Mapped[float] = mapped_column(default=0.0)
    #: The sequence number of the section's last change.
    rev: Mapped[int] = mapped_column(default=0)

    board: Mapped[Board] = relationship(back_populates="sections")


class Post(db.Model):
    """A card on the board: text, a link, an image, a colour; by a person or a guest."""

    __tablename__ = "board_post"
    __table_args__ = (Index("ix_board_post_board_section", "board_id", "section_id"),
                      UniqueConstraint("board_id", "author_key", "client_key",
                                       name="uq_board_post_client_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("board_section.id", ondelete="SET NULL"))
    #: Who wrote it: "p<person id>", "i<invitation id>" (joined from a personal link without
    #: signing in) or "g<random>" (a guest of a board open to anyone with the link).
    author_key: Mapped[str] = mapped_column(String(40), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: The key the author's browser gave this post when it first sent it: sending again (the
    #: answer was lost with the connection) gives back this post instead of a second one.
    client_key: Mapped[str | None] = mapped_column(String(64))
    #: The name shown (a guest's own, or the person's at the time of posting).
    author_name: Mapped[str] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: What the author typed (a safe subset of Markdown) and the sanitised HTML made from it.
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    link_url: Mapped[str] = mapped_column(String(2000), default="")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("board_image.id"))
    colour: Mapped[str] = mapped_column(String(16), default="white")
    state: Mapped[PostState] = mapped_column(IntEnum(PostState), default=PostState.PUBLISHED)
    pinned: Mapped[bool] = mapped_column(default=False)
    #: Manual order within the section (smaller first).
    position: Mapped[float] = mapped_column(default=0.0)
    likes: Mapped[int] = mapped_column(default=0)
    #: Up votes minus down votes, and the stars given (sum and count): kept with the reactions.
    score: Mapped[int] = mapped_column(default=0)
    stars_total: Mapped[int] = mapped_column(default=0)
    stars_count: Mapped[int] = mapped_column(default=0)
    comments_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Deleted posts stay as tombstones (the change log and exports refer to them).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The sequence number of the post's last change.
    rev: Mapped[int] = mapped_column(default=0)

    board: Mapped[Board] = relationship()
    section: Mapped[Section | None] = relationship()
    author: Mapped[Person | None] = relationship()
    image: Mapped[BoardImage | None] = relationship()


class ReactionKind(LabelledEnum):
    LIKE = 1
    VOTE = 2  # value +1 or -1
    STAR = 3  # value 1..5

    @classmethod
    def labels(cls) -> dict:
        return {cls.LIKE: _l("like"), cls.VOTE: _l("vote"), cls.STAR: _l("stars")}


class Reaction(db.Model):
    """One person's like, vote or stars on one post."""

    __tablename__ = "board_reaction"
    __table_args__ = (UniqueConstraint("post_id", "author_key", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_post.id"), index=True)
    author_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[ReactionKind] = mapped_column(IntEnum(ReactionKind))
    value: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(db.Model):
    """A comment under a post."""

    __tablename__ = "board_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("board_post.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    author_key: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rev: Mapped[int] = mapped_column(default=0)

    post: Mapped[Post] = relationship()


def new_image_key() -> str:
    return secrets.token_urlsafe(18)


class BoardImage(db.Model):
    """An uploaded picture, re-encoded, with its thumbnail. Kept in the database so that every
    server process can serve it."""

    __tablename__ = "board_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    #: Random; the image's URL carries it.
    key: Mapped[str] = mapped_column(String(40), unique=True, default=new_image_key)
    author_key: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BoardChange(db.Model):
    """One numbered change of a board, as clients receive it.

    `payload` is what moderators and the change's `author_key` see; `public` is what everyone
    else sees when that differs (a pending post is a "skip" for them, a hidden post a removal,
    an anonymous post has no author). None means everyone sees `payload`.
    """

    __tablename__ = "board_change"
    __table_args__ = (UniqueConstraint("board_id", "seq"),)
    __allow_unmapped__ = True  # for `subject`, which is not a column

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"))
    seq: Mapped[int]
    author_key: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    public: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Not stored: the post, comment or section whose `rev` becomes this change's number.
    subject: Any = None
