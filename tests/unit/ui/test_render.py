"""Small helpers of the pages: where sign-in may lead, and how durations read."""

from __future__ import annotations

import pytest

from imapapi.ui.render import _duration, environment, safe_next


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/settings", "/settings"),
        ("/accounts/a?p=1", "/accounts/a?p=1"),
        ("", "/"),
        (None, "/"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("settings", "/"),
    ],
)
def test_safe_next(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.0123, "12 ms"), (5, "0m 5s"), (3725, "1h 2m"), (2 * 86400 + 7200, "2d 2h")],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert _duration(seconds) == text


def test_templates_escape_everything() -> None:
    template = environment.from_string("<p>{{ value }}</p>")
    assert template.render(value="<script>x</script>") == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
