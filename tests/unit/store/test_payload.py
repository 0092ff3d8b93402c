"""The stored documents' envelope: written compact with its version, read back, refused when bad."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imapapi.errors import CorruptRecordError
from imapapi.events.model import encode_payload
from imapapi.store.payload import dump, load, stored_text

WEBHOOK = {
    "account": "a",
    "path": "Входящие",
    "event": "messageNew",
    "data": {"subject": 'quote " and \\ and \n and \x01', "uid": 7, "flags": [], "n": None},
}


@pytest.mark.parametrize(
    "value",
    [
        WEBHOOK,
        {"big": 2**70},  # beyond orjson's 64 bits
        {1: "int key"},  # orjson writes text keys only
        {"lone": "\udcff"},  # a header decoded with surrogateescape
        [1.5, True, None, "x"],
    ],
    ids=["webhook", "big-int", "int-key", "lone-surrogate", "list"],
)
def test_written_as_the_standard_compact_json_and_read_back(value: Any) -> None:
    text = dump(value)
    doc = {"v": 1, "d": value}
    assert text == json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    assert load(text, "doc") == json.loads(text)["d"]


@pytest.mark.parametrize("raw", ["not json", '{"v":2,"d":1}', '{"d":1}', "[1]", b"\xff"])
def test_bad_documents_are_refused(raw: str | bytes) -> None:
    with pytest.raises(CorruptRecordError):
        load(raw, "doc")


def test_an_escaped_lone_surrogate_still_reads() -> None:
    assert load('{"v":1,"d":"\\udcff"}', "doc") == "\udcff"


@pytest.mark.parametrize("as_bytes", [False, True], ids=["sqlite-text", "redis-bytes"])
def test_stored_text_is_the_webhook_body(as_bytes: bool) -> None:
    text = dump(WEBHOOK)
    raw = text.encode() if as_bytes else text
    assert stored_text(raw) == encode_payload(WEBHOOK)


@pytest.mark.parametrize(
    "raw",
    [dump({"lone": "\udcff"}), '{"d":{},"v":1}', '{"v": 1, "d": {}}'],
    ids=["lone-surrogate", "other-key-order", "other-spacing"],
)
def test_stored_text_only_from_what_dump_writes(raw: str) -> None:
    assert stored_text(raw) is None
