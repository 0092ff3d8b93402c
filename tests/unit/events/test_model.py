from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.events.model import (
    EventName,
    derive_event_id,
    encode_payload,
    format_date,
    make_event,
    new_event_id,
)

# 2024-05-01T12:00:00Z
T0 = 1714564800.0


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (T0, "2024-05-01T12:00:00.000Z"),
        (T0 + 0.123, "2024-05-01T12:00:00.123Z"),
        (T0 + 0.9999, "2024-05-01T12:00:00.999Z"),  # truncated, never rounded into next second
        (0.0, "1970-01-01T00:00:00.000Z"),
    ],
    ids=["whole-second", "millis", "truncates", "epoch"],
)
def test_format_date(timestamp: float, expected: str) -> None:
    assert format_date(timestamp) == expected


def test_event_names_are_the_documented_wire_names() -> None:
    assert {e.value for e in EventName} == {
        "messageNew",
        "messageDeleted",
        "messageUpdated",
        "mailboxNew",
        "mailboxDeleted",
        "mailboxReset",
        "accountConnected",
        "authenticationError",
        "connectError",
        "messageSent",
        "messageFailed",
        "messageBounce",
        "messageReply",
        "messageAutoReply",
    }


def test_make_event_builds_the_design_envelope() -> None:
    data = {"id": "AAAAAQAAAeE", "uid": 350861, "changes": {"flags": {"added": ["\\Seen"]}}}
    record = make_event(
        account="example",
        event=EventName.MESSAGE_UPDATED,
        data=data,
        path="[Google Mail]/All Mail",
        special_use="\\All",
        event_id="evt-1",
        now=T0 + 0.5,
    )
    assert record.event_id == "evt-1"
    assert record.account == "example"
    assert record.created == T0 + 0.5
    assert record.payload == {
        "account": "example",
        "path": "[Google Mail]/All Mail",
        "specialUse": "\\All",
        "event": "messageUpdated",
        "eventId": "evt-1",
        "date": "2024-05-01T12:00:00.500Z",
        "data": data,
    }
    # The field order is the documented one (receivers reading raw JSON see the same shape).
    assert list(record.payload) == [
        "account",
        "path",
        "specialUse",
        "event",
        "eventId",
        "date",
        "data",
    ]


def test_make_event_defaults() -> None:
    record = make_event(account="a", event="accountConnected", data={})
    assert record.payload["path"] is None
    assert record.payload["specialUse"] is None
    assert record.payload["event"] == "accountConnected"
    assert record.payload["eventId"] == record.event_id
    assert len(record.event_id) == 32


def test_random_event_ids_differ() -> None:
    ids = {new_event_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "messageExploded"}, "messageExploded"),
        ({"account": ""}, "account"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "has space"}, "event_id"),
        ({"event_id": "crlf\r\nX-Evil: 1"}, "event_id"),
        ({"event_id": "pässe"}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
    ],
    ids=["unknown-event", "empty-account", "empty-id", "space", "crlf", "non-ascii", "too-long"],
)
def test_make_event_rejects(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"account": "a", "event": "messageNew", "data": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_event(**args)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        (("a", "messageNew", "INBOX", 7, 42), ("a", "messageNew", "INBOX", 7, 42), True),
        (("a", "messageNew", "INBOX", 7, 42), ("a", "messageNew", "INBOX", 7, 43), False),
        (("a", "bc"), ("ab", "c"), False),
        (("a", 1), ("a", "1"), False),
        (("Entwürfe/日本",), ("Entwürfe/日本",), True),
    ],
    ids=["same-parts", "other-uid", "no-concat-collision", "int-vs-str", "non-ascii"],
)
def test_derive_event_id(
    left: tuple[str | int, ...], right: tuple[str | int, ...], same: bool
) -> None:
    a, b = derive_event_id(*left), derive_event_id(*right)
    assert (a == b) is same
    # A derived id is a valid event id (it travels in a header).
    make_event(account="a", event="messageNew", data={}, event_id=a)


def test_derive_event_id_needs_parts() -> None:
    with pytest.raises(ValueError):
        derive_event_id()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"a": 1, "b": [1, 2]}, b'{"a":1,"b":[1,2]}'),
        ({"subject": "Grüße ✓"}, '{"subject":"Grüße ✓"}'.encode()),
        ({"subject": "bad \udcff byte"}, b'{"subject":"bad \\udcff byte"}'),
    ],
    ids=["compact", "utf8-not-escaped", "lone-surrogate-falls-back-to-escapes"],
)
def test_encode_payload(payload: dict[str, Any], expected: bytes) -> None:
    body = encode_payload(payload)
    assert body == expected
    assert json.loads(body) == payload


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(st.text() | st.integers(), min_size=1, max_size=6))
def test_derived_ids_stay_those_of_earlier_versions(parts: list[str | int]) -> None:
    # An id written before an upgrade must come out the same after it, or a change synced
    # twice across the upgrade would be delivered twice.
    material = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    expected = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    try:
        assert derive_event_id(*parts) == expected
    except UnicodeEncodeError:  # a lone surrogate: refused before as now
        with pytest.raises(UnicodeEncodeError):
            json.dumps(parts, ensure_ascii=False).encode("utf-8")


@given(st.dictionaries(st.text(), _JSON, max_size=6))
def test_encode_payload_is_json_dumps(payload: dict[str, Any]) -> None:
    try:
        expected = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        expected = json.dumps(payload, separators=(",", ":")).encode("ascii")
    assert encode_payload(payload) == expected


def _standard_id(parts: list[str | int]) -> str:
    """The derivation as the standard library's encoder writes it: ids of earlier versions."""
    material = json.dumps(parts, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]


@given(
    st.lists(
        st.one_of(
            st.text(st.characters(exclude_categories=())),  # control characters, surrogates
            st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits too
        ),
        min_size=1,
        max_size=6,
    )
)
def test_derived_ids_stay_those_of_the_standard_encoder(parts: list[str | int]) -> None:
    # An id must not change across versions: a change synced again after an upgrade would be
    # a second event. A part the standard encoder cannot write fails as it always did.
    try:
        expected = _standard_id(parts)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            derive_event_id(*parts)
        return
    assert derive_event_id(*parts) == expected


def test_a_derived_id_is_pinned() -> None:
    # The value the first versions derived for these parts; and awkward parts (control
    # characters, quotes, an integer beyond 64 bits) as the standard encoder writes them.
    assert derive_event_id("acc", "messageNew", "Entwürfe/日本", 7, 42) == (
        "30a8a0643cb4b2afd2595a3bffa38962"
    )
    assert derive_event_id('a\x00\n\x1f"\\', 2**64) == _standard_id(['a\x00\n\x1f"\\', 2**64])
