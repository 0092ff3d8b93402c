"""The versioned envelope of every stored document, `{"v": 1, "d": …}`, for both backends.

A document is written with its payload version and refused, with a specific error raised from
the cause, when it is not valid JSON or carries a version this imapapi does not know (STYLE.md
12). SQLite hands back text, Redis bytes; `load` takes either.

orjson writes and reads them (a webhook payload: ~1 µs to write against ~8 µs for the standard
library's encoder, issue 17); what it refuses (a lone surrogate, an integer beyond 64 bits, a
non-text key) goes through the standard library as before, and writes the same compact text.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from imapapi.errors import CorruptRecordError

PAYLOAD_VERSION = 1


# json.dumps builds this encoder on every call; the same one, built once, writes the same text.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# What `dump` writes before the document itself, and after it.
_HEAD = b'{"v":%d,"d":' % PAYLOAD_VERSION
_TAIL = b"}"


def dump(value: Any) -> str:
    """Serialize a stored document with its payload version (STYLE.md 12)."""
    doc = {"v": PAYLOAD_VERSION, "d": value}
    try:
        return orjson.dumps(doc).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is one
        return _COMPACT.encode(doc)


def load(raw: bytes | str, what: str) -> Any:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # the standard library reads what orjson refuses, e.g. an escaped lone surrogate
            doc = json.loads(raw)
        except (TypeError, ValueError) as exc:
            raise CorruptRecordError(f"stored {what} is not valid JSON") from exc
    except TypeError as exc:
        raise CorruptRecordError(f"stored {what} is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("v") != PAYLOAD_VERSION or "d" not in doc:
        raise CorruptRecordError(f"stored {what} has an unknown payload version")
    return doc["d"]


def load_object(raw: bytes | str, what: str) -> dict[str, Any]:
    """`load` of a document that must be a JSON object."""
    data = load(raw, what)
    if not isinstance(data, dict):
        raise CorruptRecordError(f"stored {what} is not an object")
    return data


def stored_text(raw: bytes | str) -> bytes | None:
    """The document's own JSON as `dump` wrote it (UTF-8), cut out of the stored text without
    parsing it again; None when the text is not shaped as `dump` writes it.

    Call it on text `load` accepted: a webhook's body is the event's payload exactly as stored,
    so it is neither parsed nor encoded again for each POST.
    """
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text to send as it is
            return None
    if raw.startswith(_HEAD) and raw.endswith(_TAIL):
        return raw[len(_HEAD) : -len(_TAIL)]
    return None
