"""Submit and outbox models (seed README "Send an email"; issue 6)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from imapapi.api.schemas.common import BASE64_SPACE, ISO_TEXT, ApiModel, SafeText, base64_pattern
from imapapi.errors import InvalidInputError
from imapapi.mail.compose import (
    MAX_HEADER_VALUE,
    MAX_MESSAGE_ID,
    MSG_ID_PATTERN,
    RESERVED_HEADERS,
    validate_address,
    validate_header,
    validate_message_id,
)
from imapapi.mail.references import MAX_REFERENCES

_IDEMPOTENCY_KEY = r"^[!-~]{1,128}$"  # visible ASCII: safe in logs and headers

# `mail.compose.normalize_cid`'s rule: an id without spaces, angle brackets or control
# characters, in optional angle brackets, with spaces around it; or "" (no Content-ID).
CID_PATTERN = r"^(?: *<?[^ <>\u0000-\u001f\u007f]+>? *)?$"


def _as_value_error(check: Any, value: Any, field: str) -> Any:
    # The compose validators raise InvalidInputError (for callers outside the API); pydantic
    # needs ValueError to report the field with its own location.
    try:
        return check(value, field)
    except InvalidInputError as exc:
        raise ValueError(exc.reason) from exc


# What email-validator accepts (mail/compose.py), as far as a pattern can say it.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Every top-level domain ends with a letter (email-validator checks it).
EMAIL_PATTERN = (
    rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:{_DOMAIN_LABEL}\.)+(?:[A-Za-z0-9][A-Za-z0-9-]{{0,61}})?[A-Za-z]$"
)


def _any_case(name: str) -> str:
    return "".join(f"[{c.upper()}{c}]" if c.isalpha() else re.escape(c) for c in name)


# `headers`, as validate_header (mail/compose.py) checks them: RFC 5322 field names, none that
# imapapi sets itself, values without control characters other than TAB.
_HEADERS_SCHEMA: JsonDict = {
    "propertyNames": {
        "pattern": r"^[!-9;-~]{1,76}$",
        "not": {"pattern": f"^(?:{'|'.join(_any_case(n) for n in sorted(RESERVED_HEADERS))})$"},
    },
    "additionalProperties": {
        "type": "string",
        "maxLength": MAX_HEADER_VALUE,
        "pattern": r"^[^\u0000-\u0008\u000a-\u001f\u007f]*$",
    },
}


# split_content_type (mail/compose.py): RFC 2045 §5.1 type/subtype tokens, parameters after
# ";", no control characters (SafeText), nothing multipart.
_MIME_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE_SCHEMA: JsonDict = {
    "pattern": rf"^(?:\s*{_MIME_NAME}/{_MIME_NAME}\s*(?:;[^\u0000-\u001f\u007f]*)?)?$",
    "not": {"pattern": r"^\s*[Mm][Uu][Ll][Tt][Ii][Pp][Aa][Rr][Tt]/"},
}


def _address(value: str) -> str:
    return str(_as_value_error(validate_address, value, "address"))


def _from_text(value: Any) -> Any:
    """`"Name <a@b>"` or `"a@b"` as `{name, address}`, so strings work as in the seed blog."""
    if isinstance(value, str):
        parsed = getaddresses([value])
        if len(parsed) != 1 or not parsed[0][1]:
            raise ValueError("must be an address like 'Name <user@example.com>'")
        name, address = parsed[0]
        return {"name": name, "address": address}
    return value


def _one_or_many(value: Any) -> Any:
    if isinstance(value, dict | str):
        return [value]
    return value


class AddressIn(ApiModel):
    """A mailbox: `{"name": "Andris", "address": "andris@example.com"}` (or the string form
    `"Andris <andris@example.com>"`)."""

    name: Annotated[SafeText, Field(max_length=256)] | None = Field(None, examples=["Andris"])
    address: Annotated[str, Field(max_length=320), AfterValidator(_address)] = Field(
        examples=["andris@example.com"],
        description="An ASCII addr-spec (RFC 5322 §3.4.1) on a domain with a dot; IDN domains "
        "in their xn-- form; special-use domains (`.test`, `.local`, …) are refused.",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    )


Address = Annotated[AddressIn, BeforeValidator(_from_text)]
AddressList = Annotated[list[Address], BeforeValidator(_one_or_many), Field(max_length=1000)]


class AttachmentIn(ApiModel):
    filename: Annotated[SafeText, Field(max_length=255)] | None = Field(
        None, examples=["checkmark.png"]
    )
    content: str = Field(
        description="The file, base64 encoded (spaces and line breaks are ignored).",
        json_schema_extra={"pattern": base64_pattern(empty=True)},
    )
    contentType: Annotated[SafeText, Field(max_length=255)] | None = Field(
        None,
        description="A MIME type such as `application/pdf`, not `multipart/…`; guessed from "
        "the file name when absent or empty.",
        examples=["image/png"],
        json_schema_extra=_CONTENT_TYPE_SCHEMA,
    )
    contentDisposition: Literal["attachment", "inline"] | None = Field(
        None, description="Default: `inline` when `cid` is set, else `attachment`."
    )
    cid: (
        Annotated[SafeText, Field(max_length=255, json_schema_extra={"pattern": CID_PATTERN})]
        | None
    ) = Field(None, description='Content-ID, so the html can show it as `<img src="cid:...">`.')

    @field_validator("content")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(BASE64_SPACE.sub("", value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("is not valid base64") from exc
        return value

    def decoded(self) -> bytes:
        return base64.b64decode(BASE64_SPACE.sub("", self.content))


def _exact_message_id(value: str) -> str:
    # validate_message_id allows spaces around the id; these fields take the id alone, so the
    # schema's pattern is the whole rule.
    if value != value.strip():
        raise ValueError("must be a message id without spaces around it")
    return str(_as_value_error(validate_message_id, value, "x"))


# An RFC 5322 §3.6.4 msg-id, `<left@right>`: no spaces, CR/LF or other control characters.
MessageIdText = Annotated[
    str,
    Field(
        max_length=MAX_MESSAGE_ID,
        examples=["<original-1@partner.example.com>"],
        json_schema_extra={"pattern": f"^{MSG_ID_PATTERN}$"},
    ),
    AfterValidator(_exact_message_id),
]


def _given(name: str, schema: JsonDict) -> JsonDict:
    return _given_all({name: schema})


def _given_all(schemas: dict[str, JsonDict]) -> JsonDict:
    return {"required": list(schemas), "properties": dict(schemas)}


_TEXT: JsonDict = {"type": "string"}
_SOME: JsonDict = {"type": "array", "minItems": 1}
_REFERENCE: JsonDict = {"type": "object"}


class ReferenceIn(ApiModel):
    """The message answered or forwarded: `message` (its id) or `messageId` (its Message-ID),
    exactly one of them."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [_given("message", _TEXT), _given("messageId", _TEXT)]}
    )

    message: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$")] | None = Field(
        None,
        description="Id of the message answered or forwarded (from a message listing).",
        examples=["AAAAAQAAAeE"],
    )
    messageId: MessageIdText | None = Field(
        None,
        description="The Message-ID of the message answered or forwarded, `<left@right>`: it is "
        "looked up in every folder (INBOX first, then Sent, the other folders, Junk and Trash "
        "last; on Gmail in All Mail), so a message filed anywhere, or one sent from this "
        "account, can be answered without its id. Not found: 404 naming `reference.messageId`, "
        "and nothing is sent.",
    )
    action: Literal["reply", "replyAll", "forward"] = "reply"
    inline: bool = Field(
        False, description="forward: quote the original in the body instead of attaching it."
    )


class SubmitIn(ApiModel):
    """A message to send: `text`, `html` or both (a forward may have neither), and at least one
    recipient in `to`, `cc` or `bcc` (a reply may have none: they come from the original). With
    `reference`, threading headers, the subject and (for replies) the recipients are derived
    from the original unless given."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "anyOf": [
                        _given("text", _TEXT),
                        _given("html", _TEXT),
                        _given(
                            "reference", {**_REFERENCE, **_given("action", {"const": "forward"})}
                        ),
                    ]
                },
                {
                    "anyOf": [
                        _given("to", _SOME),
                        _given("cc", _SOME),
                        _given("bcc", _SOME),
                        _given(
                            "reference",
                            {
                                "type": "object",
                                "properties": {"action": {"enum": ["reply", "replyAll"]}},
                            },
                        ),
                    ]
                },
                # inReplyTo / references are derived from the original with `reference`.
                {"not": _given_all({"reference": _REFERENCE, "inReplyTo": _TEXT})},
                {"not": _given_all({"reference": _REFERENCE, "references": _SOME})},
            ]
        }
    )

    from_: Address | None = Field(
        None,
        alias="from",
        description="Default: the account's `email` and `name`.",
    )
    to: AddressList | None = None
    cc: AddressList | None = None
    bcc: AddressList | None = Field(None, description="Envelope only; never in the message.")
    replyTo: AddressList | None = None
    subject: Annotated[SafeText, Field(max_length=2000)] | None = None
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=500)
    headers: dict[str, str] = Field(
        default_factory=dict,
        description='Extra headers, e.g. `{"X-Auto-Response-Suppress": "OOF"}`: RFC 5322 '
        "field names, not one imapapi sets itself (From, To, Subject, MIME headers, …). A value "
        "that a structured header (e.g. `Sender`) cannot parse is refused with 400.",
        json_schema_extra=_HEADERS_SCHEMA,
    )
    messageId: str | None = Field(
        None,
        description="Your own Message-ID, `<left@right>` (RFC 5322 §3.6.4, at most "
        f"{MAX_MESSAGE_ID} characters).",
        examples=["<abc@example.com>"],
        json_schema_extra={"pattern": rf"^\s*{MSG_ID_PATTERN}\s*$"},
    )
    reference: ReferenceIn | None = None
    inReplyTo: MessageIdText | None = Field(
        None,
        description="The Message-ID this message answers, for a conversation whose messages "
        "are not in this mailbox (with a message that is, use `reference`, which sets this "
        "itself; the two are not combined). Sent as `In-Reply-To`; `References` is set to it "
        "too unless `references` is given (RFC 5322 §3.6.4).",
    )
    references: list[MessageIdText] | None = Field(
        None,
        max_length=1000,
        description="The conversation's Message-IDs, oldest first, sent as `References` (not "
        "with `reference`). Like a reply to a message in the mailbox, it keeps the first id "
        f"(the thread's root) and the latest ones, {MAX_REFERENCES} in all, as mail clients "
        "trim long chains and some servers refuse header lines over 998 octets; repeated ids "
        "are sent once.",
    )
    idempotencyKey: Annotated[str, Field(pattern=_IDEMPOTENCY_KEY)] | None = Field(
        None, description="The same key within 24 h returns the first submission, sent once."
    )
    sendAt: Annotated[datetime, ISO_TEXT] | None = Field(
        None, description="Send later (ISO 8601; UTC when no offset is given)."
    )

    @field_validator("messageId")
    @classmethod
    def _message_id(cls, value: str | None) -> str | None:
        return None if value is None else str(_as_value_error(validate_message_id, value, "x"))

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 100:
            raise ValueError("at most 100 headers")
        for name, text in value.items():
            try:
                validate_header(name, text)
            except InvalidInputError as exc:
                raise ValueError(f"{name}: {exc.reason}") from exc
        return value

    @field_validator("sendAt")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class SubmitOut(ApiModel):
    messageId: str = Field(examples=["<b8a3d3c4@example.com>"])
    queueId: str = Field(examples=["3f2c1e0b9a8d4c7f8e6d5c4b3a291807"])
    sendAt: str = Field(description="When it is (or was) due to be sent, ISO 8601 UTC.")


class EnvelopeOut(ApiModel):
    from_: str = Field(alias="from")
    to: list[str]


class OutboxEntry(ApiModel):
    queueId: str
    account: str
    messageId: str
    state: Literal["queued", "sending", "sent", "failed", "cancelled"]
    created: str
    sendAt: str
    nextAttempt: str | None = Field(None, description="When pending: the next attempt.")
    attempts: int
    lastResponse: str | None = Field(None, description="The last SMTP reply or error.")
    smtpCode: int | None = None
    envelope: EnvelopeOut


class OutboxList(ApiModel):
    messages: list[OutboxEntry]
    page: int
    pages: int
    total: int


class OutboxDeleted(ApiModel):
    queueId: str
    deleted: bool
