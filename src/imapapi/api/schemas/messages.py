"""Message models (`/messages`, `/message/{id}`, `/text`, `/attachment`, `/search`).

Response models document the shapes; the routes send the dicts built by `mail/summary.py`
as they are (absent values omitted, not null), and the tests validate real answers against
these models so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt

from imapapi.api.schemas.common import ISO_TEXT, ApiModel, SafeText, base64_pattern
from imapapi.api.schemas.mailboxes import MailboxPath
from imapapi.mail.summary import MAX_HEADER_VALUE
from imapapi.mail.threads import MAX_ROOT_OCTETS

MAX_PAGE_SIZE = 250
MAX_TEXT_BYTES = 20 * 1024 * 1024

# RFC 3501 §2.3.2: a keyword is an atom, a system flag "\\" atom (ATOM-CHAR, §9).
Flag = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        pattern=r"^\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+$",
        examples=["\\Seen"],
    ),
]
Label = Annotated[SafeText, Field(min_length=1, max_length=256, examples=["Work"])]
SearchText = Annotated[SafeText, Field(min_length=1, max_length=1000)]
# A SEARCH date: IMAP servers keep dates as Unix time, and Dovecot answers BAD before 1970.
SEARCH_DATE_PATTERN = r"^(19[7-9][0-9]|[2-9][0-9]{3})-"
SearchDate = Annotated[
    _dt.date | _dt.datetime,
    ISO_TEXT,
    Field(
        json_schema_extra={"pattern": SEARCH_DATE_PATTERN},
        description="ISO 8601 date (or date-time: its day counts), from 1970 on.",
    ),
]
# RFC 3501 §9 sequence-set, spaces allowed (they are dropped), e.g. "1:100,205" or "300:*".
_SEQ = r"(?:[0-9]+|\*) *(?:: *(?:[0-9]+|\*) *)?"
UID_SET_PATTERN = rf"^ *{_SEQ}(?:, *{_SEQ})*$"
# The three forms of a threadId (mail/threads.py): Gmail's X-GM-THRID (a 64-bit number), "T" and
# the base64url of a root Message-ID (1 to MAX_ROOT_OCTETS octets), "M" and a message id.
THREAD_ID_PATTERN = (
    rf"^(?:[1-9][0-9]{{0,19}}|T[A-Za-z0-9_-]{{2,{-(-MAX_ROOT_OCTETS * 4 // 3)}}}"
    r"|M[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048])$"
)
THREAD_ID_EXAMPLE = "TcHJvcG9zYWwtNDcxMUBjcm0uZXhhbXBsZS5jb20"  # <proposal-4711@crm.example.com>
THREAD_ID_DESCRIPTION = (
    "The conversation: Gmail's X-GM-THRID on Gmail; elsewhere derived from the threading "
    "headers, the same for a message and every reply to it in any folder (see the README, "
    '"Threads"). For `GET /v1/account/{account}/thread/{threadId}` and `search.threadId`.'
)

# --- responses --------------------------------------------------------------------------------


class AddressOut(ApiModel):
    name: str = Field(examples=["Peter Põder"])
    address: str = Field(examples=["Peter.Poder@example.com"])


class EncodedSize(ApiModel):
    plain: int | None = Field(None, examples=[17])
    html: int | None = Field(None, examples=[2135])


class TextInfo(ApiModel):
    id: str = Field(
        description="Text id for `GET /v1/account/{account}/text/{textId}`.",
        examples=["AAAAAQAAAeGTkaExkaEykA"],
    )
    encodedSize: EncodedSize = Field(description="Octets of each part as stored (encoded).")


class TextContent(TextInfo):
    plain: str | None = Field(None, description="text/plain body decoded to UTF-8.")
    html: str | None = Field(None, description="text/html body decoded to UTF-8.")
    hasMore: bool = Field(description="True when a part was cut at `maxBytes`.")
    reply: str | None = Field(
        None,
        description="The message's own new text, plain: without quoted history (`>` lines, "
        '"On … wrote:" and its translations, Outlook\'s "From: … Sent: …" blocks, '
        '"Original Message" and forwarded blocks) and without the signature (after '
        '"-- "), mobile and webmail footers ("Sent from my iPhone") and a closing legal '
        "disclaimer or privacy notice. From the text/plain part, "
        "else the text/html one; in English, German, French, Spanish, Russian, Portuguese, "
        "Dutch and Swedish formats. `messageReply` and `messageAutoReply` webhooks carry it "
        "as `data.text.reply`, cut at IMAPAPI_REPLY_TEXT_MAX octets (`truncated` then names "
        "`text.reply`).",
        examples=["Thanks, option B works for us.\n\nBest regards,\nAnna"],
    )


class AttachmentOut(ApiModel):
    id: str = Field(description="Id for `GET /v1/account/{account}/attachment/{attachmentId}`.")
    contentType: str = Field(examples=["image/png"])
    encodedSize: int = Field(description="Octets as stored (base64 is ~4/3 of the file).")
    filename: str | None = Field(None, examples=["checkmark.png"])
    inline: bool = Field(description="Shown within the HTML (disposition inline or by cid:).")
    contentId: str | None = Field(None, examples=["<logo@example.com>"])


class BounceRecipientOut(ApiModel):
    recipient: str = Field(examples=["lead@example.org"])
    action: str = Field(examples=["failed"])
    status: str | None = Field(None, examples=["5.1.1"])
    diagnosticCode: str | None = Field(None, examples=["smtp; 550 5.1.1 user unknown"])


class BounceOut(ApiModel):
    recipients: list[BounceRecipientOut]
    originalMessageId: str | None = None
    delayed: bool = Field(description="Only a delay was reported, no recipient failed for good.")


class Classification(ApiModel):
    """The verdict the `messageNew` webhook carries, from the same headers."""

    type: Literal["human", "autoReply", "bounce", "list", "automated"] = Field(
        description="A person's message, an auto-reply (out of office), a bounce (delivery "
        "report), list mail, or other machine mail."
    )
    reasons: list[str] = Field(
        description="Every signal seen, also those that did not decide `type`.",
        examples=[["auto-submitted:auto-replied"]],
    )
    bounce: BounceOut | None = Field(
        None, description="The parsed report, for a bounce (its body is read for it)."
    )


class MessageSummary(ApiModel):
    id: str = Field(examples=["AAAAAQAAAeE"])
    uid: int = Field(examples=[481])
    path: str = Field(examples=["INBOX"])
    emailId: str | None = Field(None, description="Gmail X-GM-MSGID.")
    threadId: str | None = Field(
        None, description=THREAD_ID_DESCRIPTION, examples=[THREAD_ID_EXAMPLE]
    )
    date: str | None = Field(None, examples=["2019-10-07T06:05:23.000Z"])
    size: int | None = Field(None, examples=[4334])
    flags: list[str] | None = Field(None, examples=[["\\Seen"]])
    labels: list[str] | None = Field(None, description="Gmail labels.")
    unseen: bool | None = None
    subject: str = Field(examples=["Test message"])
    from_: AddressOut | None = Field(None, alias="from")
    sender: AddressOut | None = None
    replyTo: list[AddressOut] | None = None
    to: list[AddressOut] | None = None
    cc: list[AddressOut] | None = None
    bcc: list[AddressOut] | None = None
    messageId: str | None = Field(None, examples=["<0ebdd7b084794911b03986c827128f1b@example.com>"])
    inReplyTo: str | None = None
    references: list[str] | None = None
    text: TextInfo | None = None
    attachments: list[AttachmentOut] | None = None
    classification: Classification | None = None
    isAutoReply: bool | None = Field(None, description="`classification.type` is `autoReply`.")
    isBounce: bool | None = Field(None, description="`classification.type` is `bounce`.")
    truncated: list[str] | None = Field(
        None,
        description="Fields cut to fit: in listings, search results and webhooks each "
        "header-derived value (`subject`, `from`, `sender`, `messageId`, `inReplyTo`; each of "
        "`replyTo`, `to`, `cc`, `bcc`, `references` as a whole, keeping the first addresses, "
        "or the first and the latest ids; the strings of `attachments`) is cut at "
        f"{MAX_HEADER_VALUE} octets (UTF-8). Absent when nothing was cut. "
        "`GET /message/{id}` and its `/source` give the whole values. In messageReply and "
        "messageAutoReply webhooks also `text.reply`, cut at IMAPAPI_REPLY_TEXT_MAX octets.",
        examples=[["subject"]],
    )


class MessageList(ApiModel):
    page: int = Field(description="Zero-based page number.", examples=[0])
    pages: int = Field(description="How many pages there are (at least 1).", examples=[10])
    total: int = Field(description="Messages in the folder (or matching the search).")
    messages: list[MessageSummary] = Field(description="Newest first; empty past the end.")


class ThreadList(MessageList):
    total: int = Field(description="Messages in the thread, over all folders.")
    messages: list[MessageSummary] = Field(description="Oldest first; empty past the end.")


class MessageDetails(MessageSummary):
    headers: dict[str, list[str]] = Field(
        description="Lowercase header name → decoded values in order; repeats kept.",
        examples=[{"subject": ["Test message"], "received": ["from a …", "from b …"]}],
    )
    text: TextContent | None = None


class TextOut(ApiModel):
    plain: str | None = None
    html: str | None = None
    hasMore: bool


class FlagsOut(ApiModel):
    id: str
    flags: list[str] = Field(description="The message's flags after the change.")
    labels: list[str] | None = Field(None, description="Gmail labels after the change.")


class MovedOut(ApiModel):
    path: str = Field(description="Destination folder.")
    id: str | None = Field(None, description="New id (absent if the server cannot tell).")
    uid: int | None = None


class MovedTo(ApiModel):
    destination: str = Field(examples=["Trash"])
    message: str | None = Field(None, description="Id of the message in Trash.")
    uid: int | None = None


class DeletedOut(ApiModel):
    deleted: bool = Field(description="True when expunged, false when moved to Trash.")
    moved: MovedTo | None = None


class UploadOut(ApiModel):
    path: str
    id: str | None = Field(None, description="Id of the stored message (from APPENDUID).")
    uid: int | None = None


# --- requests ---------------------------------------------------------------------------------


class FlagChanges(ApiModel):
    add: list[Flag] = Field(default_factory=list, max_length=100)
    delete: list[Flag] = Field(default_factory=list, max_length=100)
    set: list[Flag] | None = Field(None, max_length=100, description="Replace all flags.")


class LabelChanges(ApiModel):
    add: list[Label] = Field(default_factory=list, max_length=100)
    delete: list[Label] = Field(default_factory=list, max_length=100)
    set: list[Label] | None = Field(None, max_length=100, description="Replace all labels.")


class MessageUpdate(ApiModel):
    """Applied in order `set`, `add`, `delete`."""

    flags: FlagChanges | None = Field(None, examples=[{"add": ["\\Seen"], "delete": ["$Junk"]}])
    labels: LabelChanges | None = Field(
        None, description="Gmail only (X-GM-LABELS): 422 on other servers."
    )


class MessageMove(ApiModel):
    path: MailboxPath


class MessageUpload(ApiModel):
    path: MailboxPath
    raw: str = Field(
        description="The RFC 822 message, base64 encoded (not empty; spaces and line breaks "
        "between the characters are ignored); bare LF line ends are stored as CRLF "
        "(RFC 5322 §2.3). A message with NUL octets is refused with 422 (RFC 3501 §4.3). At "
        "most `max_message_size` octets once decoded; the body is refused as it arrives once "
        "over that size base64-encoded plus `max_body_size`.",
        # Checked by the route, which names the reason (not valid base64, empty).
        json_schema_extra={"pattern": base64_pattern(empty=False)},
        examples=["RnJvbTogYUBleGFtcGxlLmNvbQ0KU3ViamVjdDogaGkNCg0KaGVsbG8NCg=="],
    )
    flags: list[Flag] = Field(default_factory=list, max_length=100, examples=[["\\Seen"]])
    internalDate: Annotated[_dt.datetime, ISO_TEXT] | None = Field(
        None, description="INTERNALDATE to store (ISO 8601 date-time)."
    )


HEADER_NAME_PATTERN = r"^[!-9;-~]+$"


def _names_by_pattern(schema: dict[str, Any]) -> None:
    # pydantic states a key pattern as `patternProperties`, which leaves other names free; the
    # API refuses them, so the document says `propertyNames` instead.
    pattern, values = schema.pop("patternProperties").popitem()
    schema["propertyNames"]["pattern"] = pattern
    schema["additionalProperties"] = values


class SearchQuery(ApiModel):
    """Every given term must match (AND). Strings match as substrings, case-insensitively
    (RFC 3501 §6.4.4). `since`/`before` compare the arrival date by day."""

    from_: SearchText | None = Field(None, alias="from", examples=["peter@example.com"])
    to: SearchText | None = None
    cc: SearchText | None = None
    bcc: SearchText | None = None
    subject: SearchText | None = Field(None, examples=["invoice"])
    body: SearchText | None = None
    text: SearchText | None = Field(None, description="Headers or body.")
    header: dict[
        # RFC 5322 §3.6.8 field-name: printable ASCII except ":".
        Annotated[str, Field(min_length=1, max_length=200, pattern=HEADER_NAME_PATTERN)],
        Annotated[SafeText, Field(max_length=1000)],
    ] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"X-Mailer": "Outlook"}],
        json_schema_extra=_names_by_pattern,
    )
    since: SearchDate | None = Field(None, examples=["2024-01-31"])
    before: SearchDate | None = None
    seen: StrictBool | None = None
    unseen: StrictBool | None = None
    flagged: StrictBool | None = None
    answered: StrictBool | None = None
    larger: StrictInt | None = Field(None, ge=0, le=0xFFFFFFFF)
    smaller: StrictInt | None = Field(None, ge=0, le=0xFFFFFFFF)
    uid: (
        Annotated[str, Field(max_length=1000, pattern=UID_SET_PATTERN)]
        | Annotated[StrictInt, Field(ge=1, le=0xFFFFFFFF)]
        | None
    ) = Field(None, examples=["1:100,205"])
    messageId: SearchText | None = None
    threadId: Annotated[str, Field(pattern=THREAD_ID_PATTERN)] | None = Field(
        None,
        description="Only the messages of this thread (a `threadId` of a message object): "
        "exactly, not by substring. A thread id of another server's kind matches nothing.",
    )


class SearchIn(ApiModel):
    search: SearchQuery = Field(examples=[{"from": "peter@example.com", "unseen": True}])
