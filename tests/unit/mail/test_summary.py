from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.errors import ProtocolError
from imapapi.imap.types import Address, BodyPart, Envelope, FetchResult
from imapapi.mail import summary as summary_module
from imapapi.mail.dates import message_date
from imapapi.mail.headers import normalize_msgid, parse_msgid_list
from imapapi.mail.ids import decode_attachment_id, decode_text_id, encode_attachment_id
from imapapi.mail.summary import message_summary
from tests.unit.mail.structures import (
    ALTERNATIVE,
    FORWARDED,
    MIXED_RELATED,
    NO_TEXT,
    SINGLE_HTML,
    attached,
    leaf,
    multi,
)

PETER = Address(name="Peter Põder", address="Peter.Poder@example.com")
ANDRIS = Address(name="", address="andris@imapapi.com")
SEED_ENVELOPE = Envelope(
    date="Mon, 07 Oct 2019 09:05:23 +0300",
    subject="Test message",
    from_=(PETER,),
    sender=(PETER,),  # RFC 3501 §7.4.2: the server copies From when Sender is missing
    reply_to=(PETER,),
    to=(ANDRIS,),
    message_id="<0ebdd7b084794911b03986c827128f1b@example.com>",
)


def fetch(**changes: Any) -> FetchResult:
    values: dict[str, Any] = {
        "seq": 7,
        "uid": 481,
        "flags": (),
        "internal_date": "2019-10-07T06:05:24+00:00",
        "size": 4334,
        "envelope": SEED_ENVELOPE,
        "body_structure": ALTERNATIVE,
    }
    values.update(changes)
    return FetchResult(**values)


def summarize(**changes: Any) -> dict[str, Any]:
    return message_summary(fetch(**changes), index=1, path="INBOX")


def test_seed_listing_example() -> None:
    assert summarize() == {
        "id": "AAAAAQAAAeE",
        "uid": 481,
        "path": "INBOX",
        "date": "2019-10-07T06:05:23.000Z",
        "size": 4334,
        "flags": [],
        "unseen": True,
        "subject": "Test message",
        "from": {"name": "Peter Põder", "address": "Peter.Poder@example.com"},
        "to": [{"name": "", "address": "andris@imapapi.com"}],
        "messageId": "<0ebdd7b084794911b03986c827128f1b@example.com>",
        "text": {"id": "AAAAAQAAAeEbLw", "encodedSize": {"plain": 17, "html": 2135}},
    }


def test_is_json_serializable() -> None:
    gmail = summarize(gmail_labels=("\\Inbox",), gmail_msgid=2**63, gmail_thrid=1)
    assert json.loads(json.dumps(gmail)) == gmail


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param(
            ("\\Seen", "\\Flagged"), {"flags": ["\\Seen", "\\Flagged"], "unseen": False}, id="seen"
        ),
        pytest.param(("\\SEEN",), {"flags": ["\\SEEN"], "unseen": False}, id="case-insensitive"),
        pytest.param(("$Forwarded",), {"flags": ["$Forwarded"], "unseen": True}, id="keyword"),
        pytest.param(None, {}, id="not-fetched"),
        # Session state (RFC 3501 §2.3.2), e.g. Cyrus's answer to the announcing connection.
        pytest.param(
            ("\\Recent", "\\Seen"), {"flags": ["\\Seen"], "unseen": False}, id="recent-hidden"
        ),
        pytest.param(("\\RECENT",), {"flags": [], "unseen": True}, id="recent-any-case"),
    ],
)
def test_flags(flags: tuple[str, ...] | None, expected: dict[str, Any]) -> None:
    summary = summarize(flags=flags)
    assert {key: summary[key] for key in ("flags", "unseen") if key in summary} == expected


def test_gmail_items() -> None:
    summary = summarize(
        gmail_labels=("\\Inbox", "\\Important", "Work/Projects"),
        gmail_msgid=1_646_287_284_547_898_234,
        gmail_thrid=1_646_287_284_547_898_000,
    )
    assert summary["labels"] == ["\\Inbox", "\\Important", "Work/Projects"]
    assert summary["emailId"] == "1646287284547898234"
    assert summary["threadId"] == "1646287284547898000"
    assert "labels" not in summarize()


@pytest.mark.parametrize(
    ("envelope_date", "internal_date", "expected"),
    [
        pytest.param(None, "2019-10-07T09:05:23+03:00", "2019-10-07T06:05:23.000Z", id="missing"),
        pytest.param("garbage", "2019-10-07T06:05:23+00:00", "2019-10-07T06:05:23.000Z", id="bad"),
        pytest.param(None, None, None, id="none-at-all"),
    ],
)
def test_date_fallback(
    envelope_date: str | None, internal_date: str | None, expected: str | None
) -> None:
    summary = summarize(
        envelope=Envelope(date=envelope_date, subject="x"), internal_date=internal_date
    )
    assert summary.get("date") == expected


def test_addresses() -> None:
    group_start = Address(name="Friends", address="")  # RFC 3501 §7.4.2 group markers
    group_end = Address(name="", address="")
    envelope = Envelope(
        date=None,
        subject=None,
        from_=(PETER,),
        sender=(Address(name="List", address="list-bounces@example.org"),),
        reply_to=(Address(name="List", address="list@example.org"),),
        to=(group_start, ANDRIS, Address(name="=?utf-8?q?J=C3=BCri?=", address="j@x"), group_end),
        cc=(Address(name=" Spaced ", address="c@x"),),
        bcc=(Address(name="", address="b@x"),),
    )
    summary = summarize(envelope=envelope)
    assert summary["subject"] == ""
    assert summary["sender"] == {"name": "List", "address": "list-bounces@example.org"}
    assert summary["replyTo"] == [{"name": "List", "address": "list@example.org"}]
    assert summary["to"] == [
        {"name": "", "address": "andris@imapapi.com"},
        {"name": "Jüri", "address": "j@x"},
    ]
    assert summary["cc"] == [{"name": "Spaced", "address": "c@x"}]
    assert summary["bcc"] == [{"name": "", "address": "b@x"}]


def test_missing_envelope_and_structure() -> None:
    summary = summarize(envelope=None, body_structure=None, size=None, internal_date=None)
    assert summary == {
        "id": "AAAAAQAAAeE",
        "uid": 481,
        "path": "INBOX",
        "flags": [],
        "unseen": True,
        "subject": "",
    }


def test_missing_uid_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        summarize(uid=None)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("plain", "plain"),
        ("=?utf-8?b?w7Zrw7Zr?=", "ökök"),  # a server that left it encoded
        ("=?broken", "=?broken"),
    ],
)
def test_subject(subject: str, expected: str) -> None:
    assert summarize(envelope=Envelope(date=None, subject=subject))["subject"] == expected


@pytest.mark.parametrize(
    ("in_reply_to", "message_id", "expected"),
    [
        pytest.param("<a@b>", "<m@x>", {"inReplyTo": "<a@b>", "messageId": "<m@x>"}, id="plain"),
        pytest.param(
            "<a@b> <c@d>",
            " m@x ",
            {"inReplyTo": "<a@b>", "messageId": "<m@x>"},
            id="several-unbracketed",
        ),
        pytest.param(None, None, {}, id="absent"),
        pytest.param("garbage", "", {}, id="garbage"),
    ],
)
def test_message_ids(in_reply_to: str | None, message_id: str | None, expected: object) -> None:
    envelope = Envelope(date=None, subject="", in_reply_to=in_reply_to, message_id=message_id)
    summary = summarize(envelope=envelope)
    assert {k: summary[k] for k in ("inReplyTo", "messageId") if k in summary} == expected


def test_references_from_fetched_header_section() -> None:
    section = b"References: <a@b>\r\n <c@d> (comment)\r\n\r\n"
    summary = summarize(sections={"BODY[HEADER.FIELDS (REFERENCES)]": section})
    assert summary["references"] == ["<a@b>", "<c@d>"]
    assert "references" not in summarize()


def _attachment(part: str, content_type: str, size: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": encode_attachment_id(1, 481, part),
        "contentType": content_type,
        "encodedSize": size,
        **extra,
    }


@pytest.mark.parametrize(
    ("structure", "text_sizes", "attachments"),
    [
        pytest.param(ALTERNATIVE, {"plain": 17, "html": 2135}, None, id="alternative"),
        pytest.param(SINGLE_HTML, {"html": 300}, None, id="single-html"),
        pytest.param(
            NO_TEXT,
            None,
            [_attachment("1", "application/pdf", 5000, filename="scan.pdf", inline=False)],
            id="no-text",
        ),
        pytest.param(
            MIXED_RELATED,
            {"plain": 10, "html": 100},
            [
                _attachment("1.2", "image/png", 2048, inline=True, contentId="<logo@x>"),
                _attachment("2", "application/pdf", 9000, filename="report.pdf", inline=False),
            ],
            id="mixed-related-inline-image",
        ),
        pytest.param(
            FORWARDED,
            {"plain": 20},
            [_attachment("2", "message/rfc822", 4000, inline=False)],
            id="message-rfc822",
        ),
        pytest.param(
            multi(
                "TEXT",
                "mixed",
                leaf("1", "text/plain", 5),
                attached("2", "application/pdf", "=?UTF-8?Q?=E2=82=AC_rates.pdf?="),
                leaf(
                    "3",
                    "image/jpeg",
                    700,
                    params=(("name", "photo.jpg"),),
                    disposition="inline",
                    content_id="bare-cid@x",
                ),
            ),
            {"plain": 5},
            [
                _attachment("2", "application/pdf", 1000, filename="€ rates.pdf", inline=False),
                _attachment(
                    "3",
                    "image/jpeg",
                    700,
                    filename="photo.jpg",
                    inline=True,
                    contentId="<bare-cid@x>",
                ),
            ],
            id="encoded-filename-and-bare-content-id",
        ),
    ],
)
def test_text_and_attachments(
    structure: BodyPart,
    text_sizes: dict[str, int] | None,
    attachments: list[dict[str, Any]] | None,
) -> None:
    summary = summarize(body_structure=structure)
    assert summary.get("text", {}).get("encodedSize") == text_sizes
    assert summary.get("attachments") == attachments


def test_text_and_attachment_ids_name_the_parts() -> None:
    summary = summarize(body_structure=MIXED_RELATED, uid=9)
    assert decode_text_id(summary["text"]["id"]) == (1, 9, "1.1.1", "1.1.2")
    ids = [decode_attachment_id(a["id"]) for a in summary["attachments"]]
    assert ids == [(1, 9, "1.2"), (1, 9, "2")]


def test_unnameable_parts_are_left_out() -> None:
    # A part number too long for an id (hostile nesting) must not break the whole listing.
    deep = ".".join(["1"] * 40)
    structure = multi("TEXT", "mixed", leaf("1", "text/plain"), leaf(deep, "image/png"))
    summary = summarize(body_structure=structure)
    assert "attachments" not in summary
    assert summary["text"]["encodedSize"] == {"plain": 100}


# --- the short paths give what the general parsers give --------------------------------------

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 07 Oct 2019 09:05:23 +0300",
        "7 Oct 2019 09:05 -0000",
        "Mon,07 oct 2019 23:59:59 -1159",
        "Sun, 31 Dec 9999 23:00:00 -0500",  # past year 9999 in UTC: no date from either
        "Fri, 31 Dec 9999 23:30:00 -0000",  # the last minute there is, no offset to apply
        "Wed, 01 Jan 1000 00:30:00 +0100",  # year 999 in UTC: still four digits
        "Mon, 30 Feb 2019 09:05:23 +0000",
        "Mon, 07 Oct 2019 24:05:23 +0000",
        "Mon, 07 Oct 2019 09:05:60 +0000",
        "Mon, 07 Oct 0099 09:05:23 +0000",  # the general parser reads 2-digit years
        "Mon, 07 Oct 2019 09:05:23 +2400",
        "Mon, 07 Foo 2019 09:05:23 +0000",
        "Mon, 07 Oct 2019 09:05:23 +0000 (UTC)",
        "Mon, 07 Oct 2019 09:05:23 GMT",
        "",
        "garbage",
    ],
)
def test_plain_dates_read_as_the_general_parser_reads_them(value: str) -> None:
    internal = "2020-01-02T03:04:05+00:00"
    assert summary_module._date(value, internal) == message_date(value, internal)


@given(
    moment=st.datetimes(min_value=_dt.datetime(1000, 1, 2), max_value=_dt.datetime(9999, 12, 30)),
    offset=st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    weekday=st.booleans(),
    seconds=st.booleans(),
    padded=st.booleans(),
    case=st.sampled_from([str.title, str.lower, str.upper]),
)
def test_any_plain_date_reads_as_the_general_parser_reads_it(
    moment: _dt.datetime,
    offset: int,
    weekday: bool,
    seconds: bool,
    padded: bool,
    case: Callable[[str], str],
) -> None:
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    day = f"{moment.day:02d}" if padded else str(moment.day)
    clock = f"{moment.hour:02d}:{moment.minute:02d}" + (f":{moment.second:02d}" if seconds else "")
    value = f"{day} {case(_MONTH_NAMES[moment.month - 1])} {moment.year:04d} {clock} {zone}"
    if weekday:
        value = f"{_WEEKDAYS[moment.weekday()]}, {value}"
    assert summary_module._date(value, None) == message_date(value, None)


@pytest.mark.parametrize(
    "value",
    [
        "<a@b.example>",
        "<a(b)@c>",
        "< a@b >",
        "<>",
        "<a@b> <c@d>",
        "a@b",
        "<a@b",
        "(comment) <a@b>",
        "",
        None,
    ],
)
def test_plain_message_ids_read_as_the_general_parser_reads_them(value: str | None) -> None:
    assert summary_module._msgid(value) == normalize_msgid(value)
    first = parse_msgid_list(value)
    assert summary_module._first_msgid(value) == (first[0] if first else None)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_any_message_id_reads_as_the_general_parser_reads_it(value: str) -> None:
    for candidate in (value, f"<{value}>"):
        assert summary_module._msgid(candidate) == normalize_msgid(candidate)
        first = parse_msgid_list(candidate)
        assert summary_module._first_msgid(candidate) == (first[0] if first else None)


# --- the cap on header values (listings and webhooks) ----------------------------------------

CAP = summary_module.MAX_HEADER_VALUE


def test_a_summary_within_the_cap_is_not_marked() -> None:
    assert "truncated" not in summarize()


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("x" * (CAP + 1), "x" * CAP),
        ("ä" * CAP, "ä" * (CAP // 2)),  # two octets each: cut in octets, not characters
        ("x" + "€" * CAP, "x" + "€" * ((CAP - 1) // 3)),  # a character split by the cut goes
    ],
    ids=["ascii", "two-octet", "split-character"],
)
def test_a_long_subject_is_cut_in_octets(subject: str, kept: str) -> None:
    summary = summarize(envelope=Envelope(date=None, subject=subject))
    assert summary["subject"] == kept
    assert len(summary["subject"].encode()) <= CAP
    assert summary["truncated"] == ["subject"]


def test_the_details_form_keeps_every_value_whole() -> None:
    subject = "x" * (CAP * 3)
    whole = message_summary(
        fetch(envelope=Envelope(date=None, subject=subject)), index=1, path="INBOX", max_value=None
    )
    assert whole["subject"] == subject and "truncated" not in whole


def test_address_lists_keep_the_first_addresses_that_fit() -> None:
    many = tuple(Address(name=f"Person {n}", address=f"p{n}@example.com") for n in range(5000))
    huge_name = Address(name="N" * (CAP * 2), address="big@example.com")
    envelope = Envelope(
        date=None, subject="s", from_=(huge_name,), sender=(huge_name,), to=many, cc=many[:3]
    )
    summary = summarize(envelope=envelope)
    assert summary["truncated"] == ["from", "to"]
    assert summary["from"] == {"name": "N" * CAP, "address": "big@example.com"}
    kept = summary["to"]
    assert kept[0]["address"] == "p0@example.com"
    assert 0 < len(kept) < 5000
    assert sum(len(a["name"]) + len(a["address"]) for a in kept) <= CAP
    assert len(summary["cc"]) == 3  # a short list is left alone


def test_references_keep_the_root_and_the_latest_ids() -> None:
    ids = [f"<{n:06d}@example.com>" for n in range(3000)]
    header = ("References: " + " ".join(ids) + "\r\n\r\n").encode()
    summary = summarize(sections={"BODY[HEADER.FIELDS (REFERENCES)]": header})
    kept = summary["references"]
    assert summary["truncated"] == ["references"]
    assert kept[0] == ids[0] and kept[-1] == ids[-1]  # the thread's root, the parent
    assert kept[1:] == ids[-(len(kept) - 1) :]
    assert sum(len(i) for i in kept) <= CAP


def test_long_message_ids_are_cut() -> None:
    long_id = "<" + "a" * CAP + "@example.com>"
    envelope = Envelope(date=None, subject="s", message_id=long_id, in_reply_to=long_id)
    summary = summarize(envelope=envelope)
    assert summary["truncated"] == ["messageId", "inReplyTo"]
    assert summary["messageId"] == long_id[:CAP] and summary["inReplyTo"] == long_id[:CAP]


@pytest.mark.parametrize(
    ("sections", "in_reply_to", "expected"),
    [
        pytest.param({}, None, None, id="headers-not-fetched"),
        pytest.param(
            {"BODY[HEADER.FIELDS (REFERENCES)]": b"\r\n"},
            None,
            "TMGViZGQ3YjA4NDc5NDkxMWIwMzk4NmM4MjcxMjhmMWJAZXhhbXBsZS5jb20",
            id="own-message-id",
        ),
        pytest.param(
            {"BODY[HEADER.FIELDS (REFERENCES)]": b"References: <root@x> <parent@x>\r\n\r\n"},
            "<parent@x>",
            "Tcm9vdEB4",
            id="references-root",
        ),
        pytest.param(
            {"BODY[HEADER]": b"Subject: x\r\n\r\n"}, "<parent@x>", "TcGFyZW50QHg", id="in-reply-to"
        ),
    ],
)
def test_thread_id_from_the_threading_headers(
    sections: dict[str, bytes], in_reply_to: str | None, expected: str | None
) -> None:
    envelope = dataclasses.replace(SEED_ENVELOPE, in_reply_to=in_reply_to)
    summary = summarize(envelope=envelope, sections=sections)
    assert summary.get("threadId") == expected


def test_gmail_thread_id_wins_over_the_headers() -> None:
    sections = {"BODY[HEADER.FIELDS (REFERENCES)]": b"References: <root@x>\r\n\r\n"}
    assert summarize(gmail_thrid=77, sections=sections)["threadId"] == "77"
