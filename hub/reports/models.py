"""Reporting periods set by the municipal coordinator and each organisation's report for them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.core.types import IntEnum, LabelledEnum, UTCDateTime, utcnow
from hub.directory.models import Organisation, Person
from hub.extensions import db


class ReportStatus(LabelledEnum):
    """A report's state: a draft (live figures) or submitted (figures frozen)."""

    DRAFT = 1
    SUBMITTED = 2

    @classmethod
    def labels(cls) -> dict:
        return {cls.DRAFT: _l("Draft"), cls.SUBMITTED: _l("Submitted")}


class ReportPeriod(db.Model):
    """A reporting period (e.g. the first half of the school year) and its deadline."""

    __tablename__ = "report_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: The events counted: held from `starts_on` to `ends_on` inclusive (municipal dates).
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: Reports are due by the end of this day.
    deadline: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reports: Mapped[list[OrgReport]] = relationship(back_populates="period",
                                                    cascade="all, delete-orphan")


class OrgReport(db.Model):
    """An organisation's report for a period: drafted from the data, commented and submitted by
    its coordinator. The figures are frozen in `figures` when it is submitted."""

    __tablename__ = "org_report"
    __table_args__ = (UniqueConstraint("period_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("report_period.id", ondelete="CASCADE"),
                                           index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[ReportStatus] = mapped_column(IntEnum(ReportStatus),
                                                 default=ReportStatus.DRAFT)
    comment: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    period: Mapped[ReportPeriod] = relationship(back_populates="reports")
    organisation: Mapped[Organisation] = relationship()
    submitted_by: Mapped[Person | None] = relationship()


class Standing(LabelledEnum):
    """Where an organisation stands for a period (derived, never stored)."""

    DUE = 1  # not submitted, the deadline has not passed
    OVERDUE = 2  # not submitted, the deadline has passed
    SUBMITTED = 3  # submitted by the end of the deadline day
    LATE = 4  # submitted after it

    @classmethod
    def labels(cls) -> dict:
        return {cls.DUE: _l("Not yet due"), cls.OVERDUE: _l("Overdue"),
                cls.SUBMITTED: _l("Submitted"), cls.LATE: _l("Submitted late")}


class ReportReminder(db.Model):
    """A reminder of a period's deadline sent to an organisation's coordinators (never twice:
    the unique row is inserted in the same transaction as the emails)."""

    __tablename__ = "report_reminder"
    __table_args__ = (UniqueConstraint("period_id", "organisation_id", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("report_period.id", ondelete="CASCADE"),
                                           index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: Days before the end of the deadline day this reminder stands for.
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
