"""Presence checks with rotating codes: the codes, the rounds, the participant's answers (by
the service and by the page), the organiser's display and its JSON, and credit by checks."""

from __future__ import annotations

import re
from datetime import timedelta

import flask
import time_machine
from sqlalchemy import func, select

from hub.attendance import checkins, services
from hub.attendance.checkin_views import _qr_svg
from hub.attendance.checkins import CheckinError, Result
from hub.attendance.models import Attendance, CheckIn, CheckRound
from hub.auth.services import absolute_url
from hub.board.access import JOINED_SESSION_KEY, remember_join
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import Invitation


def inside(event, minutes: float = 10):  # type: ignore[no-untyped-def]
    """The clock `minutes` after the event's start (05:00 UTC: a window boundary), stopped."""
    return time_machine.travel(event.start_at + timedelta(minutes=minutes), tick=False)


def opened(event, people, minutes: int = 5) -> CheckRound:  # type: ignore[no-untyped-def]
    check_round = checkins.open_round(event, people.coordinator, minutes)
    db.session.commit()
    return check_round


def checks_of(person, event) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(CheckIn.id)).join(Attendance).where(
        Attendance.person_id == person.id, Attendance.event_id == event.id)) or 0


def wrong_code(check_round: CheckRound) -> str:
    """A code that is neither the current nor the previous one."""
    valid = {checkins.current_code(check_round),
             checkins.current_code(check_round, utcnow() - timedelta(seconds=30))}
    return next(c for c in ("000001", "000002", "000003") if c not in valid)


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# -- codes -------------------------------------------------------------------------------------

def test_the_code_is_six_digits_derived_from_the_round_and_the_30_second_window(
        app, event, people) -> None:
    with inside(event):
        check_round = opened(event, people)
        start = event.start_at + timedelta(minutes=10)
        code = checkins.current_code(check_round, start)
        assert re.fullmatch(r"\d{6}", code)
        assert checkins.current_code(check_round, start + timedelta(seconds=29)) == code
        assert checkins.current_code(check_round, start + timedelta(seconds=30)) != code
        assert checkins.derive_code(b"k", 1, 7) == checkins.derive_code(b"k", 1, 7)
        assert checkins.derive_code(b"k", 1, 7) != checkins.derive_code(b"k", 2, 7)
        assert checkins.clean_code(" 123 456 ") == "123456"
        assert checkins.clean_code("12345") is None and checkins.clean_code("１２３４５６") is None


def test_the_previous_window_is_accepted_and_older_codes_are_not(event, people) -> None:
    with inside(event) as clock:
        check_round = opened(event, people, minutes=10)
        shown = checkins.current_code(check_round)
        clock.shift(timedelta(seconds=45))  # the next window: the code shown is the previous one
        assert checkins.current_code(check_round) != shown
        answer = checkins.verify_and_record(event, people.teacher, shown, "10.0.0.1")
        assert answer.result == Result.OK and answer.round.id == check_round.id

        clock.shift(timedelta(seconds=30))  # two windows later: expired
        answer = checkins.verify_and_record(event, people.other_teacher, shown, "10.0.0.2")
        assert answer.result == Result.WRONG_CODE
        fresh = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.other_teacher, fresh, "").result \
            == Result.OK


def test_one_check_in_per_round_and_person(event, people) -> None:
    with inside(event):
        check_round = opened(event, people)
        code = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.teacher, code, "").result == Result.OK
        assert checkins.verify_and_record(event, people.teacher, code, "").result \
            == Result.ALREADY
        assert checkins.verify_and_record(event, people.teacher, "000000", "").result \
            == Result.ALREADY  # nothing left to answer: a typo is not counted against them
        db.session.commit()
    assert checks_of(people.teacher, event) == 1
    assert services.record_of(event, people.teacher).checks_passed == 1


def test_wrong_and_malformed_codes(event, people) -> None:
    with inside(event):
        check_round = opened(event, people)
        assert checkins.verify_and_record(event, people.teacher, wrong_code(check_round),
                                          "").result \
            == Result.WRONG_CODE
        assert checkins.verify_and_record(event, people.teacher, "12ab56", "").result \
            == Result.BAD_FORMAT
        assert checkins.verify_and_record(event, people.teacher, None, "").result \
            == Result.BAD_FORMAT
    assert checks_of(people.teacher, event) == 0


def test_a_closed_round_takes_answers_for_one_more_window_then_none(event, people) -> None:
    with inside(event) as clock:
        check_round = opened(event, people)
        code = checkins.current_code(check_round)
        checkins.close_round(check_round)
        db.session.commit()
        assert checkins.open_round_of(event) is None
        clock.shift(timedelta(seconds=10))
        assert checkins.verify_and_record(event, people.teacher, code, "").result == Result.OK
        clock.shift(timedelta(seconds=25))
        assert checkins.verify_and_record(event, people.other_teacher, code, "").result \
            == Result.NO_ROUND


def test_a_round_ends_by_itself(event, people) -> None:
    with inside(event) as clock:
        check_round = opened(event, people, minutes=2)
        clock.shift(timedelta(minutes=2, seconds=31))
        code = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.teacher, code, "").result \
            == Result.NO_ROUND


def test_only_participants_check_in(event, people, make_person) -> None:
    with inside(event):
        check_round = opened(event, people)
        code = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.municipal, code, "").result \
            == Result.NOT_PARTICIPANT
        assert checkins.verify_and_record(event, make_person(), code, "").result \
            == Result.NOT_PARTICIPANT
        guest = services.add_guest(event, "Гость Анна", "guest@example.org", people.coordinator)
        assert checkins.verify_and_record(event, guest, code, "").result == Result.OK


def test_wrong_codes_are_rate_limited_per_person(app, event, people) -> None:
    with inside(event) as clock:
        check_round = opened(event, people, minutes=10)
        for _ in range(5):
            assert checkins.verify_and_record(event, people.teacher, wrong_code(check_round),
                                              "").result == Result.WRONG_CODE
        right = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.teacher, right, "").result \
            == Result.RATE_LIMITED
        # another person is not held up by it
        assert checkins.verify_and_record(event, people.other_teacher, right, "").result \
            == Result.OK
        clock.shift(timedelta(seconds=61))
        right = checkins.current_code(check_round)
        assert checkins.verify_and_record(event, people.teacher, right, "").result == Result.OK


def test_rounds_open_only_during_the_meeting_and_never_twice_at_once(event, people) -> None:
    with time_machine.travel(event.start_at - timedelta(minutes=31), tick=False):
        try:
            checkins.open_round(event, people.coordinator)
            raise AssertionError("opened too early")
        except CheckinError as error:
            assert "30 minutes" in str(error)
    with time_machine.travel(event.start_at - timedelta(minutes=29), tick=False):
        first = checkins.open_round(event, people.coordinator)
        assert checkins.open_round(event, people.coordinator, 10).id == first.id
        assert first.closes_at - first.opened_at == timedelta(minutes=5)
    with time_machine.travel(event.end_at, tick=False):
        assert checkins.why_not_open(event) is not None


# -- credit ------------------------------------------------------------------------------------

def test_required_checks_decide_the_credit(event, people) -> None:
    event.required_checks = 2
    db.session.commit()
    for minute in (10, 40):
        with inside(event, minute):
            check_round = opened(event, people)
            code = checkins.current_code(check_round)
            assert checkins.verify_and_record(event, people.teacher, code, "").result == \
                Result.OK
            if minute == 10:
                assert checkins.verify_and_record(event, people.other_teacher, code, "") \
                    .result == Result.OK
            db.session.commit()
    with time_machine.travel(event.end_at + timedelta(minutes=5), tick=False):
        records = {r.person_id: r for r in services.finalise(event)}
    assert records[people.teacher.id].checks_passed == 2
    assert records[people.teacher.id].credited is True
    assert records[people.other_teacher.id].checks_passed == 1
    assert records[people.other_teacher.id].credited is False


# -- pages -------------------------------------------------------------------------------------

def test_a_participant_checks_in_by_the_page_and_a_qr_link_only_fills_the_form(
        client, login_as, event, people) -> None:
    with inside(event):
        check_round = opened(event, people)
        code = checkins.current_code(check_round)
        login_as(people.teacher)
        response = client.get(f"/events/{event.id}/checkin?code={code}")
        html = page(response)
        assert response.status_code == 200
        assert f'value="{code}"' in html and 'inputmode="numeric"' in html
        assert 'autocomplete="one-time-code"' in html
        assert checks_of(people.teacher, event) == 0  # GET changes nothing

        response = client.post(f"/events/{event.id}/checkin", data={"code": code})
        assert response.status_code == 302
        assert checks_of(people.teacher, event) == 1
        html = page(client.get(response.headers["Location"]))
        assert "you are checked in" in html

        again = client.post(f"/events/{event.id}/checkin", data={"code": code})
        assert again.status_code == 200 and "already checked in" in page(again)


def test_the_page_says_what_went_wrong(client, login_as, event, people) -> None:
    login_as(people.teacher)
    response = client.post(f"/events/{event.id}/checkin", data={"code": "123456"})
    assert response.status_code == 409 and "No presence check is open" in page(response)
    with inside(event):
        check_round = opened(event, people)
        response = client.post(f"/events/{event.id}/checkin", data={"code": "12"})
        assert response.status_code == 400 and "6 digits" in page(response)
        for _ in range(5):
            response = client.post(f"/events/{event.id}/checkin",
                                   data={"code": wrong_code(check_round)})
            assert response.status_code == 400 and "wrong or has expired" in page(response)
        response = client.post(f"/events/{event.id}/checkin",
                               data={"code": checkins.current_code(check_round)})
        assert response.status_code == 429 and "Too many wrong codes" in page(response)


def test_strangers_and_organisers_are_not_participants(client, login_as, event, people,
                                                       make_person) -> None:
    with inside(event):
        code = checkins.current_code(opened(event, people))
        login_as(people.municipal)
        response = client.post(f"/events/{event.id}/checkin", data={"code": code})
        assert response.status_code == 403
        assert "not among the participants" in page(response)
        assert "Show the code" in page(client.get(f"/events/{event.id}/checkin"))
        client.post("/logout")
        login_as(make_person())  # cannot see the event at all
        assert client.get(f"/events/{event.id}/checkin").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in_with_the_code_kept(client, event) -> None:
    response = client.get(f"/events/{event.id}/checkin?code=123456")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert "code%3D123456" in response.headers["Location"]


def test_a_join_link_session_checks_in_without_an_account(app, client, event, people) -> None:
    invitation = db.session.scalars(select(Invitation).where(
        Invitation.event_id == event.id, Invitation.person_id == people.teacher.id)).one()
    with app.test_request_context():
        remember_join(invitation)
        joined = flask.session[JOINED_SESSION_KEY]
    with client.session_transaction() as stored:
        stored[JOINED_SESSION_KEY] = joined
    with inside(event):
        code = checkins.current_code(opened(event, people))
        html = page(client.get(f"/events/{event.id}/checkin"))
        assert people.teacher.full_name in html
        response = client.post(f"/events/{event.id}/checkin", data={"code": code})
        assert response.status_code == 302
    assert checks_of(people.teacher, event) == 1


def test_the_display_shows_the_code_and_its_qr(client, login_as, event, people) -> None:
    login_as(people.coordinator)
    with inside(event):
        html = page(client.get(f"/events/{event.id}/checkin/display"))
        assert "No check is open." in html and "Open a check" in html
        response = client.post(f"/events/{event.id}/checkin/rounds", data={"minutes": "3"})
        assert response.headers["Location"].endswith(f"/events/{event.id}/checkin/display")
        check_round = checkins.open_round_of(event)
        assert check_round is not None
        assert check_round.closes_at - check_round.opened_at == timedelta(minutes=3)
        code = checkins.current_code(check_round)
        html = page(client.get(f"/events/{event.id}/checkin/display"))
        assert f"{code[:3]} {code[3:]}" in html
        url = absolute_url("attendance.checkin", event_id=event.id, code=code)
        assert "<svg" in html and _qr_svg(url) in html
        assert 'src="/static/js/checkin.js"' in html and "<script>" not in html
        assert 'data-state-url="/events/' in html


def test_the_code_json_is_for_organisers_only(client, login_as, event, people) -> None:
    with inside(event):
        check_round = opened(event, people)
        assert client.get(f"/events/{event.id}/checkin/code.json").status_code == 403
        login_as(people.teacher)
        assert client.get(f"/events/{event.id}/checkin/code.json").status_code == 403
        client.post("/logout")
        login_as(people.coordinator)
        checkins.verify_and_record(event, people.teacher, checkins.current_code(check_round),
                                   "")
        db.session.commit()
        data = client.get(f"/events/{event.id}/checkin/code.json").get_json()
        assert data["open"] is True and data["round_id"] == check_round.id
        assert data["code"] == checkins.current_code(check_round)
        assert data["count"] == 1 and 0 < data["seconds_left"] <= 30
        assert data["url"].endswith(f"/events/{event.id}/checkin?code={data['code']}")
        assert data["qr_svg"].startswith("<svg")


def test_closing_a_round_early(client, login_as, event, people) -> None:
    login_as(people.coordinator)
    with inside(event):
        check_round = opened(event, people)
        response = client.post(f"/events/{event.id}/checkin/rounds/{check_round.id}/close",
                               data={"back": "event"})
        assert response.headers["Location"].endswith(f"/events/{event.id}")
        db.session.expire_all()
        assert checkins.open_round_of(event) is None
        data = client.get(f"/events/{event.id}/checkin/code.json").get_json()
        assert data == {"open": False, "round_id": None}


def test_bad_minutes_and_the_wrong_time_are_explained(client, login_as, event, people) -> None:
    login_as(people.coordinator)
    response = client.post(f"/events/{event.id}/checkin/rounds", data={"minutes": "5"},
                           follow_redirects=True)
    assert "30 minutes before the start" in page(response)
    with inside(event):
        for minutes in ("0", "61", "abc"):
            response = client.post(f"/events/{event.id}/checkin/rounds",
                                   data={"minutes": minutes}, follow_redirects=True)
            assert response.status_code == 200
            assert "from 1 to 60 minutes" in page(response)
        assert checkins.open_round_of(event) is None


def test_the_event_page_panel(client, login_as, event, people) -> None:
    event.required_checks = 2
    db.session.commit()
    with inside(event):
        login_as(people.coordinator)
        html = page(client.get(f"/events/{event.id}"))
        assert "Presence checks" in html and "Required checks: 2" in html
        assert f'action="/events/{event.id}/checkin/rounds"' in html
        check_round = opened(event, people)
        html = page(client.get(f"/events/{event.id}"))
        assert f"/events/{event.id}/checkin/display" in html
        client.post("/logout")
        login_as(people.teacher)
        html = page(client.get(f"/events/{event.id}"))
        assert f'href="/events/{event.id}/checkin"' in html and "Check in" in html
        checkins.verify_and_record(event, people.teacher, checkins.current_code(check_round),
                                   "")
        db.session.commit()
        html = page(client.get(f"/events/{event.id}"))
        assert "You are checked in for this check." in html
        assert "Checks answered: 1 of 2 required." in html
