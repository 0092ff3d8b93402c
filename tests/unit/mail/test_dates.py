from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from imapapi.mail.dates import format_iso, message_date


@pytest.mark.parametrize(
    ("header", "internal", "expected"),
    [
        pytest.param(
            "Mon, 7 Oct 2019 09:05:23 +0300", None, "2019-10-07T06:05:23.000Z", id="seed-example"
        ),
        pytest.param(
            "Mon, 7 Oct 2019 09:05:23 +0300",
            "2020-01-01T00:00:00+00:00",
            "2019-10-07T06:05:23.000Z",
            id="header-wins",
        ),
        pytest.param("7 Oct 19 09:05:23 GMT", None, "2019-10-07T09:05:23.000Z", id="two-digit"),
        pytest.param(
            "Mon, 7 Oct 2019 09:05:23 -0000", None, "2019-10-07T09:05:23.000Z", id="-0000"
        ),
        pytest.param("Mon, 7 Oct 2019 09:05:23", None, "2019-10-07T09:05:23.000Z", id="no-zone"),
        pytest.param(
            "sometime yesterday",
            "2019-10-07T06:05:24+00:00",
            "2019-10-07T06:05:24.000Z",
            id="garbage-falls-back",
        ),
        pytest.param(
            "Thu, 32 Oct 2019 09:05:23 +0000",
            "2019-10-07T09:05:23+03:00",
            "2019-10-07T06:05:23.000Z",
            id="impossible-day-falls-back",
        ),
        pytest.param(
            "Thu, 7 Oct 99999 09:05:23 +0000",
            "2019-10-07T06:05:23+00:00",
            "2019-10-07T06:05:23.000Z",
            id="year-overflow-falls-back",
        ),
        pytest.param(None, "2019-10-07T09:05:23+03:00", "2019-10-07T06:05:23.000Z", id="missing"),
        pytest.param("", "not a date", None, id="nothing-usable"),
        pytest.param(None, None, None, id="nothing"),
    ],
)
def test_message_date(header: str | None, internal: str | None, expected: str | None) -> None:
    assert message_date(header, internal) == expected


def test_format_iso_milliseconds_and_small_years() -> None:
    moment = datetime(5, 1, 2, 3, 4, 5, 678_999, tzinfo=timezone(timedelta(hours=-1)))
    assert format_iso(moment) == "0005-01-02T04:04:05.678Z"
    assert format_iso(datetime(2019, 10, 7, tzinfo=UTC)) == "2019-10-07T00:00:00.000Z"
