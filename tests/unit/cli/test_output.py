"""What people read: relative times and aligned columns (cli/output.py)."""

from __future__ import annotations

import pytest

from imapapi.cli.output import print_table, relative

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (NOW + 42, "in 42s"),
        (NOW - 42, "42s ago"),
        (NOW - 59.9, "59s ago"),
        (NOW + 60, "in 1m"),
        (NOW - 3 * 3600 - 10, "3h ago"),
        (NOW - 5 * 86400, "5d ago"),
        (NOW, "0s ago"),
        ("2027-01-15T08:00:42.000Z", "in 42s"),
        (None, "-"),
    ],
    ids=["future", "past", "under-a-minute", "a-minute", "hours", "days", "now", "iso", "none"],
)
def test_relative(moment: float | str | None, shown: str) -> None:
    assert relative(moment, now=NOW) == shown


def test_table_aligns_columns_and_keeps_each_row_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(["ID", "STATE", "ERROR"], [["a", None, "line one\r\nline two"], ["bbbb", "ok", ""]])
    assert capsys.readouterr().out.splitlines() == [
        "ID    STATE  ERROR",
        "a     -      line one line two",
        "bbbb  ok     -",
    ]
