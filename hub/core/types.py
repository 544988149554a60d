"""Column types shared by the models: aware UTC datetimes and enums stored as integers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IntEnum(TypeDecorator[enum.IntEnum]):
    """An enum.IntEnum stored as its integer value (readable names in code, stable ints in SQL)."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum_class: type[enum.IntEnum], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        return int(self.enum_class(value))

    def process_result_value(self, value: int | None, dialect: Any) -> enum.IntEnum | None:
        return None if value is None else self.enum_class(value)


class LabelledEnum(enum.IntEnum):
    """An IntEnum whose members carry a translatable label (see LABELS in each subclass)."""

    @property
    def label(self) -> str:
        return str(self.labels()[self])

    @classmethod
    def labels(cls) -> dict:
        raise NotImplementedError

    @classmethod
    def choices(cls) -> list[tuple[int, str]]:
        return [(int(m), m.label) for m in cls]
