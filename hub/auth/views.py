"""Sign-in, sign-out, emailed sign-in links, password reset and password change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from hub.auth import services
from hub.auth.forms import (
    NEW_PASSWORD_MIN,
    ChangePasswordForm,
    ConfirmForm,
    EmailLinkForm,
    LoginForm,
    ResetPasswordForm,
    normalize_login_email,
)
from hub.auth.models import TokenPurpose
from hub.core.safety import safe_next_url
from hub.directory.models import Person
from hub.extensions import db, limiter
from hub.extensions import login as login_manager

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

#: The session key holding services.session_fingerprint() of the signed-in person.
FINGERPRINT_KEY = "_auth_fp"
#: Session keys that survive signing in and out (the visitor's own choices, not credentials).
_KEPT_KEYS = ("lang",)

#: Defaults for the emailed-link limits (override in config). Per client address, and per
#: email address so that nobody can flood a colleague's mailbox from many addresses.
EMAIL_LINK_RATE_LIMIT = "5 per minute;30 per hour"
EMAIL_LINK_PER_ADDRESS_LIMIT = "3 per 15 minutes;10 per day"


@bp.record_once
def _configure_login_manager(state: Any) -> None:
    """The message Flask-Login shows on the way to the sign-in page, in the viewer's language."""
    login_manager.login_message = _l("Please sign in to open this page.")
    login_manager.localize_callback = str


# --- helpers ------------------------------------------------------------------------------


def _config_limit(key: str, default: str) -> Callable[[], str]:
    return lambda: current_app.config.get(key) or default


def _email_key() -> str:
    """Rate-limit key: the address typed in the form (the client address when there is none)."""
    email = normalize_login_email(request.form.get("email", ""))[:254]
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


login_limit = limiter.limit(_config_limit("LOGIN_RATE_LIMIT", "10 per minute"), methods=["POST"])
link_ip_limit = limiter.limit(_config_limit("EMAIL_LINK_RATE_LIMIT", EMAIL_LINK_RATE_LIMIT),
                              methods=["POST"])
link_address_limit = limiter.limit(
    _config_limit("EMAIL_LINK_PER_ADDRESS_LIMIT", EMAIL_LINK_PER_ADDRESS_LIMIT),
    key_func=_email_key, methods=["POST"])


def _no_store(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages with credentials or tokens: never cached, never sent on as a Referer."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def _locale() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _start_session(person: Person, *, remember: bool = False) -> None:
    """Sign `person` in on a fresh session (nothing from before survives but the language:
    no session fixation). "Remember me" makes the session cookie outlive the browser
    (PERMANENT_SESSION_LIFETIME) instead of using a separate remember cookie, so a password
    change ends every other session, remembered ones too."""
    kept = {k: session[k] for k in _KEPT_KEYS if k in session}
    session.clear()
    session.update(kept)
    login_user(person, remember=False, fresh=True)
    session.permanent = remember
    session[FINGERPRINT_KEY] = services.session_fingerprint(person)


def _end_session() -> None:
    kept = {k: session[k] for k in _KEPT_KEYS if k in session}
    logout_user()
    session.clear()
    session.update(kept)


@bp.before_app_request
def _end_outdated_session() -> None:
    """A session signed in before the password changed (elsewhere) is signed out."""
    if request.endpoint == "static" or FINGERPRINT_KEY not in session:
        return
    if not current_user.is_authenticated:
        return
    if session[FINGERPRINT_KEY] != services.session_fingerprint(current_user):
        _end_session()


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError):  # type: ignore[no-untyped-def]
    """A stale or missing form token (a page left open for long, cookies cleared): show the
    form again with an explanation rather than an error page."""
    flash(_("The form was open for too long or came from another site. Please try again."),
          "warning")
    if request.endpoint == "auth.logout":
        return redirect(url_for("core.home"))
    return redirect(request.full_path if request.query_string else request.path)


# --- password sign-in ---------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@login_limit
@_no_store
def login():  # type: ignore[no-untyped-def]
    next_url = safe_next_url(request.args.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("core.home"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        attempt = services.authenticate(form.email.data, form.password.data)
        db.session.commit()
        if attempt.ok:
            _start_session(attempt.person, remember=bool(form.remember.data))
            return redirect(next_url or url_for("core.home"))
        failed = True
        form.password.data = ""
    return render_template("auth/login.html", form=form, failed=failed, next_url=next_url,
                           max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                           lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        _end_session()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


# --- sign-in by emailed link --------------------------------------------------------------


@bp.route("/login/link", methods=["GET", "POST"])
@link_ip_limit
@link_address_limit
def request_link():  # type: ignore[no-untyped-def]
    form = EmailLinkForm()
    if form.validate_on_submit():
        services.request_sign_in_link(form.email.data, _locale())
        db.session.commit()
        return redirect(url_for("auth.check_email", what="link"))
    return render_template("auth/request_link.html", form=form)


@bp.get("/login/check-email")
def check_email():  # type: ignore[no-untyped-def]
    what = "reset" if request.args.get("what") == "reset" else "link"
    minutes = current_app.config[
        "PASSWORD_RESET_MINUTES" if what == "reset" else "SIGNIN_LINK_MINUTES"]
    return render_template("auth/check_email.html", what=what, minutes=minutes)


@bp.route("/login/link/<token>", methods=["GET", "POST"])
@login_limit
@_no_store
def link_signin(token: str):  # type: ignore[no-untyped-def]
    """GET only shows a button (mail scanners open links; they must not use them up);
    the POST of that button signs in."""
    form = ConfirmForm()
    if form.validate_on_submit():
        person = services.consume_token(token, TokenPurpose.SIGN_IN)
        if person is not None:
            services.signed_in_by_link(person)
            db.session.commit()
            _start_session(person)
            flash(_("You are signed in. Welcome!"), "success")
            return redirect(url_for("core.home"))
        db.session.rollback()
    elif request.method == "GET":
        row = services.find_valid_token(token, TokenPurpose.SIGN_IN)
        if row is not None:
            return render_template("auth/link_signin.html", form=form, person=row.person)
    return _link_gone("link")


def _link_gone(what: str):  # type: ignore[no-untyped-def]
    """The same friendly page for unknown, used and expired links (410 Gone)."""
    return render_template("auth/link_gone.html", what=what, form=EmailLinkForm(formdata=None)), 410


# --- password reset -----------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@link_ip_limit
@link_address_limit
def forgot_password():  # type: ignore[no-untyped-def]
    form = EmailLinkForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, _locale())
        db.session.commit()
        return redirect(url_for("auth.check_email", what="reset"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@login_limit
@_no_store
def reset_password(token: str):  # type: ignore[no-untyped-def]
    row = services.find_valid_token(token, TokenPurpose.PASSWORD_RESET)
    if row is None:
        return _link_gone("reset")
    person = row.person
    form = ResetPasswordForm(account_email=person.email)
    if form.validate_on_submit():
        if services.reset_password(token, form.new_password.data, _locale()) is None:
            db.session.rollback()
            return _link_gone("reset")
        db.session.commit()
        _start_session(person)
        flash(_("Your new password is saved and you are signed in."), "success")
        return redirect(url_for("core.home"))
    return render_template("auth/reset_password.html", form=form, person=person,
                           min_length=NEW_PASSWORD_MIN)


# --- password change ----------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@login_limit
@_no_store
def change_password():  # type: ignore[no-untyped-def]
    person: Person = current_user._get_current_object()  # type: ignore[attr-defined]
    has_password = bool(person.password_hash)
    form = ChangePasswordForm(account_email=person.email, needs_current=has_password)
    if form.validate_on_submit():
        if has_password and not services.check_current_password(
                person, form.current_password.data):
            form.current_password.errors.append(_("The current password is not right."))
        elif has_password and services.check_current_password(person, form.new_password.data):
            form.new_password.errors.append(
                _("The new password is the same as the current one."))
        else:
            services.set_password(person, form.new_password.data, _locale())
            db.session.commit()
            session[FINGERPRINT_KEY] = services.session_fingerprint(person)
            flash(_("Your password has been changed. Other devices have been signed out."),
                  "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form, has_password=has_password,
                           min_length=NEW_PASSWORD_MIN)
