"""The digital internship's pages: a program's progress per mentor–intern pair, and the
mentor's confirmation that an intern completed it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from hub.auth.permissions import require
from hub.extensions import db
from hub.growth import internship
from hub.growth.views import bp
from hub.scheduling.models import Series


class ConfirmForm(FlaskForm):
    """The mentor's confirmation, with an optional comment."""

    comment = TextAreaField(validators=[Length(max=internship.COMMENT_MAX)])


def _program(series_id: int) -> Series:
    series = db.get_or_404(Series, series_id)
    if not series.is_program:
        abort(404)
    require(internship.can_view(current_user, series))
    return series


@bp.app_context_processor
def _internship_helpers() -> dict:
    """`can_view_internship(series)` for templates/growth/_internship_link.html."""
    return {"can_view_internship": lambda series: internship.can_view(current_user, series)}


@bp.get("/programs/<int:series_id>/internship")
@login_required
def internship_progress(series_id: int):  # type: ignore[no-untyped-def]
    """The program's progress table: everyone's for its organisers and coordinators, a
    mentor's own pairs, an intern's own row."""
    series = _program(series_id)
    pairs = internship.progress(series)
    visible = internship.visible_pairs(current_user, series, pairs)
    confirmable = {p.intern.id for p in visible if p.state == internship.State.READY
                   and internship.can_confirm(current_user, series,
                                              internship.member_of(series, p.intern.id))}
    return render_template(
        "growth/internship.html", series=series, pairs=visible,
        sessions=internship.sessions_of(series), confirmable=confirmable,
        manager=internship.can_manage(current_user, series), states=internship.State,
        form=ConfirmForm())


def _refusal(reason: str) -> str:
    return {
        "not_allowed": _("Only the intern's mentor (or the program's organiser) can confirm "
                         "the completion."),
        "not_reached": _("The intern has not reached the program's attendance threshold yet: "
                         "completion can be confirmed only when it is reached."),
        "already": _("This intern's completion has already been confirmed."),
    }.get(reason, _("This person is not an intern of the program."))


@bp.post("/programs/<int:series_id>/internship/<int:intern_id>/confirm")
@login_required
def internship_confirm(series_id: int, intern_id: int):  # type: ignore[no-untyped-def]
    """The mentor confirms that the intern completed the program."""
    series = _program(series_id)
    member = internship.member_of(series, intern_id)
    if member is None:
        return render_template("core/error.html", code=404, message=_refusal("not_intern")), 404
    require(internship.can_confirm(current_user, series, member))
    back = redirect(url_for("growth.internship_progress", series_id=series.id))
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The comment is too long: at most %(n)d characters.",
                n=internship.COMMENT_MAX), "error")
        return back
    try:
        internship.confirm(series, member.person, current_user, form.comment.data or "")
    except internship.InternshipError as error:
        flash(_refusal(str(error)), "error")
        return back
    db.session.commit()
    flash(_("Completion confirmed: %(name)s has completed the program.",
            name=member.person.full_name), "success")
    return back
