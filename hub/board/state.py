"""What clients see of a board: posts, sections, comments and settings as JSON-ready dicts,
and the whole state of a board for one viewer (docs/board.md, "State")."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _

from hub.board.access import Viewer
from hub.board.content import link_domain
from hub.board.models import (
    Board,
    Comment,
    Post,
    PostState,
    Reaction,
    ReactionKind,
    Section,
)
from hub.extensions import db


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def name_of(enum_member) -> str:  # type: ignore[no-untyped-def]
    return enum_member.name.lower()


def board_dict(board: Board) -> dict:
    return {
        "id": board.id, "title": board.display_title, "layout": name_of(board.layout),
        "sort": name_of(board.sort), "reactions": name_of(board.reactions),
        "visibility": name_of(board.visibility), "comments_enabled": board.comments_enabled,
        "anonymous_allowed": board.anonymous_allowed, "needs_approval": board.needs_approval,
        "frozen": board.frozen_at(), "frozen_by_hand": board.frozen,
        "freeze_after_minutes": board.freeze_after_minutes, "seq": board.seq,
        "event_id": board.event_id,
    }


def section_dict(section: Section) -> dict:
    return {"id": section.id, "title": section.title, "position": section.position,
            "rev": section.rev}


def _image(post: Post) -> dict | None:
    image = post.image
    if image is None:
        return None
    return {"id": image.id,
            "url": url_for("board.image", board_id=post.board_id, key=image.key),
            "thumb_url": url_for("board.image", board_id=post.board_id, key=image.key,
                                 size="thumb"),
            "width": image.width, "height": image.height}


def counts_dict(post: Post) -> dict:
    return {"likes": post.likes, "score": post.score,
            "stars": round(post.stars_total / post.stars_count, 2) if post.stars_count else 0,
            "stars_count": post.stars_count, "comments": post.comments_count}


def post_dict(post: Post, *, reveal_author: bool = True) -> dict:
    """A post as clients see it; `reveal_author` False hides who wrote an anonymous post."""
    hidden = post.anonymous and not reveal_author
    return {
        "id": post.id, "section_id": post.section_id,
        "author_key": None if hidden else post.author_key,
        "author_name": _("Anonymous") if hidden else post.author_name,
        "anonymous": post.anonymous, "body_html": post.body_html, "body": post.body,
        "link_url": post.link_url, "link_domain": link_domain(post.link_url) if post.link_url
        else "", "image": _image(post), "colour": post.colour, "state": name_of(post.state),
        "pinned": post.pinned, "position": post.position, **counts_dict(post),
        "created_at": iso(post.created_at), "updated_at": iso(post.updated_at), "rev": post.rev,
    }


def comment_dict(comment: Comment) -> dict:
    return {"id": comment.id, "post_id": comment.post_id, "author_key": comment.author_key,
            "author_name": comment.author_name, "body_html": comment.body_html,
            "created_at": iso(comment.created_at), "rev": comment.rev}


def visible_posts(board: Board, viewer: Viewer) -> list[Post]:
    """Moderators see every post that is not deleted; others the published ones and their own."""
    query = db.select(Post).where(Post.board_id == board.id, Post.deleted_at.is_(None))
    if not viewer.moderator:
        query = query.where(db.or_(Post.state == PostState.PUBLISHED,
                                   Post.author_key == viewer.key))
    return list(db.session.scalars(query.order_by(Post.position, Post.id)))


def sees_author(viewer: Viewer, post: Post) -> bool:
    return viewer.moderator or viewer.key == post.author_key


def _mine(viewer: Viewer, post_ids: list[int]) -> dict[int, dict]:
    mine: dict[int, dict] = {}
    if not post_ids:
        return mine
    rows = db.session.scalars(db.select(Reaction).where(
        Reaction.post_id.in_(post_ids), Reaction.author_key == viewer.key))
    for reaction in rows:
        entry = mine.setdefault(reaction.post_id, {"like": False, "vote": 0, "star": 0})
        if reaction.kind == ReactionKind.LIKE:
            entry["like"] = True
        elif reaction.kind == ReactionKind.VOTE:
            entry["vote"] = reaction.value
        else:
            entry["star"] = reaction.value
    return mine


def state_for(board: Board, viewer: Viewer) -> dict:
    """The whole board as `viewer` may see it."""
    posts = visible_posts(board, viewer)
    post_ids = [p.id for p in posts]
    comments = db.session.scalars(db.select(Comment).where(
        Comment.board_id == board.id, Comment.deleted_at.is_(None),
        Comment.post_id.in_(post_ids)).order_by(Comment.id)) if post_ids else []
    return {
        "board": board_dict(board), "viewer": viewer.as_dict(),
        "sections": [section_dict(s) for s in board.sections],
        "posts": [post_dict(p, reveal_author=sees_author(viewer, p)) for p in posts],
        "comments": [comment_dict(c) for c in comments],
        "mine": {str(k): v for k, v in _mine(viewer, post_ids).items()},
        "head": board.seq,
    }
