"""Certificates: issued once per credited record (by hand, automatically, on completing the
internship), revoked with a reason, printed as a PDF with an embedded font and a QR code, and
checked publicly by code."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from hub.attendance import services
from hub.attendance.models import GrowthRole
from hub.attendance.signals import send_credited
from hub.directory.models import Organisation, OrgKind
from hub.extensions import db
from hub.growth import certificates
from hub.growth.certificate_pdf import certificate_pdf
from hub.growth.models import Certificate, InternshipCompletion
from hub.scheduling.models import EventHost, EventRole, SeriesPerson
from tests.growth.records import after, attend


def _count() -> int:
    return db.session.scalar(select(func.count(Certificate.id))) or 0


def test_a_credited_record_gets_one_certificate_with_a_snapshot(event, people) -> None:
    host = Organisation(full_name="МБДОУ «Детский сад № 22 «Яблонька»»",
                        short_name="Детский сад № 22", kind=OrgKind.KINDERGARTEN,
                        municipality="г. Лесной")
    event.hosts.append(EventHost(organisation=host))
    db.session.commit()
    with after(event):
        record = attend(event, people.teacher, people.coordinator)
        first = certificates.issue_for(record, people.coordinator)
        again = certificates.issue_for(record)
        db.session.commit()
    assert first.id == again.id and _count() == 1
    assert re.fullmatch(f"[{certificates.CODE_ALPHABET}]{{16}}", first.code)
    assert (first.holder_name, first.title, first.organisers) == (
        people.teacher.full_name, event.title, "Детский сад № 22")
    assert first.held_on == date(2026, 12, 3) and first.hours == 1.5
    assert first.role == GrowthRole.PARTICIPANT and first.issued_by_id == people.coordinator.id
    event.title = "Другое название"
    db.session.commit()
    assert certificates.issue_for(record).title != event.title  # the snapshot stays


def test_the_local_date_of_the_event_is_printed(make_event, people) -> None:
    from tests.calendar.conftest import at

    late = make_event(zone="Asia/Vladivostok", start=at("Asia/Vladivostok", 2026, 12, 4, 8, 0))
    assert late.start_at.date() == date(2026, 12, 3)  # still the 3rd in UTC
    with after(late):
        record = attend(late, people.teacher, people.coordinator)
        assert certificates.issue_for(record).held_on == date(2026, 12, 4)


def test_only_credited_records_of_people_get_one(event, people) -> None:
    with after(event):
        short = attend(event, people.teacher, people.coordinator, minutes=20)
        guest = services.add_guest(event, "Гость Петров", "guest@example.org",
                                   people.coordinator)
        services.record_manual(guest, event.start_at, event.end_at, "", people.coordinator)
    assert not short.credited and guest.credited
    for record in (short, guest):
        with pytest.raises(certificates.CertificateError):
            certificates.issue_for(record)
    assert certificates.issue_missing(event) == [] and _count() == 0


def test_automatic_certificates_follow_the_event_setting(event, people) -> None:
    with after(event):
        teacher = attend(event, people.teacher, people.coordinator)
        other = attend(event, people.other_teacher, people.coordinator, minutes=10)
        event.auto_certificates = False
        assert certificates.issue_automatically(event, [teacher, other]) == []
        event.auto_certificates = True
        made = certificates.issue_automatically(event, [teacher, other])
        assert [c.person_id for c in made] == [people.teacher.id]
        assert certificates.issue_automatically(event, [teacher, other]) == []


def test_the_credited_signal_issues_them(event, people) -> None:
    with after(event):
        record = attend(event, people.teacher, people.coordinator)
        send_credited(event, [record])
        db.session.commit()
    assert certificates.certificate_of(record) is not None


def test_revoking_needs_a_reason_and_keeps_the_first(event, people) -> None:
    with after(event):
        certificate = certificates.issue_for(attend(event, people.teacher, people.coordinator))
    with pytest.raises(certificates.CertificateError):
        certificates.revoke(certificate, people.coordinator, "  ")
    assert certificate.valid
    certificates.revoke(certificate, people.coordinator, "Ошибка в списке")
    first = certificate.revoked_at
    certificates.revoke(certificate, people.municipal, "ещё раз")
    assert not certificate.valid and certificate.revoked_at == first
    assert certificate.revoke_reason == "Ошибка в списке"


def test_the_pdf_embeds_the_font_the_code_and_the_verification_link(event, people) -> None:
    people.teacher.locale = "ru"
    with after(event):
        certificate = certificates.issue_for(attend(event, people.teacher, people.coordinator))
    db.session.commit()
    data = certificate_pdf(certificate)
    assert data.startswith(b"%PDF")
    assert b"/FontFile2" in data and b"DejaVu" in data
    assert certificate.code.encode() in data
    assert f"http://localhost/verify/{certificate.code}".encode() in data  # the QR's link


def test_a_completed_internship_gets_a_certificate_of_the_program_hours(
        make_series, people) -> None:
    series = make_series(rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    series.cohort.append(SeriesPerson(person_id=people.teacher.id, role=EventRole.INTERN,
                                      mentor_id=people.coordinator.id))
    db.session.commit()
    first, second, _third = series.events
    with after(second):
        attend(first, people.teacher, people.coordinator)
        attend(second, people.teacher, people.coordinator)
        completion = InternshipCompletion(series_id=series.id, intern_id=people.teacher.id,
                                          mentor_id=people.coordinator.id,
                                          attended_percent=67)
        db.session.add(completion)
        db.session.flush()
        certificate = certificates.issue_for_completion(completion)
        assert certificates.issue_for_completion(completion).id == certificate.id
    assert (certificate.hours, certificate.role, certificate.format) == (
        2.0, GrowthRole.INTERN, None)
    assert certificate.series_id == series.id and certificate.attendance_id is None
    assert certificate_pdf(certificate).startswith(b"%PDF")


# -- pages ------------------------------------------------------------------------------------

@pytest.fixture
def issued(event, people) -> Certificate:
    """The teacher's certificate of the event, credited and issued after it."""
    with after(event):
        certificate = certificates.issue_for(attend(event, people.teacher, people.coordinator))
    db.session.commit()
    return certificate


def test_the_verify_page_says_valid_and_shows_no_email(client, issued, people) -> None:
    page = client.get(f"/verify/{issued.code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "The certificate is valid." in text
    assert issued.holder_name in text and issued.title in text
    assert people.teacher.email not in text and "@" not in text
    assert people.teacher.organisation.short_name not in text


def test_the_code_is_case_insensitive_and_trimmed(client, issued) -> None:
    typed = " " + certificates.printed_code(issued.code).lower() + " "
    assert client.get(f"/verify/{typed}").status_code == 200


def test_a_revoked_certificate_says_so(client, issued, people) -> None:
    certificates.revoke(issued, people.coordinator, "Не присутствовал")
    db.session.commit()
    text = client.get(f"/verify/{issued.code}").get_data(as_text=True)
    assert "was revoked on" in text and "Не присутствовал" not in text


@pytest.mark.parametrize("code", ["AAAABBBBCCCCDDDD", "%00", "x" * 300, "ЖЖЖЖ"])
def test_an_unknown_code_is_a_clear_404(client, code) -> None:
    page = client.get(f"/verify/{code}")
    assert page.status_code == 404 and "No certificate has the code" in page.get_data(
        as_text=True)


def test_the_verify_page_is_rate_limited(client) -> None:
    answers = {client.get("/verify/NOPE").status_code for _ in range(35)}
    assert answers == {404, 429}


def test_the_organiser_issues_for_all_after_the_event(client, login_as, event, people) -> None:
    event.auto_certificates = False
    with after(event):
        attend(event, people.teacher, people.coordinator)
        attend(event, people.other_teacher, people.coordinator)
    login_as(people.coordinator)
    early = client.post(f"/events/{event.id}/certificates", follow_redirects=True)
    assert "issued after the event" in early.get_data(as_text=True) and _count() == 0
    with after(event):
        page = client.post(f"/events/{event.id}/certificates", follow_redirects=True)
        text = page.get_data(as_text=True)
        assert "2 certificates issued." in text and _count() == 2
        assert "Certificates: 2 issued" in text
        client.post(f"/events/{event.id}/certificates")
    assert _count() == 2


def test_the_organiser_issues_for_one_record(client, login_as, event, people) -> None:
    with after(event):
        record = attend(event, people.teacher, people.coordinator)
        short = attend(event, people.other_teacher, people.coordinator, minutes=5)
        login_as(people.coordinator)
        refused = client.post(f"/events/{event.id}/certificates",
                              data={"attendance_id": str(short.id)}, follow_redirects=True)
        assert "Only a credited attendance" in refused.get_data(as_text=True)
        for raw in ("99999999999", "²", "abc"):
            wrong = client.post(f"/events/{event.id}/certificates",
                                data={"attendance_id": raw}, follow_redirects=True)
            assert "no such attendance record" in wrong.get_data(as_text=True)
        client.post(f"/events/{event.id}/certificates", data={"attendance_id": str(record.id)})
    assert _count() == 1


def test_revoking_by_the_organiser_needs_a_reason(client, login_as, issued, people) -> None:
    login_as(people.coordinator)
    page = client.post(f"/certificates/{issued.id}/revoke", data={"reason": " "},
                       follow_redirects=True)
    assert "Give the reason" in page.get_data(as_text=True)
    client.post(f"/certificates/{issued.id}/revoke", data={"reason": "Ошибка\x00"})
    db.session.expire_all()
    assert not db.session.get(Certificate, issued.id).valid


def test_the_holder_downloads_from_the_event_page(client, login_as, issued, event,
                                                  people) -> None:
    login_as(people.teacher)
    with after(event):
        page = client.get(f"/events/{event.id}").get_data(as_text=True)
        link = f"/certificates/{issued.id}.pdf"
        assert link in page and "Issue certificates" not in page
        download = client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"


def test_others_may_not_download_it(client, login_as, issued, people) -> None:
    login_as(people.other_teacher)
    assert client.get(f"/certificates/{issued.id}.pdf").status_code == 403


def test_the_panel_offers_the_organiser_to_issue_the_missing(client, login_as, event,
                                                            people) -> None:
    with after(event, minutes=timedelta(days=1).seconds // 60):
        attend(event, people.teacher, people.coordinator)
        login_as(people.coordinator)
        text = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Certificates: 0 issued" in text and "Issue certificates" in text
