"""The lean listing reader (imap/fastfetch.py) gives exactly the generic FetchResult, or declines:
a table of line shapes, then a property test over random envelopes and body structures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.errors import ProtocolError
from imapapi.imap import fastfetch, parse
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.types import FetchResult

ANSWERED = "answered"  # the lean reader must read the line itself
DECLINED = "declined"  # it must hand the line to the generic parser

ADDR = b'(("Bench Sender" NIL "sender" "bench.test"))'
ENVELOPE = (
    b'("Mon, 07 Oct 2019 06:05:23 +0000" "message 19981" ' + ADDR + b" " + ADDR + b" " + ADDR
    + b' ((NIL NIL "user" "bench.test")) NIL NIL NIL "<1700000000.message-19981@bench.test>")'
)  # fmt: skip
TEXT_PLAIN = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 27 1 NIL NIL NIL NIL)'
BENCH = (
    b'19981 FETCH (UID 19981 MODSEQ (3) FLAGS (\\Seen) INTERNALDATE "21-Nov-2026 10:00:00 +0000" '
    b"RFC822.SIZE 1234 ENVELOPE " + ENVELOPE + b" BODYSTRUCTURE " + TEXT_PLAIN + b")"
)
MIXED = (
    b'(("text" "plain" ("charset" "utf-8") NIL NIL "base64" 22 1 NIL NIL NIL NIL)'
    b'("application" "pdf" NIL NIL NIL "base64" 22 NIL ("attachment" ("filename" "report.pdf")) '
    b'NIL NIL) "mixed" ("boundary" "b1") NIL NIL NIL)'
)
RFC822 = (
    b'("message" "rfc822" NIL NIL NIL "7bit" 300 ' + ENVELOPE + b" " + TEXT_PLAIN + b" 9 NIL NIL "
    b"NIL NIL)"
)


def listing(*items: bytes, seq: bytes = b"7") -> bytes:
    return seq + b" FETCH (" + b" ".join(items) + b")"


def literal(data: bytes) -> bytes:
    """`data` as an IMAP literal (RFC 3501 §4.3) inside a line given to `response`."""
    return b"{%d}\r\n" % len(data) + data


HEADER_FIELDS = b"BODY[HEADER.FIELDS (REFERENCES LIST-ID)]"
REFERENCES = b"References: <a@x> <b@y>\r\n\r\n"


CASES = [
    # id, line after "* ", answered or declined
    ("bench_line", BENCH, ANSWERED),
    ("multipart_mixed", listing(b"UID 2", b"BODYSTRUCTURE " + MIXED), ANSWERED),
    ("message_rfc822_part", listing(b"UID 2", b"BODYSTRUCTURE " + RFC822), ANSWERED),
    ("body_not_last", listing(b"BODYSTRUCTURE " + TEXT_PLAIN, b"UID 3", b"FLAGS ()"), ANSWERED),
    ("envelope_all_nil", listing(b"ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"), ANSWERED),
    ("empty_address_list", listing(b"ENVELOPE (NIL NIL () NIL NIL () NIL NIL NIL NIL)"), ANSWERED),
    (
        "group_syntax",
        listing(
            b'ENVELOPE (NIL "s" ((NIL NIL "team" NIL)("A" NIL "a" "x.y")(NIL NIL NIL NIL)) '
            b"NIL NIL NIL NIL NIL NIL NIL)"
        ),
        ANSWERED,
    ),
    (
        "two_addresses_with_and_without_space",
        listing(
            b'ENVELOPE (NIL NIL (("A" NIL "a" "x")("B" NIL "b" "y")) NIL NIL '
            b'(("C" NIL "c" "x") ("D" NIL "d" "y")) NIL NIL NIL NIL)'
        ),
        ANSWERED,
    ),
    (
        "escapes",
        listing(
            b'ENVELOPE ("d" "a \\"quoted\\" \\\\ word \\x" (("\\"N\\"" NIL "a" "b")) NIL NIL '
            b"NIL NIL NIL NIL NIL)"
        ),
        ANSWERED,
    ),
    (
        "eight_bit_and_invalid_utf8",
        listing(
            'ENVELOPE (NIL "Grüße" (("Jörg" NIL "j" "x")) NIL NIL NIL NIL NIL NIL NIL)'.encode()
            + b' INTERNALDATE "07-Oct-2019 06:05:23 +0200"',
            b'ENVELOPE (NIL "bad \xff\xfe" (("\xc3" NIL "j" "x")) NIL NIL NIL NIL NIL NIL NIL)',
        ),
        ANSWERED,
    ),
    (
        "encoded_words",
        listing(
            b'ENVELOPE (NIL "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=" '
            b'(("=?UTF-8?B?UMO1ZGVy?=" NIL "p" "x")) NIL NIL NIL NIL NIL NIL NIL)'
        ),
        ANSWERED,
    ),
    (
        "rfc2231_params",
        listing(
            b'BODYSTRUCTURE ("application" "octet-stream" ("name*0*" "UTF-8\'\'%C3%9C" "name*1*" '
            b'"%20x") NIL NIL "base64" 12 NIL ("attachment" ("filename*" "UTF-8\'\'a%20b")) NIL '
            b"NIL)"
        ),
        ANSWERED,
    ),
    (
        "lower_case_items",
        b'3 fetch (uid 3 flags (\\seen) internaldate "1-Jan-2020 00:00:00 -0130")',
        ANSWERED,
    ),
    ("space_day", listing(b'INTERNALDATE " 7-Oct-2019 06:05:23 +0000"'), ANSWERED),
    ("bad_date", listing(b'INTERNALDATE "31-Feb-2019 06:05:23 +0000"', b"UID 1"), ANSWERED),
    ("date_offset_out_of_range", listing(b'INTERNALDATE "1-Jan-2020 00:00:00 +2400"'), ANSWERED),
    ("nil_date", listing(b"INTERNALDATE NIL", b"UID 1"), ANSWERED),
    ("leading_zeros", listing(b"UID 007 RFC822.SIZE 0012 MODSEQ (09)", seq=b"009"), ANSWERED),
    ("gmail_ids", listing(b"X-GM-MSGID 123 X-GM-THRID 456 UID 1 FLAGS ()"), ANSWERED),
    ("gmail_labels", listing(b'X-GM-LABELS (\\Inbox "a b") UID 1 FLAGS ()'), ANSWERED),
    (
        "duplicate_items_last_wins",
        listing(b"UID 1 UID 2 BODYSTRUCTURE " + TEXT_PLAIN + b" UID 3"),
        ANSWERED,
    ),
    ("double_space", listing(b"UID 1  RFC822.SIZE 3"), ANSWERED),
    (
        "nil_lower_case_is_an_atom",
        listing(b"ENVELOPE (nil NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
        ANSWERED,
    ),
    ("digit_flag", listing(b"FLAGS (\\Seen 123) UID 1 RFC822.SIZE 5"), ANSWERED),
    ("nil_flag", listing(b"UID 1 FLAGS (NIL)"), ANSWERED),
    (
        "extra_envelope_field",
        listing(b"ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"),
        ANSWERED,
    ),
    (
        "section_without_literal",
        listing(b'UID 1 BODY[HEADER.FIELDS (SUBJECT)] "Subject: x"'),
        ANSWERED,
    ),
    ("body_short", listing(b'BODY ("text" "plain" NIL NIL NIL "7bit" 3 1)'), ANSWERED),
    # errors must be the generic path's errors
    ("short_envelope", listing(b"ENVELOPE (NIL NIL)"), ANSWERED),
    ("odd_items", listing(b"UID 1 BODYSTRUCTURE"), ANSWERED),
    ("uid_not_a_number", listing(b"UID 1 RFC822.SIZE NIL"), ANSWERED),
    # left to the generic path
    ("missing_close", b"7 FETCH (UID 1 RFC822.SIZE 3", DECLINED),
    ("trailing_data", b"7 FETCH (UID 1 RFC822.SIZE 3) x", DECLINED),
    ("closed_early", b"7 FETCH (UID 1) (RFC822.SIZE 3)", DECLINED),
    ("percent", listing(b"UID 1 FOO %"), DECLINED),
    ("not_fetch", b"7 EXISTS", DECLINED),
    (
        "body_eats_the_close",
        listing(b'BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 3 1'),
        DECLINED,
    ),
    ("body_glued_to_next", listing(b"BODYSTRUCTURE " + TEXT_PLAIN + b"UID 1"), ANSWERED),
]
# Responses with literals, as a listing gets them since it fetches header fields.
LITERAL_CASES = [
    ("header_fields_last", BENCH[:-1] + b" " + HEADER_FIELDS + b" " + literal(REFERENCES) + b")"),
    ("empty_header_fields", BENCH[:-1] + b" " + HEADER_FIELDS + b" " + literal(b"\r\n") + b")"),
    (
        "header_fields_first",
        listing(HEADER_FIELDS + b" " + literal(REFERENCES), b"UID 3", b"BODYSTRUCTURE " + MIXED),
    ),
    (
        "two_literals",
        listing(
            b"UID 4",
            HEADER_FIELDS + b" " + literal(REFERENCES),
            b"BODY[1]<0> " + literal(b"text"),
            b"MODSEQ (5)",
        ),
    ),
    (
        "literal_subject_in_envelope",
        listing(
            b"UID 5 ENVELOPE (NIL " + literal(b'a "quoted"\r\nsubject') + b" NIL NIL NIL NIL NIL"
            b" NIL NIL NIL)",
            b"BODYSTRUCTURE " + TEXT_PLAIN,
        ),
    ),
    ("literal_then_nothing", listing(HEADER_FIELDS + b" " + literal(b""))),
    ("section_with_origin_last", listing(b"UID 5", b"BODY[HEADER]<0> " + literal(REFERENCES))),
    ("lowercase_section_last", listing(b"UID 5", b"body[header.fields (x)] " + literal(b"x"))),
    ("quoted_field_name", listing(b"UID 5", b'BODY[HEADER.FIELDS ("X")] ' + literal(b"x"))),
    ("two_spaces_before_section", listing(b"UID 5 ", HEADER_FIELDS + b" " + literal(b"x"))),
    ("section_then_an_item", listing(b"UID 5", HEADER_FIELDS + b" " + literal(b"x"), b"UID 6")),
    ("binary_section_last", listing(b"UID 5", b"BINARY[1] " + literal(b"x"))),
    ("unbalanced_after_literal", listing(HEADER_FIELDS + b" " + literal(b"x") + b" (")),
]


def response(line: bytes) -> Response:
    (resp,) = ResponseReader().feed(b"* " + line + b"\r\n")
    return resp


def outcome(fn: object, resp: Response) -> FetchResult | type[Exception] | None:
    try:
        return fn(resp)  # type: ignore[operator,no-any-return]
    except ProtocolError as exc:
        return type(exc)


@contextmanager
def imapclient_only() -> Iterator[None]:
    """The generic path with imapclient's tokenizer, not the lean one: the original reference."""
    original = parse.fastparse.tokens
    parse.fastparse.tokens = lambda data: None  # type: ignore[assignment]
    try:
        yield
    finally:
        parse.fastparse.tokens = original  # type: ignore[assignment]


def lean(resp: Response) -> FetchResult | None:
    return parse._fast_fetch(resp.data, False)


def check(line: bytes) -> bool:
    """fast == generic (both tokenizers) whenever fast answers; whether it answered."""
    resp = response(line)
    fast = outcome(lean, resp)
    generic = outcome(parse.parse_fetch_generic, resp)
    with imapclient_only():
        reference = outcome(parse.parse_fetch_generic, resp)
    assert generic == reference
    if fast is not None:
        assert fast == generic
    assert outcome(parse.parse_fetch, resp) == generic
    return fast is not None


@pytest.mark.parametrize(("line", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lean_listing_equals_generic(line: bytes, expect: str) -> None:
    answered = check(line)
    assert answered == (expect == ANSWERED)


@pytest.mark.parametrize("line", [c[1] for c in LITERAL_CASES], ids=[c[0] for c in LITERAL_CASES])
def test_lean_listing_with_literals_equals_generic(line: bytes) -> None:
    assert len(response(line).data) > 1  # the reader split it at its literals
    check(line)


def test_listing_with_header_fields_is_read_without_the_generic_path() -> None:
    line = BENCH[:-1] + b" " + HEADER_FIELDS + b" " + literal(REFERENCES) + b")"
    resp = response(line)
    read = fastfetch.read_listing_records(resp.data)
    assert read is not None
    seq, values, rest = read
    assert seq == 19981 and "envelope" in values and "body_structure" in values
    assert rest == (HEADER_FIELDS, REFERENCES)  # the section ending it taken as it is
    fetched = lean(resp)
    assert fetched is not None and fetched.sections == {HEADER_FIELDS.decode(): REFERENCES}


def test_section_ending_a_response_is_read_without_the_tokenizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fastfetch, "tokens", lambda data: pytest.fail("tokenized"))
    line = BENCH[:-1] + b" " + HEADER_FIELDS + b" " + literal(b"\r\n") + b")"
    fetched = lean(response(line))
    assert fetched is not None and fetched.sections == {HEADER_FIELDS.decode(): b"\r\n"}


def test_bench_line_is_read_without_the_tokenizer() -> None:
    listing_read = fastfetch.read_listing(BENCH)
    assert listing_read is not None
    seq, values, rest = listing_read
    assert seq == 19981
    assert set(values) == {
        "uid", "modseq", "flags", "internal_date", "size", "envelope", "body_structure"
    }  # fmt: skip
    assert rest == ()


def body_read_directly(line: bytes) -> bool:
    """Whether the listing reader read the whole line, the body structure included."""
    listing_read = fastfetch.read_listing(line)
    return listing_read is not None and listing_read[2] == ()


def test_address_cache_is_bounded() -> None:
    for n in range(fastfetch._CACHE_MAX + 10):
        envelope = b'(NIL NIL (("a" NIL "u%d" "x")) NIL NIL NIL NIL NIL NIL NIL)' % n
        assert fastfetch.read_listing(listing(b"ENVELOPE " + envelope)) is not None
    assert len(fastfetch._ADDRESS_LISTS) <= fastfetch._CACHE_MAX


# --- property: random envelopes and body structures rendered as IMAP ---------------------------

# Text pieces chosen for the corners: quotes and backslashes to escape, encoded words, 8-bit
# (valid and invalid UTF-8), RFC 2231 markers, parentheses and NIL inside strings.
TEXT = st.lists(
    st.sampled_from(
        [b"a", b"B c", b'"', b"\\", b"=?utf-8?q?=C3=BC?=", b"=?x?B?QQ?=", "ü".encode(), b"\xff",
         b"*", b"'", b"%41", b"(", b")", b"NIL", b" ", b"", b"7bit", b"\t"]
    ),
    max_size=5,
).map(b"".join)  # fmt: skip


def quoted(text: bytes) -> bytes:
    return b'"' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


NSTRING = st.one_of(st.just(b"NIL"), TEXT.map(quoted))
ADDRESS = st.tuples(NSTRING, NSTRING, NSTRING, NSTRING).map(lambda f: b"(" + b" ".join(f) + b")")
ADDRESSES = st.one_of(
    st.just(b"NIL"),
    st.tuples(st.lists(ADDRESS, max_size=3), st.sampled_from([b"", b" "])).map(
        lambda a: b"(" + a[1].join(a[0]) + b")"
    ),
)
ENVELOPES = st.tuples(NSTRING, NSTRING, *[ADDRESSES] * 6, NSTRING, NSTRING).map(
    lambda f: b"(" + b" ".join(f) + b")"
)
PARAMS = st.one_of(
    st.just(b"NIL"),
    st.lists(
        st.tuples(st.sampled_from([b"charset", b"name", b"Name*", b"name*0*", b"name*1"]), TEXT),
        min_size=1,
        max_size=3,
    ).map(lambda ps: b"(" + b" ".join(quoted(k) + b" " + quoted(v) for k, v in ps) + b")"),
)
DISPOSITION = st.one_of(
    st.just(b"NIL"),
    st.tuples(st.sampled_from([b"attachment", b"INLINE"]), PARAMS).map(
        lambda d: b"(" + quoted(d[0]) + b" " + d[1] + b")"
    ),
)
NUMBER = st.integers(0, 10**6).map(lambda n: b"%d" % n)


def leaf(kind: bytes, subtype: bytes, params: bytes, extra: bytes, disposition: bytes) -> bytes:
    fields = [quoted(kind), quoted(subtype), params, b"NIL", b"NIL", quoted(b"base64"), b"12"]
    if kind.lower() == b"text":
        fields.append(extra)
    return b"(" + b" ".join([*fields, b"NIL", disposition, b"NIL", b"NIL"]) + b")"


LEAVES = st.builds(
    leaf,
    st.sampled_from([b"text", b"TEXT", b"image", b"application"]),
    st.sampled_from([b"plain", b"html", b"PNG", b"pdf"]),
    PARAMS,
    NUMBER,
    DISPOSITION,
)
BODIES = st.recursive(
    LEAVES,
    lambda children: st.tuples(
        st.lists(children, min_size=1, max_size=3),
        st.sampled_from([b"mixed", b"alternative", b"RELATED"]),
        PARAMS,
    ).map(lambda m: b"(" + b"".join(m[0]) + b" " + quoted(m[1]) + b" " + m[2] + b" NIL NIL NIL)"),
    max_leaves=5,
)
DATES = st.tuples(
    st.integers(1, 31),
    st.sampled_from(["Jan", "feb", "Oct", "Xyz"]),
    st.integers(1990, 2030),
    st.sampled_from(["+0000", "-0700", "+0530", "+2400", "-0099"]),
).map(lambda d: b'"%2d-%s-%d 10:00:00 %s"' % (d[0], d[1].encode(), d[2], d[3].encode()))
FLAG_LISTS = st.lists(
    st.sampled_from([b"\\Seen", b"\\Answered", b"$Label1", b"NonJunk"]), max_size=3
)


@settings(max_examples=600)
@given(
    uid=NUMBER,
    flags=FLAG_LISTS,
    date=DATES,
    size=NUMBER,
    envelope=ENVELOPES,
    body=BODIES,
    modseq=st.one_of(st.none(), NUMBER),
    order=st.permutations(range(6)),
    lower=st.booleans(),
    last=st.sampled_from(
        [
            HEADER_FIELDS,
            b"BODY[HEADER]<0>",
            b"body[Header.Fields (X-A)]",
            b"BODY[1.MIME]",
            b'BODY[HEADER.FIELDS ("A]")]',
            b"BODY[HEADER.FIELDS.NOT (A B)]",
            b"BINARY[1]",
        ]
    ),
    content=TEXT,
)
def test_random_listing_lines_read_alike(
    uid: bytes,
    flags: list[bytes],
    date: bytes,
    size: bytes,
    envelope: bytes,
    body: bytes,
    modseq: bytes | None,
    order: list[int],
    lower: bool,
    last: bytes,
    content: bytes,
) -> None:
    items = [
        b"UID " + uid,
        b"FLAGS (" + b" ".join(flags) + b")",
        b"INTERNALDATE " + date,
        b"RFC822.SIZE " + size,
        b"ENVELOPE " + envelope,
        b"BODYSTRUCTURE " + body,
    ]
    items = [items[i] for i in order]
    if modseq is not None:
        items.insert(1, b"MODSEQ (" + modseq + b")")
    if lower:
        items = [i.split(b" ", 1)[0].lower() + b" " + i.split(b" ", 1)[1] for i in items]
    # The plain shapes of a listing are always answered, so the lean path is exercised.
    assert check(listing(*items))
    assert body_read_directly(listing(*items))
    # And so they are with a header fields literal anywhere among them (as listings fetch).
    section = HEADER_FIELDS + b" " + literal(REFERENCES)
    assert check(listing(*items[: order[0]], section, *items[order[0] :]))
    # And with a body section ending it, as the sync and the listings get their header fields.
    answered = check(listing(*items, last + b" " + literal(content)))
    assert answered or b'"' in last  # a quoted `]` in the name: the generic path reads it
