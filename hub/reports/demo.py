"""Demo reporting: the education office's periods for the school year (deadlines as in one
district's order: 13 December and 1 June) and a few organisations' reports already submitted."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from hub.directory.models import Organisation, OrgKind, Person, Role
from hub.extensions import db
from hub.reports import services

#: The organisations' coordinators who have already submitted the first period's report.
SUBMITTED = 5


def seed_reports(rng: random.Random, municipal: Person, first_year: int,
                 now: datetime) -> None:
    """Two periods of the school year that starts in September of `first_year`."""
    autumn, _ = services.create_period(
        municipal, f"Сентябрь — ноябрь {first_year}", date(first_year, 9, 1),
        date(first_year, 11, 30), date(first_year, 12, 13))
    services.create_period(
        municipal, f"Учебный год {first_year}/{first_year + 1}", date(first_year, 9, 1),
        date(first_year + 1, 5, 31), date(first_year + 1, 6, 1))
    coordinators = db.session.scalars(
        select(Person).join(Organisation).where(
            Person.role == Role.ORG_COORDINATOR, Organisation.kind != OrgKind.EDUCATION_OFFICE)
        .order_by(Person.id)).all()
    for coordinator in rng.sample(coordinators, min(SUBMITTED, len(coordinators))):
        report = services.report_of(autumn, coordinator.organisation_id)
        services.submit(report, coordinator,
                        "Все мероприятия плана проведены, материалы размещены в банке.",
                        now=min(now, datetime.combine(autumn.deadline, time(9), UTC)
                                - timedelta(days=2)))
