"""Feedback pages: the survey a participant opens from their letter (/feedback/<token>, no
sign-in: the token is the key), the results of one event, and the summary per organiser."""

from __future__ import annotations

from flask import Response, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.auth.permissions import can_edit_event, coordinators_only, is_municipal, require
from hub.calendar.ics import event_zone
from hub.calendar.messages import person_locale, span_text
from hub.extensions import db
from hub.growth import feedback
from hub.growth.feedback_forms import SurveyForm
from hub.growth.feedback_jobs import register_jobs
from hub.growth.models import FeedbackRequest
from hub.growth.views import bp
from hub.scheduling.models import Event

bp.record_once(lambda state: register_jobs())


def _private(page: str, code: int) -> Response:
    """A page reached by a personal link: not cached, not indexed, no referrer."""
    response = Response(page, status=code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _survey_page(survey: FeedbackRequest, form: SurveyForm, token: str, *,
                 code: int = 200) -> Response:
    person, event = survey.person, survey.event
    locale = session.get("lang") or person_locale(person)
    with force_locale(locale):
        when = span_text(event.start_at, event.end_at, event_zone(person.timezone), locale)
        page = render_template(
            "growth/feedback_survey.html", survey=survey, event=event, form=form,
            token=token, when=when, just_saved=request.args.get("saved") == "1",
            labels=feedback.USEFUL, chosen=feedback.useful_keys(survey.useful),
            ratings=feedback.RATINGS)
    return _private(page, code)


def _unknown_link() -> Response:
    page = render_template("growth/feedback_gone.html", message=_(
        "This survey link is not valid. Please open the link from your letter exactly as it "
        "is; if it still does not work, the survey may have been removed."))
    return _private(page, 404)


@bp.route("/feedback/<token>", methods=["GET", "POST"])
def feedback_survey(token: str):  # type: ignore[no-untyped-def]
    """The survey: shown, answered once (post/redirect/get), then shown as answered."""
    survey = feedback.find(token)
    if survey is None:
        return _unknown_link()
    form = SurveyForm()
    if survey.answered_at is not None:
        return _survey_page(survey, form, token, code=409 if form.is_submitted() else 200)
    if not form.validate_on_submit():
        return _survey_page(survey, form, token, code=400 if form.is_submitted() else 200)
    saved = feedback.answer(survey, int(form.rating.data), form.useful.data or [],
                            form.comment.data or "")
    db.session.commit()
    if not saved:  # answered meanwhile from another tab
        return _survey_page(survey, form, token, code=409)
    return redirect(url_for("growth.feedback_survey", token=token, saved=1))


@bp.get("/events/<int:event_id>/feedback")
@login_required
def event_feedback(event_id: int):  # type: ignore[no-untyped-def]
    """What the event's participants answered (its organisers and coordinators)."""
    event = db.get_or_404(Event, event_id)
    require(can_edit_event(current_user, event))
    return render_template("growth/feedback_results.html", event=event,
                           results=feedback.event_results(event), labels=feedback.USEFUL)


@bp.get("/feedback/organisers")
@coordinators_only
def feedback_organisers():  # type: ignore[no-untyped-def]
    """Per organiser: events, answers, average rating (the municipal coordinator: everyone;
    an organisation's coordinator: the organisers of their organisation)."""
    organisation_id = None if is_municipal(current_user) else current_user.organisation_id
    return render_template("growth/feedback_organisers.html",
                           rows=feedback.organiser_summary(organisation_id),
                           organisation=None if organisation_id is None
                           else current_user.organisation)
