"""The board's pages and HTTP endpoints: the page itself, its state as JSON, image upload and
download, standalone boards of a network, and the exports (CSV, printable page, PDF)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from hub.auth.permissions import is_municipal, require
from hub.board import limits, services
from hub.board.access import Viewer, board_open, in_network, resolve_viewer
from hub.board.export import board_csv, board_pdf, print_context
from hub.board.models import COLOURS, Board, BoardImage
from hub.board.services import BoardError
from hub.board.state import state_for
from hub.directory.models import Network, Role
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus

bp = Blueprint("board", __name__)
GUEST_HEADER = "X-Board-Guest"


def _event_board(event_id: int) -> Board:
    event = db.session.get(Event, event_id)
    if event is None or not event.board_enabled or event.status == EventStatus.DRAFT:
        abort(404)
    board = services.ensure_board(event)
    db.session.commit()
    return board


def _board(board_id: int) -> Board:
    board = db.session.get(Board, board_id)
    if board is None:
        abort(404)
    return board


def _viewer_or_abort(board: Board) -> Viewer:
    viewer, _new = resolve_viewer(board, guest=request.headers.get(GUEST_HEADER))
    if viewer is None:
        abort(403)
    return viewer


def _timezone(board: Board) -> str:
    return board.event.timezone if board.event is not None else str(get_timezone())


def _boot(board: Board, viewer: Viewer | None) -> dict:
    config = current_app.config
    return {
        "state": state_for(board, viewer) if viewer else None,
        "board_id": board.id,
        "socket": {"namespace": "/board", "auth": {"board": board.id}},
        "urls": {"state": url_for("board.state", board_id=board.id),
                 "images": url_for("board.upload_image", board_id=board.id),
                 "export_csv": url_for("board.export_csv", board_id=board.id),
                 "export_pdf": url_for("board.export_pdf", board_id=board.id),
                 "print": url_for("board.print_view", board_id=board.id)},
        "csrf_token": generate_csrf(),
        "needs_name": viewer is None,
        "colours": list(COLOURS),
        "limits": {"post_chars": config["BOARD_POST_MAX_CHARS"],
                   "comment_chars": config["BOARD_COMMENT_MAX_CHARS"],
                   "image_bytes": config["BOARD_IMAGE_MAX_BYTES"]},
    }


def _page(board: Board):  # type: ignore[no-untyped-def]
    viewer, _new = resolve_viewer(board)
    if viewer is None and board.visibility.name != "LINK":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.path))
        abort(403)
    if viewer is None and not board_open(board):
        abort(404)
    return render_template("board/board.html", board=board, event=board.event,
                           boot=_boot(board, viewer))


@bp.get("/events/<int:event_id>/board")
def event_board(event_id: int):  # type: ignore[no-untyped-def]
    """The event's live board (a stable URL: it goes into letters and calendars)."""
    return _page(_event_board(event_id))


@bp.get("/boards/<int:board_id>")
def board_page(board_id: int):  # type: ignore[no-untyped-def]
    board = _board(board_id)
    if board.event_id is not None:
        return redirect(url_for("board.event_board", event_id=board.event_id))
    return _page(board)


@bp.app_context_processor
def _network_boards() -> dict:
    """For the network page: `network_boards(net)` and `may_make_boards(net)`."""

    def boards(network: Network) -> list[Board]:
        return list(db.session.scalars(db.select(Board).where(
            Board.network_id == network.id, Board.event_id.is_(None)).order_by(Board.id.desc())))

    return {"network_boards": boards, "may_make_boards": _may_make_boards}


def _may_make_boards(network: Network) -> bool:
    if not current_user.is_authenticated:
        return False
    if is_municipal(current_user):
        return True
    return current_user.role == Role.ORG_COORDINATOR and in_network(current_user, {network.id})


@bp.post("/networks/<int:network_id>/boards")
@login_required
def create_board(network_id: int):  # type: ignore[no-untyped-def]
    """A coordinator makes a standalone board of a network association."""
    network = db.session.get(Network, network_id)
    if network is None:
        abort(404)
    require(_may_make_boards(network))
    try:
        board = services.create_standalone(network.id, request.form.get("title", ""),
                                           current_user.id)
    except BoardError as error:
        flash(error.message, "error")
        return redirect(url_for("directory.network", network_id=network.id))
    db.session.commit()
    return redirect(url_for("board.board_page", board_id=board.id))


@bp.get("/boards/<int:board_id>/state.json")
def state(board_id: int):  # type: ignore[no-untyped-def]
    board = _board(board_id)
    return jsonify(state_for(board, _viewer_or_abort(board)))


def _refusal(message: str, code: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(ok=False, error=message, code=code), status


@bp.post("/boards/<int:board_id>/images")
def upload_image(board_id: int):  # type: ignore[no-untyped-def]
    """Upload a picture for a post (multipart field `image`); answers with its id and URLs."""
    board = _board(board_id)
    viewer = _viewer_or_abort(board)
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return _refusal(_("Choose a picture to upload."), "empty")
    limit = current_app.config["BOARD_IMAGE_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    try:
        limits.hit("write", viewer.key)
        image = services.add_image(board, viewer, data)
    except BoardError as error:
        db.session.rollback()
        return _refusal(error.message, error.code, 429 if error.code == "rate_limited" else 400)
    db.session.commit()
    return jsonify(ok=True, image={
        "id": image.id, "width": image.width, "height": image.height,
        "url": url_for("board.image", board_id=board.id, key=image.key),
        "thumb_url": url_for("board.image", board_id=board.id, key=image.key, size="thumb")})


@bp.get("/boards/<int:board_id>/images/<key>")
@bp.get("/boards/<int:board_id>/images/<key>/<any(thumb):size>")
def image(board_id: int, key: str, size: str | None = None):  # type: ignore[no-untyped-def]
    board = _board(board_id)
    _viewer_or_abort(board)
    picture = db.session.scalar(db.select(BoardImage).where(BoardImage.key == key,
                                                           BoardImage.board_id == board.id))
    if picture is None:
        abort(404)
    data = picture.thumbnail if size else picture.data
    mimetype = _thumb_type(data) if size else picture.content_type
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def _thumb_type(data: bytes) -> str:
    return "image/webp" if data[8:12] == b"WEBP" else "image/jpeg"


def _export_state(board_id: int) -> tuple[Board, dict]:
    board = _board(board_id)
    return board, state_for(board, _viewer_or_abort(board))


def _download(data: bytes, mimetype: str, board: Board, extension: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="board-{board.id}.{extension}"')
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/boards/<int:board_id>/export.csv")
def export_csv(board_id: int):  # type: ignore[no-untyped-def]
    board, data = _export_state(board_id)
    return _download(board_csv(data, timezone=_timezone(board)),
                     "text/csv; charset=utf-8", board, "csv")


@bp.get("/boards/<int:board_id>/export.pdf")
def export_pdf(board_id: int):  # type: ignore[no-untyped-def]
    board, data = _export_state(board_id)
    pdf = board_pdf(data, timezone=_timezone(board), title=board.display_title)
    return _download(pdf, "application/pdf", board, "pdf")


@bp.get("/boards/<int:board_id>/print")
def print_view(board_id: int):  # type: ignore[no-untyped-def]
    board, data = _export_state(board_id)
    return render_template("board/print.html", board=board,
                           **print_context(data, timezone=_timezone(board),
                                           title=board.display_title))


@bp.get("/events/<int:event_id>/board/export.<any(csv, pdf):fmt>")
def event_board_export(event_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """The event page's link to its board's record (the board is made if it was never used)."""
    board = _event_board(event_id)
    endpoint = "board.export_csv" if fmt == "csv" else "board.export_pdf"
    return redirect(url_for(endpoint, board_id=board.id))
