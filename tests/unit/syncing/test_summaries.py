"""messageNew's summary as the sync builds it (`enrich.py`: the lean FETCH reader, the header
fields read once for the summary and the verdict, threadId from the ids the summary read) is
byte for byte what the reference path builds: imapclient's tokenizer, each reader parsing its
own header fields, threadId by `thread_id` from the envelope's raw values. Over varied FETCH
responses: random envelopes, body structures and header fields."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.classify import signals, verdict
from imapapi.events.model import encode_payload
from imapapi.imap import parse
from imapapi.imap.reader import Response
from imapapi.imap.types import FetchResult
from imapapi.mail import summary as summary_module
from imapapi.mail.summary import message_summary
from imapapi.mail.threads import thread_id
from imapapi.sync import events as ev
from imapapi.syncing.classification import SUMMARY_HEADERS, fetched_headers, shared_headers
from imapapi.syncing.enrich import SUMMARY_ITEMS
from tests.unit.imap.test_fastfetch import (
    BODIES,
    DATES,
    FLAG_LISTS,
    imapclient_only,
    listing,
    literal,
    response,
)

FOLDER = ev.FolderRef("account", "INBOX", "\\Inbox", 3, 77)
# The section as the server names it in the answer (RFC 3501 §7.4.2: without .PEEK).
SECTION = SUMMARY_HEADERS.replace("BODY.PEEK[", "BODY[").encode()

IDS = st.sampled_from(
    [b"NIL", b'"<a@x>"', b'"<a@x> <b@y>"', b'"garbage"', b'"b@y"', b'"<>"', b'"< c@z >"',
     b'"(note) <d@w>"', b'"<e@v>, <f@u>"', b'""', b'"lone-token"']
)  # fmt: skip
ADDRESSES = st.sampled_from(
    [b"NIL", b'(("Bench Sender" NIL "sender" "bench.test"))', b'((NIL NIL "user" "bench.test"))',
     b'(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "x.test")(NIL NIL "k" "x.test"))',
     b'((NIL NIL "MAILER-DAEMON" "x.test"))', b'(("" NIL "postmaster" "x.test"))']
)  # fmt: skip
SUBJECTS = st.sampled_from(
    [b"NIL", b'"Hello"', b'"Re: Hello"', b'"=?utf-8?q?T=C3=A9l=C3=A9phone?="', b'"Out of Office"',
     b'"Undelivered Mail Returned to Sender"', b'"Automatic reply: x"', b'"x" ']
)  # fmt: skip
DATE_HEADERS = st.sampled_from(
    [b"NIL", b'"Mon, 07 Oct 2019 06:05:23 +0000"', b'"7 Oct 2019 06:05 -0700"', b'"garbage"']
)
FIELDS = st.sampled_from(
    [b"References: <a@x> <b@y>", b"References: <r@x>\r\n\t<s@y>", b"References: broken",
     b"References: <a@x>, (c) <b@y>", b"In-Reply-To: <a@x>", b"Auto-Submitted: auto-replied",
     b"Auto-Submitted: auto-generated", b"X-Autoreply: yes", b"Precedence: bulk",
     b"List-Id: <list.x.test>", b"List-Unsubscribe: <mailto:u@x>", b"Return-Path: <>",
     b"X-Auto-Response-Suppress: All", b"references: <lower@x>", b"Garbage line"]
)  # fmt: skip
HEADER_BLOCKS = st.lists(FIELDS, max_size=5).map(
    lambda f: b"".join(x + b"\r\n" for x in f) + b"\r\n"
)


def envelope(date: bytes, subject: bytes, addresses: list[bytes], ids: list[bytes]) -> bytes:
    return b"(" + b" ".join([date, subject, *addresses, *ids]) + b")"


ENVELOPES = st.builds(
    envelope, DATE_HEADERS, SUBJECTS, st.lists(ADDRESSES, min_size=6, max_size=6),
    st.lists(IDS, min_size=2, max_size=2),
)  # fmt: skip


def built(result: FetchResult, headers: dict[str, list[str]] | None) -> dict[str, Any]:
    """The messageNew data of `result`, classification included (no body fetched: a bounce
    candidate's verdict from its headers alone, as for both paths alike)."""
    summary = message_summary(result, index=FOLDER.index, path=FOLDER.path, headers=headers)
    sender = summary.get("from")
    found = signals(
        fetched_headers(result) if headers is None else headers,
        subject=summary.get("subject"),
        from_address=sender.get("address") if isinstance(sender, dict) else None,
        content_type=result.body_structure.content_type if result.body_structure else None,
    )
    summary["classification"] = verdict(found, None).as_json()
    return summary


def reference(resp: Response) -> dict[str, Any]:
    with imapclient_only():
        result = parse.parse_fetch_generic(resp)
    summary = built(result, None)
    references = summary_module._references(result.sections, None)
    if result.envelope is not None and references is not None:
        env = result.envelope
        summary["threadId"] = thread_id(
            env.message_id, env.in_reply_to, references, index=FOLDER.index, uid=result.uid or 0
        )
    return summary


def sync_path(resp: Response) -> dict[str, Any]:
    result = parse.parse_fetch(resp)
    return built(result, shared_headers(result))


def test_the_sync_asks_for_the_header_fields_section() -> None:
    assert SUMMARY_HEADERS in SUMMARY_ITEMS


@settings(max_examples=400)
@given(
    uid=st.integers(1, 10**6),
    flags=FLAG_LISTS,
    date=DATES,
    env=ENVELOPES,
    body=BODIES,
    block=HEADER_BLOCKS,
)
def test_message_new_is_built_as_by_the_reference_path(
    uid: int, flags: list[bytes], date: bytes, env: bytes, body: bytes, block: bytes
) -> None:
    line = listing(
        b"UID %d" % uid,
        b"FLAGS (" + b" ".join(flags) + b")",
        b"INTERNALDATE " + date,
        b"RFC822.SIZE 1234",
        b"ENVELOPE " + env,
        b"BODYSTRUCTURE " + body,
        SECTION + b" " + literal(block),
    )
    resp = response(line)
    expected, got = reference(resp), sync_path(resp)
    assert encode_payload(got) == encode_payload(expected)
    assert ev.message_new(FOLDER, got).event_id == ev.message_new(FOLDER, expected).event_id


def test_headers_are_shared_only_when_the_summary_reads_the_same_section() -> None:
    block = b"References: <a@x>\r\n\r\n"
    one = FetchResult(seq=1, uid=1, sections={SECTION.decode(): block})
    assert shared_headers(one) == fetched_headers(one) == {"references": ["<a@x>"]}
    two = FetchResult(seq=1, uid=1, sections={SECTION.decode(): block, "BODY[HEADER]": block})
    assert shared_headers(two) is None
    text = FetchResult(seq=1, uid=1, sections={"BODY[TEXT]": block})
    assert shared_headers(text) is None
