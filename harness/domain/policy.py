"""Recurring VM snapshot policies and resource limits, as plain Python.

A policy's schedule follows CloudStack's ``createSnapshotPolicy`` (volume snapshots):

=========  ============  ==========================================================
interval   schedule      meaning
=========  ============  ==========================================================
HOURLY     ``MM``        every hour at minute MM
DAILY      ``MM:HH``     every day at HH:MM
WEEKLY     ``MM:HH:D``   every week on day D at HH:MM; D is 1 (Sunday) .. 7 (Saturday),
                         Java's ``Calendar.DAY_OF_WEEK`` as CloudStack uses it
MONTHLY    ``MM:HH:DD``  every month on day DD (1-28, so that every month has it)
=========  ============  ==========================================================

Times are wall-clock times in the policy's IANA time zone (``zoneinfo``); every instant the
scheduler stores or compares is naive UTC, as the database stores dates. Daylight saving
time is handled explicitly:

- HOURLY runs once per *real* hour, at the local minute MM: a spring-forward day has 23
  runs, a fall-back day 25 (the repeated hour is a second real hour, and gets its run).
- DAILY, WEEKLY and MONTHLY run once per local day (week, month). A wall time that occurs
  twice (fall back) runs once, at its first occurrence; a wall time that does not exist
  (spring forward) runs at the same distance past the gap's start, e.g. 02:30 on a day
  that jumps from 02:00 to 03:00 runs at 03:30 (PEP 495 ``fold=0``, Java's lenient
  ``Calendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harness.domain.errors import InvalidParameterValue

#: The resource type hvsnap adds to CloudStack's (0 user_vm .. 11 secondary_storage; newer
#: releases go on from 12). 100 stays clear of every type CloudStack has or is likely to get.
VMSNAPSHOT_RESOURCE_TYPE = 100
VMSNAPSHOT_RESOURCE_NAME = "vmsnapshot"
UNLIMITED = -1


class IntervalType(StrEnum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


FORMATS = {
    IntervalType.HOURLY: "MM",
    IntervalType.DAILY: "MM:HH",
    IntervalType.WEEKLY: "MM:HH:D",
    IntervalType.MONTHLY: "MM:HH:DD",
}


def interval_type(value: str) -> IntervalType:
    try:
        return IntervalType(value.strip().upper())
    except ValueError:
        raise InvalidParameterValue(f"Invalid intervaltype {value!r}; one of {', '.join(IntervalType)}") from None


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``America/New_York``, ``UTC``); 431 when unknown."""
    try:
        if not name or name != name.strip() or ".." in name or name.startswith("/"):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidParameterValue(
            f"Invalid timezone {name!r}: use an IANA time zone name such as America/New_York or UTC"
        ) from None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A validated schedule: when, in which zone."""

    interval: IntervalType
    minute: int
    hour: int = 0
    day: int = 0  # day of week 1-7 (WEEKLY) or of month 1-28 (MONTHLY)
    zone: str = "UTC"

    @classmethod
    def parse(cls, interval: IntervalType | str, text: str, zone: str) -> Schedule:
        """Check ``text`` against the interval's format; 431 with what was expected."""
        kind = interval if isinstance(interval, IntervalType) else interval_type(interval)
        time_zone(zone)
        expected = FORMATS[kind]
        parts = text.strip().split(":") if text else []
        if len(parts) != expected.count(":") + 1 or not all(p.isdigit() and len(p) <= 2 for p in parts):
            raise InvalidParameterValue(
                f"Invalid schedule {text!r} for intervaltype {kind}: expected {expected!r} ({_EXPLAIN[kind]})"
            )
        numbers = [int(p) for p in parts] + [0, 0]
        minute, hour, day = numbers[0], numbers[1], numbers[2]
        limits = [("minute", minute, 0, 59)]
        if kind != IntervalType.HOURLY:
            limits.append(("hour", hour, 0, 23))
        if kind == IntervalType.WEEKLY:
            limits.append(("day of week", day, 1, 7))
        if kind == IntervalType.MONTHLY:
            limits.append(("day of month", day, 1, 28))
        for label, value, low, high in limits:
            if not low <= value <= high:
                raise InvalidParameterValue(
                    f"Invalid schedule {text!r} for intervaltype {kind}: {label} {value} is not "
                    f"between {low} and {high} ({_EXPLAIN[kind]})"
                )
        return cls(kind, minute, hour, day, zone)

    @property
    def text(self) -> str:
        """The schedule in CloudStack's format."""
        if self.interval == IntervalType.HOURLY:
            return f"{self.minute:02d}"
        if self.interval == IntervalType.DAILY:
            return f"{self.minute:02d}:{self.hour:02d}"
        return f"{self.minute:02d}:{self.hour:02d}:{self.day:02d}"

    def next_after(self, after: datetime) -> datetime:
        """The first run strictly after ``after`` (naive UTC in, naive UTC out)."""
        tz = ZoneInfo(self.zone)
        moment = after.replace(tzinfo=UTC)
        if self.interval == IntervalType.HOURLY:
            local = moment.astimezone(tz)
            candidate = local.replace(minute=self.minute, second=0, microsecond=0).astimezone(UTC)
            while candidate <= moment:
                candidate += timedelta(hours=1)  # real hours: UTC arithmetic
            return candidate.replace(tzinfo=None)
        day = moment.astimezone(tz).date() - timedelta(days=1)
        for _ in range(40):  # a month at most, and a day either side
            if self._runs_on(day):
                wall = datetime.combine(day, time(self.hour, self.minute), tzinfo=tz)  # fold=0
                instant = wall.astimezone(UTC)
                if instant > moment:
                    return instant.replace(tzinfo=None)
            day += timedelta(days=1)
        raise AssertionError(f"no run of {self} within 40 days of {after}")  # pragma: no cover

    def _runs_on(self, day: date) -> bool:
        if self.interval == IntervalType.WEEKLY:
            return day.isoweekday() % 7 + 1 == self.day  # isoweekday: Monday 1 .. Sunday 7
        if self.interval == IntervalType.MONTHLY:
            return day.day == self.day
        return True

    def runs_between(self, start: datetime, end: datetime, cap: int = 100_000) -> int:
        """How many runs fall in ``(start, end]`` (counting stops at ``cap``)."""
        count, moment = 0, start
        while count < cap:
            moment = self.next_after(moment)
            if moment > end:
                break
            count += 1
        return count


_EXPLAIN = {
    IntervalType.HOURLY: "MM: minute 0-59 of every hour",
    IntervalType.DAILY: "MM:HH: minute 0-59, hour 0-23",
    IntervalType.WEEKLY: "MM:HH:D: minute 0-59, hour 0-23, day of week 1 (Sunday) to 7 (Saturday)",
    IntervalType.MONTHLY: "MM:HH:DD: minute 0-59, hour 0-23, day of month 1-28",
}


@dataclass(slots=True)
class VMSnapshotPolicy:
    """A recurring snapshot policy: at most one per VM. ``max_snaps`` is how many of the
    snapshots this policy took are kept; manual snapshots are never counted or pruned."""

    id: int
    uuid: str
    vm_id: int
    account_id: int
    domain_id: int
    interval: IntervalType
    schedule: str
    timezone: str
    max_snaps: int
    memory: bool = False
    quiesce: bool = False
    next_run: datetime | None = None  # naive UTC; the scheduler runs it when due
    last_run: datetime | None = None  # naive UTC; when the last run was launched
    created: datetime | None = None

    @property
    def parsed(self) -> Schedule:
        return Schedule.parse(self.interval, self.schedule, self.timezone)


@dataclass(slots=True)
class ResourceLimit:
    """A row of ``resource_limit``: the limit of one account or one domain (not both)."""

    id: int
    type: str
    max: int
    account_id: int | None = None
    domain_id: int | None = None
