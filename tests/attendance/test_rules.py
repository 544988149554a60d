"""The municipal coordinator's credit rules: every format's rule on one page; saving checks
the numbers and recomputes the credit of the past events of the formats that changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from hub.attendance import credit, services
from hub.attendance.models import CreditRule
from hub.attendance.signals import credited
from hub.extensions import db
from hub.scheduling.models import EventFormat


def _form(**changes: str) -> dict[str, str]:
    """The page's form as it comes, with the defaults, and `changes` (input name: value)."""
    data = {}
    for fmt in EventFormat:
        data[f"percent-{fmt.value}"] = "80"
        data[f"late-{fmt.value}"] = "10"
        data[f"checks-{fmt.value}"] = "1"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def municipal(client, people, login_as):  # type: ignore[no-untyped-def]
    login_as(people.municipal)
    client.get("/lang/en")
    return client


SEMINAR = EventFormat.SEMINAR_PRACTICUM.value


def test_the_page_lists_every_format_with_its_rule(municipal) -> None:
    db.session.add(CreditRule(format=EventFormat.WEBINAR, min_presence_percent=50,
                              checks_instead=False, late_minutes=15))
    db.session.commit()
    page = municipal.get("/attendance/rules").get_data(as_text=True)
    for fmt in EventFormat:
        assert str(fmt.label) in page
        assert f'name="percent-{fmt.value}"' in page
    assert 'name="percent-1" min="0" max="100" step="1" required' in page
    assert 'value="50"' in page and 'value="15"' in page


def test_a_rule_change_recomputes_the_past_events_of_that_format(municipal, event, people,
                                                                 make_event) -> None:
    record = services.record_of(event, people.teacher)
    services.record_manual(record, event.start_at, event.start_at + timedelta(minutes=63),
                           "по телефону", people.coordinator)
    webinar = make_event(title="Вебинар для родителей", format=EventFormat.WEBINAR)
    other = services.record_of(webinar, people.teacher)
    services.record_manual(other, webinar.start_at, webinar.start_at + timedelta(minutes=63),
                           "", people.coordinator)
    seen = []

    def receiver(sender, records):  # type: ignore[no-untyped-def]
        seen.append(sender.id)

    with time_machine.travel(event.end_at + timedelta(hours=1)), \
            credited.connected_to(receiver):
        services.recompute_event(event)
        services.recompute_event(webinar)
        db.session.commit()
        assert not record.credited  # 70 % < 80 %
        response = municipal.post("/attendance/rules",
                                  data=_form(**{f"percent-{SEMINAR}": "70"}),
                                  follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Past events recomputed: 1 (" in page and "credit changed: 1." in page
    db.session.refresh(record)
    db.session.refresh(other)
    assert record.credited and record.hours == 1.5
    assert not other.credited  # another format: untouched
    assert seen == [event.id]
    rule = db.session.scalars(select(CreditRule)).one()
    assert (rule.format, rule.min_presence_percent, rule.updated_by_id) == (
        EventFormat.SEMINAR_PRACTICUM, 70, people.municipal.id)


def test_an_unchanged_form_changes_nothing(municipal) -> None:
    response = municipal.post("/attendance/rules", data=_form(), follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CreditRule.id))) == 0


def test_checks_instead_and_late_minutes_are_saved(municipal) -> None:
    municipal.post("/attendance/rules", data=_form(**{f"checks-{SEMINAR}": None,
                                                     f"late-{SEMINAR}": "0"}))
    assert credit.rules()[EventFormat.SEMINAR_PRACTICUM] == credit.Rule(80, False, 0)
    assert credit.rules()[EventFormat.WEBINAR] == credit.DEFAULT_RULE


@pytest.mark.parametrize(("changes", "message"), [
    ({f"percent-{SEMINAR}": "восемьдесят"},
     "Seminar-practicum: the presence must be a whole number from 0 to 100 %."),
    ({f"percent-{SEMINAR}": "101"}, "the presence must be a whole number from 0 to 100 %."),
    ({f"percent-{SEMINAR}": "-5"}, "the presence must be a whole number from 0 to 100 %."),
    ({f"percent-{SEMINAR}": "7.5"}, "the presence must be a whole number from 0 to 100 %."),
    ({f"percent-{SEMINAR}": "²"}, "the presence must be a whole number from 0 to 100 %."),
    ({f"percent-{SEMINAR}": None}, "the presence must be a whole number from 0 to 100 %."),
    ({f"late-{SEMINAR}": "121"}, "the late minutes must be a whole number from 0 to 120."),
    ({f"late-{SEMINAR}": "час"}, "the late minutes must be a whole number from 0 to 120."),
])
def test_wrong_numbers_are_refused_and_nothing_is_saved(municipal, changes, message) -> None:
    data = _form(**{f"percent-{EventFormat.WEBINAR.value}": "50"}, **changes)
    response = municipal.post("/attendance/rules", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(select(func.count(CreditRule.id))) == 0  # the webinar's too


def test_records_the_new_rule_does_not_change_are_left_as_they_were(municipal, event,
                                                                    people) -> None:
    record = services.record_of(event, people.teacher)
    services.record_manual(record, event.start_at, event.end_at, "", people.coordinator)
    seen = []

    def receiver(sender, records):  # type: ignore[no-untyped-def]
        seen.append(sender.id)

    with time_machine.travel(event.end_at + timedelta(hours=1)):
        services.recompute_event(event)
        db.session.commit()
        stamp = record.computed_at
        with credited.connected_to(receiver):
            response = municipal.post("/attendance/rules",
                                      data=_form(**{f"percent-{SEMINAR}": "60"}),
                                      follow_redirects=True)
    assert "Past events recomputed: 1 (" in response.get_data(as_text=True)
    assert "credit changed: 0." in response.get_data(as_text=True)
    db.session.refresh(record)
    assert record.computed_at == stamp and record.credited and seen == []
