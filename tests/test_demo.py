"""`flask demo`: the demo town, its invariants, --if-empty, and the printed sign-in lines."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from hub import demo
from hub.auth.passwords import verify_password
from hub.directory.models import (
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
    fold_for_search,
)
from hub.directory.services import clean_plain_name, clean_timezone, parse_school_year
from hub.directory.validation import clean_name_part, normalize_email, normalize_phone
from hub.extensions import db
from tests.conftest import empty_tables

FEMALE_PATRONYMIC_ENDINGS = ("вна", "чна")


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model))


def _snapshot() -> tuple[int, int, int, int]:
    return (_count(Organisation), _count(Person), _count(Network), _count(NetworkMember))


@pytest.fixture(scope="class")
def town(app):  # type: ignore[no-untyped-def]
    """The demo town, loaded once for the tests of a class marked shared_data."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    yield result
    with app.app_context():
        empty_tables()


def test_if_empty_does_nothing_the_second_time(runner) -> None:  # type: ignore[no-untyped-def]
    first = runner.invoke(args=["demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    loaded = _snapshot()
    assert loaded[0] > 20
    emails = set(db.session.scalars(select(Person.email)))

    second = runner.invoke(args=["demo", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert _snapshot() == loaded
    assert set(db.session.scalars(select(Person.email))) == emails
    # It reminds how to sign in, but does not claim to have loaded anything.
    assert demo.MUNICIPAL_EMAIL in second.output
    assert second.output != first.output


def test_if_empty_leaves_a_real_directory_alone(runner, make_org) -> None:  # type: ignore[no-untyped-def]
    make_org()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert _snapshot() == (1, 0, 0, 0)
    assert demo.DEMO_PASSWORD not in result.output


def test_without_if_empty_it_refuses_a_database_with_data(runner, make_org) -> None:  # type: ignore[no-untyped-def]
    make_org()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert _snapshot() == (1, 0, 0, 0)


def test_it_loads_in_one_transaction(runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(demo, "create_network", broken)
    result = runner.invoke(args=["demo"])
    assert isinstance(result.exception, RuntimeError)
    db.session.rollback()
    assert _snapshot() == (0, 0, 0, 0)


def test_the_same_seed_gives_the_same_town() -> None:
    def people() -> list[tuple[str, ...]]:
        return [tuple(row) for row in db.session.execute(
            select(Person.surname, Person.first_name, Person.patronymic, Person.email,
                   Person.phone, Person.position, Person.category).order_by(Person.email))]

    demo.load_demo(seed=7)
    first = people()
    empty_tables()
    demo.load_demo(seed=7)
    assert people() == first
    empty_tables()
    demo.load_demo(seed=8)
    assert people() != first


def test_transliteration() -> None:
    assert demo.translit("Щербакова") == "shcherbakova"
    assert demo.translit("Юлия") == "iuliia"
    assert demo.translit("Королёва") == "koroleva"
    assert demo._feminine("Покровский") == "Покровская"
    assert demo._feminine("Луговой") == "Луговая"
    assert demo._feminine("Журавлёв") == "Журавлёва"


@pytest.mark.shared_data
class TestTheDemoTown:
    """The town as `flask demo` loads it: read by every test, loaded once (it takes seconds)."""

    def test_the_town_has_the_expected_organisations(self, town) -> None:  # type: ignore[no-untyped-def]
        orgs = db.session.scalars(select(Organisation)).all()
        kinds = Counter(o.kind for o in orgs)
        assert 18 <= kinds[OrgKind.KINDERGARTEN] <= 24
        assert kinds[OrgKind.SCHOOL] == 2
        assert kinds[OrgKind.SUPPLEMENTARY] >= 1
        assert kinds[OrgKind.SOCIAL_PARTNER] >= 3
        assert kinds[OrgKind.EDUCATION_OFFICE] == 1

        home = [o for o in orgs if o.municipality == demo.TOWN]
        assert len(home) == len(orgs) - 3
        assert {o.timezone for o in home} == {"Europe/Moscow"}
        away = [o for o in orgs if o.municipality != demo.TOWN]
        # Partner kindergartens in the other three zones of DESIGN.md.
        assert sorted(o.timezone for o in away) == [
            "Asia/Krasnoyarsk", "Asia/Vladivostok", "Asia/Yekaterinburg"]
        assert {o.kind for o in away} == {OrgKind.KINDERGARTEN}
        assert len({o.municipality for o in away}) == 3

        full_names = [fold_for_search(o.full_name) for o in orgs]
        short_names = [fold_for_search(o.short_name) for o in orgs]
        assert len(set(full_names)) == len(orgs)
        assert len(set(short_names)) == len(orgs)
        for org in orgs:
            assert clean_plain_name(org.full_name, "full name", 300) == org.full_name
            assert clean_plain_name(org.short_name, "short name", 120) == org.short_name
            assert clean_timezone(org.timezone) == org.timezone
            assert org.active
        assert any(o.full_name == "МБДОУ «Детский сад № 22 «Яблонька»»" for o in orgs)

    def test_people_are_plausible_and_valid(self, town) -> None:  # type: ignore[no-untyped-def]
        people = db.session.scalars(select(Person)).all()
        roles = Counter(p.role for p in people)
        assert 400 <= roles[Role.TEACHER] <= 500
        assert roles[Role.MUNICIPAL_COORDINATOR] >= 1

        emails = [p.email for p in people]
        assert len(set(emails)) == len(emails)
        for person in people:
            assert clean_name_part(person.surname, "surname") == person.surname
            assert clean_name_part(person.first_name, "first name") == person.first_name
            assert clean_name_part(person.patronymic, "patronymic") == person.patronymic
            assert normalize_email(person.email) == person.email
            assert person.email.endswith(".example.org")
            assert normalize_phone(person.phone) == person.phone
            assert person.position
            # Bulk inserts skip the model hook: the search key must still be right.
            assert person.search_key == fold_for_search(
                person.surname, person.first_name, person.patronymic, person.email)
            # Gender agreement of surname, first name and patronymic.
            if person.patronymic.endswith(FEMALE_PATRONYMIC_ENDINGS):
                assert person.surname.endswith(("ова", "ева", "ёва", "ина", "ая")), person.full_name
                assert person.first_name in demo.FEMALE_NAMES, person.full_name
            else:
                assert person.patronymic.endswith(("вич", "ич")), person.full_name
                assert not person.surname.endswith(("а", "ая")), person.full_name
                assert person.first_name in demo.MALE_NAMES, person.full_name

        women = sum(p.patronymic.endswith(FEMALE_PATRONYMIC_ENDINGS) for p in people)
        assert women > 0.8 * len(people)
        assert any("ё" in p.full_name for p in people)
        positions = Counter(p.position for p in people)
        for position in ("воспитатель", "старший воспитатель", "музыкальный руководитель",
                         "инструктор по физической культуре", "учитель-логопед", "педагог-психолог",
                         "учитель начальных классов", "педагог дополнительного образования"):
            assert positions[position] > 0, position
        assert positions.most_common(1)[0][0] == "воспитатель"
        assert len({p.category for p in people}) >= 4

    def test_every_organisation_has_its_coordinator(self, town) -> None:  # type: ignore[no-untyped-def]
        for org in db.session.scalars(select(Organisation)):
            roles = [p.role for p in org.people]
            if org.kind == OrgKind.EDUCATION_OFFICE:
                assert Role.MUNICIPAL_COORDINATOR in roles
                assert Role.TEACHER not in roles
            else:
                assert roles.count(Role.ORG_COORDINATOR) == 1, org.short_name
                coordinator = next(p for p in org.people if p.role == Role.ORG_COORDINATOR)
                assert coordinator.position

    def test_networks_have_members_with_their_coordinators(self, town) -> None:  # type: ignore[no-untyped-def]
        networks = db.session.scalars(select(Network)).all()
        assert {n.name for n in networks} >= {"Растим инженеров", "Не скучаем вместе"}
        zones = set()
        for network in networks:
            assert parse_school_year(network.school_year) == "2026/2027"
            assert len(network.members) >= 2
            assert len({m.organisation_id for m in network.members}) == len(network.members)
            for member in network.members:
                assert member.coordinator.organisation_id == member.organisation_id
                assert member.coordinator.role == Role.ORG_COORDINATOR
                zones.add(member.organisation.timezone)
        # «Растим инженеров» spans the four zones of DESIGN.md.
        assert zones >= {"Europe/Moscow", "Asia/Yekaterinburg", "Asia/Krasnoyarsk",
                         "Asia/Vladivostok"}

    def test_demo_accounts_share_the_printed_password(self, town) -> None:  # type: ignore[no-untyped-def]
        accounts = {
            demo.MUNICIPAL_EMAIL: Role.MUNICIPAL_COORDINATOR,
            demo.COORDINATOR_EMAIL: Role.ORG_COORDINATOR,
            demo.TEACHER_EMAIL: Role.TEACHER,
        }
        for email, role in accounts.items():
            person = db.session.scalar(select(Person).where(Person.email == email))
            assert person is not None and person.active and person.role == role
            assert verify_password(person.password_hash, demo.DEMO_PASSWORD)
        coordinator = db.session.scalar(
            select(Person).where(Person.email == demo.COORDINATOR_EMAIL))
        teacher = db.session.scalar(select(Person).where(Person.email == demo.TEACHER_EMAIL))
        assert teacher.organisation_id == coordinator.organisation_id
        # Teachers sign in by emailed link: one hash for the few accounts that have a password.
        hashes = {p.password_hash for p in db.session.scalars(select(Person)) if p.password_hash}
        assert len(hashes) == 1
        without = db.session.scalar(select(func.count()).where(Person.password_hash == ""))
        assert without > 400

    def test_the_command_prints_how_to_sign_in(  # type: ignore[no-untyped-def]
            self, town, app) -> None:
        lines = town.output.splitlines()
        base = app.config["BASE_URL"]
        assert any(f"{base}/login" in line for line in lines)
        for email in (demo.MUNICIPAL_EMAIL, demo.COORDINATOR_EMAIL, demo.TEACHER_EMAIL):
            (line,) = [line for line in lines if email in line]
            assert demo.DEMO_PASSWORD in line
        assert any(f"{base}/dev/mail" in line for line in lines)  # the emailed link
        assert str(_count(Person)) in lines[0]

    def test_held_events_have_attendance_with_credit(self, town) -> None:  # type: ignore[no-untyped-def]
        """Every held event of the demo has its records, derived by the attendance services."""
        from hub.attendance.models import Attendance, Status
        from hub.scheduling.models import Event, EventStatus

        held = db.session.scalars(select(Event).where(Event.status == EventStatus.COMPLETED)).all()
        assert held
        statuses = Counter(db.session.scalars(select(Attendance.computed_status)))
        assert statuses[Status.PRESENT] and statuses[Status.ABSENT] and statuses[Status.LATE]
        for event in held:
            records = db.session.scalars(select(Attendance).where(
                Attendance.event_id == event.id)).all()
            assert records and any(r.credited for r in records), event.title
            assert all(r.hours == (round(event.hours, 2) if r.credited else 0) for r in records)

    def test_the_demo_has_certificates_and_report_periods(self, town) -> None:  # type: ignore[no-untyped-def]
        from hub.attendance.models import Attendance
        from hub.growth.models import Certificate
        from hub.reports.models import OrgReport, ReportPeriod, ReportStatus

        credited = db.session.scalar(select(func.count(Attendance.id)).where(
            Attendance.credited.is_(True), Attendance.person_id.is_not(None)))
        assert credited and _count(Certificate) == credited
        assert [p.deadline.strftime("%d.%m") for p in db.session.scalars(
            select(ReportPeriod).order_by(ReportPeriod.id))] == ["13.12", "01.06"]
        submitted = db.session.scalars(select(OrgReport)).all()
        assert len(submitted) == 5 and all(r.status == ReportStatus.SUBMITTED and r.figures
                                           for r in submitted)
