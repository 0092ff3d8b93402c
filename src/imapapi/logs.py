"""Structured logs: one JSON object per line on stderr, and a redaction filter.

Every record becomes `{"time", "level", "logger", "message"}` plus `account`, `duration` (and
the few other fields of `EXTRA_FIELDS`) when the caller passes them in `extra=` (STYLE.md 22).
Credentials must never be logged in the first place; `RedactingFilter` is the last line of
defence for the one that slips through (a bearer token in an exception text, a `pass` value in a
repr), and it runs on the handler so third-party loggers (uvicorn, aiohttp) are covered too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

# Record attributes copied into the JSON object when a caller sets them through `extra=`.
EXTRA_FIELDS = ("account", "duration", "event_id", "status", "route", "method")

MASK = "***"


def _mask_value(match: re.Match[str]) -> str:
    # Keep the quotes of a quoted value, so a JSON or repr text stays readable and valid.
    key, value = match.group(1), match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{key}{quote}{MASK}{quote}"


# (pattern, replacement) applied in order. Deliberately broad: masking a harmless value in a
# log line costs little, leaking a password costs a lot.
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # `Authorization: Bearer <token>` and bare `Bearer <token>`.
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1" + MASK),
    # JSON / Python-repr values of secret-looking keys: "pass": "x", 'password': 'x'.
    (
        re.compile(
            r"""(?ix)
            (["']?(?:pass|passwd|password|secret|serviceSecret|accessToken|token|apiKey
               |verifier)["']?
             \s*[:=]\s*)
            ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}\])]+)
            """
        ),
        _mask_value,
    ),
    # Our API tokens are 32 random bytes in hex (credentials/tokens.py).
    (re.compile(r"\b[0-9a-f]{64}\b"), MASK),
    # SASL PLAIN / XOAUTH2 initial responses in an IMAP or SMTP line (RFC 4616, RFC 7628).
    (re.compile(r"(?i)(\bAUTHENTICATE\s+(?:PLAIN|XOAUTH2|OAUTHBEARER)\s+)\S+"), r"\1" + MASK),
)


def redact(text: str) -> str:
    """`text` with anything that looks like a credential replaced by `***`."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks credentials in the rendered message of every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the formatter report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; exception and stack texts are redacted as well."""

    def format(self, record: logging.LogRecord) -> str:
        created = time.gmtime(record.created)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", created) + f".{int(record.msecs):03d}Z"
        out: dict[str, Any] = {
            "time": stamp,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            out["exception"] = redact(record.exc_text)
        if record.stack_info:
            out["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def configure(level: str, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records to `stream` (stderr) as JSON lines at `level`.

    Replaces the root handlers, so calling it twice does not duplicate lines. Returns the
    handler (tests read it; the CLI ignores it).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
