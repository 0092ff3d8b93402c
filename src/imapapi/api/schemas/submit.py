"""Submit and outbox models (seed README "Send an email"; issue 6)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from imapapi.api.schemas.common import ApiModel, SafeText
from imapapi.errors import InvalidInputError
from imapapi.mail.compose import validate_address, validate_header, validate_message_id

_IDEMPOTENCY_KEY = r"^[!-~]{1,128}$"  # visible ASCII: safe in logs and headers
_WHITESPACE = re.compile(rb"\s+")


def _as_value_error(check: Any, value: Any, field: str) -> Any:
    # The compose validators raise InvalidInputError (for callers outside the API); pydantic
    # needs ValueError to report the field with its own location.
    try:
        return check(value, field)
    except InvalidInputError as exc:
        raise ValueError(exc.reason) from exc


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
        examples=["andris@example.com"]
    )


Address = Annotated[AddressIn, BeforeValidator(_from_text)]
AddressList = Annotated[list[Address], BeforeValidator(_one_or_many), Field(max_length=1000)]


class AttachmentIn(ApiModel):
    filename: Annotated[SafeText, Field(max_length=255)] | None = Field(
        None, examples=["checkmark.png"]
    )
    content: str = Field(description="The file, base64 encoded.")
    contentType: Annotated[SafeText, Field(max_length=255)] | None = Field(
        None, description="Guessed from the file name when absent.", examples=["image/png"]
    )
    contentDisposition: Literal["attachment", "inline"] | None = Field(
        None, description="Default: `inline` when `cid` is set, else `attachment`."
    )
    cid: Annotated[SafeText, Field(max_length=255)] | None = Field(
        None, description='Content-ID, so the html can show it as `<img src="cid:...">`.'
    )

    @field_validator("content")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(_WHITESPACE.sub(b"", value.encode("ascii")), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError("is not valid base64") from exc
        return value

    def decoded(self) -> bytes:
        return base64.b64decode(_WHITESPACE.sub(b"", self.content.encode("ascii")))


class ReferenceIn(ApiModel):
    message: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="Id of the message answered or forwarded (from a message listing).",
        examples=["AAAAAQAAAeE"],
    )
    action: Literal["reply", "replyAll", "forward"] = "reply"
    inline: bool = Field(
        False, description="forward: quote the original in the body instead of attaching it."
    )


class SubmitIn(ApiModel):
    """A message to send. With `reference`, threading headers, the subject and (for replies)
    the recipients are derived from the original unless given."""

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
        description='Extra headers, e.g. `{"X-Auto-Response-Suppress": "OOF"}`.',
    )
    messageId: str | None = Field(
        None, description="Your own Message-ID, `<left@right>`.", examples=["<abc@example.com>"]
    )
    reference: ReferenceIn | None = None
    idempotencyKey: Annotated[str, Field(pattern=_IDEMPOTENCY_KEY)] | None = Field(
        None, description="The same key within 24 h returns the first submission, sent once."
    )
    sendAt: datetime | None = Field(
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
