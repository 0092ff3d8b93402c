"""Message dates as the API writes them: ISO 8601, UTC, milliseconds: "2019-10-07T06:05:23.000Z"."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def format_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and "Z"; a naive datetime is taken as UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    # Formatted by hand: strftime("%Y") does not zero-pad years before 1000 on glibc.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_header_date(value: str | None) -> datetime | None:
    """The Date header (RFC 5322 §3.3, obsolete forms included) or None if unusable.

    A zone of "-0000" or none at all means "local time unknown" (RFC 5322 §3.3); it is read as
    UTC, which is as good a guess as any and keeps the value stable.
    """
    if not value or not value.strip():
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
        return moment if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None


def parse_internal_date(value: str | None) -> datetime | None:
    """INTERNALDATE (RFC 3501 §2.3.3) as the parser hands it over: ISO 8601 with an offset."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def message_date(header_date: str | None, internal_date: str | None) -> str | None:
    """The date of a message: its Date header, else INTERNALDATE, else None."""
    moment = parse_header_date(header_date) or parse_internal_date(internal_date)
    return format_iso(moment) if moment is not None else None
