"""JSON log lines and the redaction filter (src/imapapi/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from imapapi.logs import MASK, JsonFormatter, RedactingFilter, configure, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer ***"),
        ("bearer tok.en-1~2+3/4=", "bearer ***"),
        ('{"user": "u", "pass": "verysecret"}', '{"user": "u", "pass": "***"}'),
        ("{'user': 'u', 'pass': 'verysecret'}", "{'user': 'u', 'pass': '***'}"),
        ('"password":"with \\" quote"', '"password":"***"'),
        ("login pass=verysecret user=u", "login pass=*** user=u"),
        ("serviceSecret: abc, next", "serviceSecret: ***, next"),
        ("token " + "0f" * 32 + " printed", f"token {MASK} printed"),
        ("A1 AUTHENTICATE PLAIN AHVzZXIAc2VjcmV0", "A1 AUTHENTICATE PLAIN ***"),
        ("user alice connected in 12 ms", "user alice connected in 12 ms"),
        (
            "event 6f0c1f6c1d0c4b8b8a0f5e3e2f1a9c7d delivered",
            "event 6f0c1f6c1d0c4b8b8a0f5e3e2f1a9c7d delivered",
        ),
        ("passes through", "passes through"),
    ],
    ids=[
        "authorization-header",
        "bare-bearer",
        "json-pass",
        "repr-pass",
        "escaped-quote",
        "key-value",
        "service-secret",
        "api-token-hex",
        "sasl-plain",
        "plain-text-kept",
        "event-id-kept",
        "word-prefix-kept",
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def make_record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("imapapi.test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_json_line_has_the_fields_and_the_extras() -> None:
    record = make_record("synced %d folders", 3, account="alice", duration=0.25, other="x")
    line = json.loads(JsonFormatter().format(record))
    assert set(line) == {"time", "level", "logger", "message", "account", "duration"}
    assert line["level"] == "INFO" and line["logger"] == "imapapi.test"
    assert line["message"] == "synced 3 folders"
    assert line["account"] == "alice" and line["duration"] == 0.25
    assert line["time"].endswith("Z") and "T" in line["time"]


def test_the_filter_masks_the_rendered_message() -> None:
    record = make_record("login with %r", {"user": "u", "pass": "verysecret"})
    assert RedactingFilter().filter(record) is True
    assert "verysecret" not in record.getMessage()
    assert record.getMessage() == "login with {'user': 'u', 'pass': '***'}"


def test_exception_text_is_redacted() -> None:
    try:
        raise ValueError("refused: Bearer abcdefghijkl")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "abcdefghijkl" not in line["exception"] and "Bearer ***" in line["exception"]


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_configure_writes_json_at_the_level_once(restore_root: None) -> None:
    stream = io.StringIO()
    configure("WARNING", stream)
    configure("WARNING", stream)  # again: still one handler of ours
    log = logging.getLogger("imapapi.somewhere")
    log.info("not shown")
    log.warning("token=%s for %s", "s3cr3t-value", "bob", extra={"account": "bob"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "WARNING",
            "logger": "imapapi.somewhere",
            "message": "token=*** for bob",
            "account": "bob",
        }
    ]
