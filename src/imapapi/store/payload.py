"""The versioned envelope of every stored document, `{"v": 1, "d": …}`, for both backends.

A document is written with its payload version and refused, with a specific error raised from
the cause, when it is not valid JSON or carries a version this imapapi does not know (STYLE.md
12). SQLite hands back text, Redis bytes; `load` takes either.
"""

from __future__ import annotations

import json
from typing import Any

from imapapi.errors import CorruptRecordError

PAYLOAD_VERSION = 1


# json.dumps builds this encoder on every call; the same one, built once, writes the same text.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump(value: Any) -> str:
    """Serialize a stored document with its payload version (STYLE.md 12)."""
    return _COMPACT.encode({"v": PAYLOAD_VERSION, "d": value})


def load(raw: bytes | str, what: str) -> Any:
    try:
        doc = json.loads(raw)
    except (TypeError, ValueError) as exc:
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
