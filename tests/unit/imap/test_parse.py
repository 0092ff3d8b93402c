"""Pure response parsing into our frozen types (RFC 3501 §7, RFC 4731, RFC 7162, RFC 4315)."""

from __future__ import annotations

import pytest

from imapapi.errors import ProtocolError
from imapapi.imap import parse
from imapapi.imap.reader import Response, ResponseReader
from imapapi.imap.types import (
    Address,
    AppendUid,
    BodyPart,
    CopyUid,
    ESearchResult,
    MailboxInfo,
    MailboxStatus,
    ResponseCode,
    StatusResponse,
)


def one(raw: bytes) -> Response:
    (response,) = ResponseReader().feed(raw)
    return response


# --- ENVELOPE -----------------------------------------------------------------------------------

ENVELOPE_CASES = [
    # id, envelope text, expected (subject, from_, to, in_reply_to, message_id)
    ("all_nil", b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)", (None, (), (), None, None)),
    (
        "plain",
        b'("Mon, 1 Jan 2024 10:00:00 +0000" "Hello" (("Ann" NIL "ann" "ex.com")) NIL NIL '
        b'(("Bob" NIL "bob" "ex.org")) NIL NIL "<x@y>" "<m@ex.com>")',
        (
            "Hello",
            (Address("Ann", "ann@ex.com"),),
            (Address("Bob", "bob@ex.org"),),
            "<x@y>",
            "<m@ex.com>",
        ),
    ),
    (
        "encoded_words_q_and_b",
        b'(NIL "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?B?5pel5pys?=" '
        b'(("=?iso-8859-1?q?J=F6rg?=" NIL "j" "ex.com")) NIL NIL NIL NIL NIL NIL NIL)',
        ("Grüße日本", (Address("Jörg", "j@ex.com"),), (), None, None),
    ),
    (
        "raw_utf8_subject",
        '(NIL "Ünïcödé" ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL NIL NIL)'.encode(),
        ("Ünïcödé", (Address("", "a@b.c"),), (), None, None),
    ),
    (
        "unknown_charset_kept",
        b'(NIL "=?x-nope?Q?abc?=" NIL NIL NIL NIL NIL NIL NIL NIL)',
        ("=?x-nope?Q?abc?=", (), (), None, None),
    ),
    (
        "group_syntax",
        b'(NIL "g" NIL NIL NIL ((NIL NIL "team" NIL)("Al" NIL "al" "x.y")(NIL NIL NIL NIL)) '
        b"NIL NIL NIL NIL)",
        ("g", (), (Address("team", ""), Address("Al", "al@x.y"), Address("", "")), None, None),
    ),
    (
        "literal_subject_with_star_and_paren",
        b"(NIL {9}\r\n* OK ) (( NIL NIL NIL NIL NIL NIL NIL NIL)",
        ("* OK ) ((", (), (), None, None),
    ),
]


@pytest.mark.parametrize(
    ("envelope", "expected"), [c[1:] for c in ENVELOPE_CASES], ids=[c[0] for c in ENVELOPE_CASES]
)
def test_envelope(envelope: bytes, expected: tuple[object, ...]) -> None:
    result = parse.parse_fetch(one(b"* 1 FETCH (UID 4 ENVELOPE " + envelope + b")\r\n"))
    env = result.envelope
    assert env is not None
    assert (env.subject, env.from_, env.to, env.in_reply_to, env.message_id) == expected


# --- FETCH items --------------------------------------------------------------------------------

FETCH_CASES = [
    # id, response, attribute, expected
    ("uid", b"* 3 FETCH (UID 77)\r\n", "uid", 77),
    ("seq", b"* 3 FETCH (UID 77)\r\n", "seq", 3),
    (
        "flags",
        b"* 3 FETCH (FLAGS (\\Seen $Label1 \\Answered))\r\n",
        "flags",
        ("\\Seen", "$Label1", "\\Answered"),
    ),
    ("empty_flags", b"* 3 FETCH (FLAGS ())\r\n", "flags", ()),
    ("modseq", b"* 3 FETCH (UID 1 MODSEQ (624140003))\r\n", "modseq", 624140003),
    ("size", b"* 3 FETCH (RFC822.SIZE 4286)\r\n", "size", 4286),
    (
        "internaldate",
        b'* 3 FETCH (INTERNALDATE "17-Jul-1996 02:44:25 -0700")\r\n',
        "internal_date",
        "1996-07-17T02:44:25-07:00",
    ),
    (
        "internaldate_space_day",
        b'* 3 FETCH (INTERNALDATE " 7-Jul-1996 02:44:25 +0000")\r\n',
        "internal_date",
        "1996-07-07T02:44:25+00:00",
    ),
    ("internaldate_garbage", b'* 3 FETCH (INTERNALDATE "yesterday")\r\n', "internal_date", None),
    (
        "gm_labels",
        b'* 3 FETCH (X-GM-LABELS (\\Inbox "&ANw-ber" Work))\r\n',
        "gmail_labels",
        ("\\Inbox", "Über", "Work"),
    ),
    (
        "gm_msgid",
        b"* 3 FETCH (X-GM-MSGID 1278455344230334865)\r\n",
        "gmail_msgid",
        1278455344230334865,
    ),
    (
        "gm_thrid",
        b"* 3 FETCH (X-GM-THRID 1266894439832287888)\r\n",
        "gmail_thrid",
        1266894439832287888,
    ),
    (
        "header_fields_section",
        b"* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {14}\r\nSubject: x\r\n\r\n)\r\n",
        "sections",
        {"BODY[HEADER.FIELDS (SUBJECT)]": b"Subject: x\r\n\r\n"},
    ),
    (
        "partial_section",
        b"* 3 FETCH (BODY[1]<0> {3}\r\n* ))\r\n",
        "sections",
        {"BODY[1]<0>": b"* )"},
    ),
    ("nil_section", b"* 3 FETCH (BODY[2] NIL)\r\n", "sections", {"BODY[2]": b""}),
    (
        "binary_section",
        b"* 3 FETCH (BINARY[1] ~{2}\r\n\x00\x01)\r\n",
        "sections",
        {"BINARY[1]": b"\x00\x01"},
    ),
    (
        "two_literals",
        b"* 3 FETCH (BODY[1] {1}\r\na BODY[2] {1}\r\nb)\r\n",
        "sections",
        {"BODY[1]": b"a", "BODY[2]": b"b"},
    ),
    ("absent_is_none", b"* 3 FETCH (UID 1)\r\n", "flags", None),
]


@pytest.mark.parametrize(
    ("raw", "attribute", "expected"), [c[1:] for c in FETCH_CASES], ids=[c[0] for c in FETCH_CASES]
)
def test_fetch_items(raw: bytes, attribute: str, expected: object) -> None:
    assert getattr(parse.parse_fetch(one(raw)), attribute) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"* 3 FETCH\r\n",
        b"* 3 FETCH (UID)\r\n",
        b"* 3 FETCH (UID abc)\r\n",
        b'* 3 FETCH (UID "1)\r\n',
        b"* x FETCH (UID 1)\r\n",
    ],
    ids=["no_items", "odd_items", "non_numeric_uid", "unterminated_quote", "bad_seq"],
)
def test_fetch_errors(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse.parse_fetch(one(raw))


# --- BODYSTRUCTURE ------------------------------------------------------------------------------

NESTED = (
    b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 120 4 NIL NIL NIL NIL)'
    b'(("text" "html" ("charset" "utf-8") NIL NIL "7bit" 300 10 NIL NIL NIL NIL)'
    b'("image" "png" ("name" "a.png") "<img1@x>" NIL "base64" 2000 NIL ("inline" NIL) NIL NIL)'
    b' "related" ("boundary" "r") NIL NIL NIL)'
    b'("application" "pdf" ("name*0*" "utf-8\'\'%E2%82%AC" "name*1*" "%20Rechnung.pdf") NIL NIL'
    b' "base64" 5000 NIL ("attachment" ("filename*" "utf-8\'de\'%C3%BCber.pdf")) NIL NIL)'
    b'("message" "rfc822" NIL NIL NIL "7bit" 800 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL)'
    b' (("text" "plain" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
    b'("text" "html" NIL NIL NIL "7bit" 20 1 NIL NIL NIL NIL) "alternative" NIL NIL NIL NIL) 30 NIL'
    b' ("attachment" ("filename" "=?UTF-8?B?w6Rw?=.eml")) NIL NIL)'
    b' "mixed" ("boundary" "m") NIL NIL NIL)'
)


def _flatten(part: BodyPart) -> list[tuple[str, str]]:
    out = [(part.part, part.content_type)]
    for child in part.children:
        out += _flatten(child)
    return out


def test_nested_bodystructure_part_numbers() -> None:
    bs = parse.parse_fetch(one(b"* 1 FETCH (BODYSTRUCTURE " + NESTED + b")\r\n")).body_structure
    assert bs is not None
    assert _flatten(bs) == [
        ("TEXT", "multipart/mixed"),
        ("1", "text/plain"),
        ("2", "multipart/related"),
        ("2.1", "text/html"),
        ("2.2", "image/png"),
        ("3", "application/pdf"),
        ("4", "message/rfc822"),
        ("4.TEXT", "multipart/alternative"),
        ("4.1", "text/plain"),
        ("4.2", "text/html"),
    ]


@pytest.mark.parametrize(
    ("path", "attribute", "expected"),
    [
        ((), "params", (("boundary", "m"),)),
        ((0,), "encoding", "quoted-printable"),
        ((0,), "lines", 4),
        ((0,), "size", 120),
        ((1, 1), "id", "<img1@x>"),
        ((1, 1), "disposition", "inline"),
        ((2,), "params", (("name", "€ Rechnung.pdf"),)),
        ((2,), "disposition", "attachment"),
        ((2,), "disposition_params", (("filename", "über.pdf"),)),
        ((3,), "disposition_params", (("filename", "äp.eml"),)),
        ((3,), "lines", 30),
    ],
    ids=[
        "multipart_params",
        "encoding_lowercase",
        "text_lines",
        "size",
        "content_id",
        "inline",
        "rfc2231_continuation_charset",
        "attachment",
        "rfc2231_with_language",
        "rfc2047_in_param",
        "message_lines",
    ],
)
def test_nested_bodystructure_fields(
    path: tuple[int, ...], attribute: str, expected: object
) -> None:
    part = parse.parse_fetch(one(b"* 1 FETCH (BODYSTRUCTURE " + NESTED + b")\r\n")).body_structure
    assert part is not None
    for index in path:
        part = part.children[index]
    assert getattr(part, attribute) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3 1)', [("1", "text/plain")]),
        (
            b'("message" "rfc822" NIL NIL NIL "7bit" 50 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)'
            b' ("text" "plain" NIL NIL NIL "7bit" 5 1) 3)',
            [("1", "message/rfc822"), ("1.1", "text/plain")],
        ),
        (
            b'(("text" "plain" NIL NIL NIL "7bit" 5 1)'
            b'("text" "plain" NIL NIL NIL "7bit" 5 1) "mixed")',
            [("TEXT", "multipart/mixed"), ("1", "text/plain"), ("2", "text/plain")],
        ),
    ],
    ids=["single_part_is_1_non_extensible", "single_part_message_rfc822", "multipart_no_extension"],
)
def test_bodystructure_shapes(raw: bytes, expected: list[tuple[str, str]]) -> None:
    bs = parse.parse_fetch(one(b"* 1 FETCH (BODY " + raw + b")\r\n")).body_structure
    assert bs is not None and _flatten(bs) == expected


# --- LIST, STATUS, SELECT -----------------------------------------------------------------------

LIST_CASES = [
    (
        "simple",
        b'* LIST (\\HasNoChildren) "/" "INBOX"\r\n',
        MailboxInfo("INBOX", "/", ("\\HasNoChildren",)),
    ),
    (
        "special_use",
        b'* LIST (\\HasNoChildren \\Sent) "." Sent\r\n',
        MailboxInfo("Sent", ".", ("\\HasNoChildren", "\\Sent")),
    ),
    (
        "utf7",
        b'* LIST () "/" "&ANw-n&AO8-c&APY-d&AOk-/&ZeVnLIqe-"\r\n',
        MailboxInfo("Ünïcödé/日本語", "/", ()),
    ),
    ("ampersand", b'* LIST () "/" "Tom &- Jerry"\r\n', MailboxInfo("Tom & Jerry", "/", ())),
    ("nil_delimiter", b'* LIST (\\Noselect) NIL ""\r\n', MailboxInfo("", None, ("\\Noselect",))),
    ("literal_name", b'* LIST () "/" {5}\r\na ) "\r\n', MailboxInfo('a ) "', "/", ())),
    ("numeric_atom", b'* LIST () "/" 2024\r\n', MailboxInfo("2024", "/", ())),
    ("quoted_paren_star", b'* LIST () "/" "* (x"\r\n', MailboxInfo("* (x", "/", ())),
    (
        "extended_data",
        b'* LIST (\\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))\r\n',
        MailboxInfo("Foo", "/", ("\\Subscribed",)),
    ),
    ("lsub", b'* LSUB () "/" "Foo"\r\n', MailboxInfo("Foo", "/", ())),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES]
)
def test_list(raw: bytes, expected: MailboxInfo) -> None:
    assert parse.parse_list(one(raw)) == expected


def test_list_utf8_accept_names_are_not_utf7_decoded() -> None:
    raw = '* LIST () "/" "日本語 &x"\r\n'.encode()
    assert parse.parse_list(one(raw), utf8=True).path == "日本語 &x"


STATUS_CASES = [
    (
        "basic",
        b'* STATUS "INBOX" (MESSAGES 231 UIDNEXT 44292)\r\n',
        MailboxStatus("INBOX", messages=231, uid_next=44292),
    ),
    (
        "all",
        b"* STATUS Foo (MESSAGES 1 RECENT 0 UIDNEXT 5 UIDVALIDITY 9 UNSEEN 1 HIGHESTMODSEQ 77)\r\n",
        MailboxStatus(
            "Foo", messages=1, recent=0, uid_next=5, uid_validity=9, unseen=1, highest_modseq=77
        ),
    ),
    ("utf7_name", b'* STATUS "&ZeVnLIqe-" (MESSAGES 0)\r\n', MailboxStatus("日本語", messages=0)),
    (
        "unknown_item_ignored",
        b'* STATUS "A" (APPENDLIMIT 100 MESSAGES 2)\r\n',
        MailboxStatus("A", messages=2),
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in STATUS_CASES], ids=[c[0] for c in STATUS_CASES]
)
def test_status(raw: bytes, expected: MailboxStatus) -> None:
    assert parse.parse_status(one(raw)) == expected


def test_select_data() -> None:
    raw = (
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
        b"* 172 EXISTS\r\n* 1 RECENT\r\n"
        b"* OK [UNSEEN 12] Message 12 is first unseen\r\n"
        b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
        b"* OK [UIDNEXT 4392] Predicted next UID\r\n"
        b"* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
        b"* VANISHED (EARLIER) 41,43:45\r\n"
        b"* 49 FETCH (UID 117 FLAGS (\\Seen) MODSEQ (90060115194045001))\r\n"
    )
    untagged = ResponseReader().feed(raw)
    tagged = parse.parse_status_response(b"OK [READ-WRITE] SELECT completed")
    sel = parse.parse_select("INBOX", untagged, tagged)
    assert (
        sel.exists,
        sel.recent,
        sel.unseen,
        sel.uid_validity,
        sel.uid_next,
        sel.highest_modseq,
    ) == (172, 1, 12, 3857529045, 4392, 715194045007)
    assert sel.flags == ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
    assert sel.permanent_flags == ("\\Deleted", "\\Seen", "\\*")
    assert sel.vanished == (41, 43, 44, 45)
    assert [c.uid for c in sel.changed] == [117]
    assert not sel.read_only and not sel.nomodseq


def test_select_read_only_nomodseq() -> None:
    untagged = ResponseReader().feed(b"* 0 EXISTS\r\n* OK [NOMODSEQ] Sorry\r\n")
    sel = parse.parse_select("X", untagged, parse.parse_status_response(b"OK [READ-ONLY] done"))
    assert sel.read_only and sel.nomodseq and sel.exists == 0 and sel.highest_modseq is None


# --- SEARCH, ESEARCH, VANISHED ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"* SEARCH\r\n", ((), None)),
        (b"* SEARCH 2 3 6\r\n", ((2, 3, 6), None)),
        (b"* SEARCH 2 5 (MODSEQ 917162500)\r\n", ((2, 5), 917162500)),
    ],
    ids=["empty", "ids", "with_modseq"],
)
def test_search(raw: bytes, expected: tuple[object, ...]) -> None:
    assert parse.parse_search(one(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'* ESEARCH (TAG "A5") UID MIN 2 MAX 11 COUNT 4 ALL 2,10:11\r\n',
            ESearchResult(tag="A5", uid=True, min=2, max=11, count=4, all=(2, 10, 11)),
        ),
        (b'* ESEARCH (TAG "A6") UID COUNT 0\r\n', ESearchResult(tag="A6", uid=True, count=0)),
        (b"* ESEARCH ALL 4\r\n", ESearchResult(all=(4,))),
        (
            b'* ESEARCH (TAG "A7") UID ALL 1:3 MODSEQ 55\r\n',
            ESearchResult(tag="A7", uid=True, all=(1, 2, 3), modseq=55),
        ),
    ],
    ids=["full", "count_zero", "untagged_single_all", "modseq"],
)
def test_esearch(raw: bytes, expected: ESearchResult) -> None:
    assert parse.parse_esearch(one(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"* VANISHED 405\r\n", ((405,), False)),
        (b"* VANISHED 405,407:409\r\n", ((405, 407, 408, 409), False)),
        (b"* VANISHED (EARLIER) 300:310,405,411\r\n", ((*range(300, 311), 405, 411), True)),
    ],
    ids=["single", "set", "earlier"],
)
def test_vanished(raw: bytes, expected: tuple[object, ...]) -> None:
    assert parse.parse_vanished(one(raw)) == expected


# --- status responses, codes, capabilities --------------------------------------------------------

STATUS_RESPONSE_CASES = [
    ("plain_ok", b"OK done", StatusResponse("OK", None, "done")),
    (
        "appenduid",
        b"OK [APPENDUID 38505 3955] APPEND completed",
        StatusResponse("OK", ResponseCode("APPENDUID", "38505 3955"), "APPEND completed"),
    ),
    (
        "authfailed",
        b"NO [AUTHENTICATIONFAILED] Authentication failed.",
        StatusResponse("NO", ResponseCode("AUTHENTICATIONFAILED"), "Authentication failed."),
    ),
    (
        "alert",
        b"OK [ALERT] System shutdown in 10 minutes",
        StatusResponse("OK", ResponseCode("ALERT"), "System shutdown in 10 minutes"),
    ),
    (
        "lowercase_status",
        b"ok [read-write] x",
        StatusResponse("OK", ResponseCode("READ-WRITE"), "x"),
    ),
    ("bad_no_text", b"BAD", StatusResponse("BAD", None, "")),
    (
        "quote_in_text",
        b"NO Mailbox \"x doesn't exist",
        StatusResponse("NO", None, "Mailbox \"x doesn't exist"),
    ),
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [c[1:] for c in STATUS_RESPONSE_CASES],
    ids=[c[0] for c in STATUS_RESPONSE_CASES],
)
def test_status_response(line: bytes, expected: StatusResponse) -> None:
    assert parse.parse_status_response(line) == expected


def test_capability_from_greeting_code() -> None:
    status = parse.parse_status_response(
        b"OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE] Ready."
    )
    assert status.code is not None
    assert parse.parse_capabilities(status.code.args) == {
        "IMAP4REV1",
        "SASL-IR",
        "AUTH=PLAIN",
        "IDLE",
    }


def test_capability_untagged() -> None:
    caps = parse.parse_capabilities(
        one(b"* CAPABILITY IMAP4rev1 notify CONDSTORE QRESYNC\r\n").first_line
    )
    assert caps == {"IMAP4REV1", "NOTIFY", "CONDSTORE", "QRESYNC"}


def test_enabled() -> None:
    assert parse.parse_enabled(one(b"* ENABLED CONDSTORE QRESYNC\r\n")) == {"CONDSTORE", "QRESYNC"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (ResponseCode("APPENDUID", "38505 3955"), AppendUid(38505, (3955,))),
        (ResponseCode("APPENDUID", "1 5:7"), AppendUid(1, (5, 6, 7))),
        (ResponseCode("ALERT"), None),
        (None, None),
    ],
    ids=["single", "multiappend", "other_code", "no_code"],
)
def test_appenduid(code: ResponseCode | None, expected: AppendUid | None) -> None:
    assert parse.parse_appenduid(code) == expected


def test_copyuid() -> None:
    code = ResponseCode("COPYUID", "38505 304,319:320 3956:3958")
    assert parse.parse_copyuid(code) == CopyUid(38505, (304, 319, 320), (3956, 3957, 3958))


@pytest.mark.parametrize(
    "code",
    [
        ResponseCode("APPENDUID", "x 1"),
        ResponseCode("COPYUID", "1 2"),
        ResponseCode("APPENDUID", "1 a:b"),
    ],
    ids=["appenduid_bad_validity", "copyuid_missing_set", "bad_set"],
)
def test_uidplus_codes_errors(code: ResponseCode) -> None:
    with pytest.raises(ProtocolError):
        parse.parse_appenduid(code) if code.name == "APPENDUID" else parse.parse_copyuid(code)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"* 3 EXISTS\r\n", ("EXISTS", 3)),
        (b"* 5 expunge\r\n", ("EXPUNGE", 5)),
        (b"* 1 FETCH (UID 1)\r\n", ("FETCH", 1)),
        (b'* LIST () "/" x\r\n', ("LIST", None)),
        (b"* OK [ALERT] hi\r\n", ("OK", None)),
        (b"* BYE\r\n", ("BYE", None)),
    ],
    ids=["exists", "lowercase_expunge", "fetch", "list", "ok", "bye_no_text"],
)
def test_untagged_kind(raw: bytes, expected: tuple[str, int | None]) -> None:
    assert parse.untagged_kind(one(raw)) == expected


def test_id() -> None:
    assert parse.parse_id(one(b'* ID ("name" "Dovecot" "version" NIL)\r\n')) == {
        "name": "Dovecot",
        "version": None,
    }
    assert parse.parse_id(one(b"* ID NIL\r\n")) is None


def test_flags_response() -> None:
    assert parse.parse_flags(one(b"* FLAGS (\\Seen \\Deleted $X)\r\n")) == (
        "\\Seen",
        "\\Deleted",
        "$X",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"plain", "plain"),
        (b"=?UTF-8?B?5pel?= =?UTF-8?B?5pys?=", "日本"),
        (b"=?UTF-8?B?5pc=?= =?UTF-8?B?pQ==?=", "日"),
        (b"a =?UTF-8?Q?=C3=A4?= b", "a ä b"),
        (b"=?UTF-8?Q?a_b?=", "a b"),
        (b"=?UTF-8*de?Q?x?=", "x"),
        (b"=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=", "日本語"),
        (b"=?UTF-8?B?###?=", "=?UTF-8?B?###?="),
        (None, None),
    ],
    ids=[
        "no_words",
        "adjacent_words_space_dropped",
        "multibyte_split_across_words",
        "words_between_text",
        "q_underscore",
        "rfc2231_language",
        "iso_2022_jp",
        "broken_base64",
        "nil",
    ],
)
def test_decode_words(raw: bytes | None, expected: str | None) -> None:
    assert parse.decode_words(raw) == expected
