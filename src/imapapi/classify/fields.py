"""Reading the few header fields the classifiers look at, tolerant of anything."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from email.message import Message
from email.utils import parseaddr

Headers = Mapping[str, Sequence[str]]


def lowercase_keys(headers: Headers) -> dict[str, list[str]]:
    """A copy with lowercase names (parse_header_block already gives that; others may not)."""
    out: dict[str, list[str]] = {}
    for name, values in headers.items():
        if isinstance(values, str):  # a bare string where a list was expected
            values = [values]
        out.setdefault(str(name).strip().lower(), []).extend(str(value) for value in values)
    return out


def first(headers: Headers, name: str) -> str | None:
    """The first non-empty value of `name`, stripped."""
    for value in headers.get(name, ()):
        if value.strip():
            return value.strip()
    return None


_COMMENT = re.compile(r"\([^()]*\)")


def keyword(value: str) -> str:
    """The first token, lowercased, without ";" parameters or comments.

    RFC 3834 §5: ``auto-submitted-field = "Auto-Submitted:" [CFWS] auto-submitted [CFWS]
    *( ";" [CFWS] extension-parameter [CFWS] )`` — so "auto-replied (vacation)" and
    "Auto-Replied; owner-email=…" both mean "auto-replied".
    """
    text = value.split(";", 1)[0]
    while True:  # comments nest (RFC 5322 §3.2.2): strip innermost first
        stripped = _COMMENT.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    words = text.split()
    return words[0].lower() if words else ""


# RFC 5322 §3.4.1 addr-spec as dot-atom "@" dot-atom, ASCII atext only: what parseaddr returns
# unchanged, so it is taken as it is (listings classify every message; the sender they pass is
# an address already, and parseaddr costs most of a classification).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*")


def address(value: str | None) -> str | None:
    """The addr-spec of a From-like value ("Name <a@b>" or "a@b"), lowercased."""
    if not value:
        return None
    if _PLAIN_ADDRESS.fullmatch(value):
        return value.lower()
    try:
        _name, addr = parseaddr(value)
    except Exception:  # parseaddr has had crash bugs on hostile input
        return None
    return addr.strip().lower() or None


def local_part(value: str | None) -> str | None:
    addr = address(value)
    if addr is None:
        return None
    local, _at, _domain = addr.rpartition("@")
    return local or addr


def content_type(value: str | None) -> tuple[str, str | None]:
    """(maintype/subtype, report-type parameter) of a Content-Type value (RFC 6522 §3)."""
    if not value:
        return "text/plain", None
    if "report" not in value.lower():  # fast path: only multipart/report needs its parameters
        return value.split(";", 1)[0].strip().lower(), None
    message = Message()
    try:
        message["Content-Type"] = value
        report_type = message.get_param("report-type")
        ctype = message.get_content_type()
    except Exception:  # a malformed value is treated as absent
        return "text/plain", None
    if isinstance(report_type, tuple):  # RFC 2231 encoded parameter
        report_type = report_type[2]
    return ctype, (str(report_type).strip().lower() if report_type else None)


def nfc(text: str) -> str:
    """Subjects compared after NFC: "é" may arrive as e + combining accent."""
    return unicodedata.normalize("NFC", text)
