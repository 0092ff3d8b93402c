"""Folder models (`/v1/account/{account}/mailboxes`, `/mailbox`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from imapapi.api.schemas.common import ApiModel, SafeText

MailboxPath = Annotated[
    SafeText,
    Field(
        min_length=1,
        max_length=1000,
        description="Full folder path with the server's delimiter, e.g. `Archive/2024`. "
        "Non-ASCII names are fine; CR, LF and NUL are refused.",
        examples=["Archive/Ünïcödé"],
    ),
]

# RFC 3501 §6.3.4-5: INBOX cannot be deleted, and renaming it is not a rename (it moves the
# messages); the API refuses both.
NotInbox = Field(json_schema_extra={"not": {"pattern": "^[Ii][Nn][Bb][Oo][Xx]$"}})
ExistingMailboxPath = Annotated[MailboxPath, NotInbox]


class MailboxOut(ApiModel):
    path: str = Field(examples=["INBOX"])
    name: str = Field(description="Last segment of the path.")
    delimiter: str | None = Field(None, examples=["/"])
    parentPath: str | None = None
    specialUse: str | None = Field(None, examples=["\\Sent"])
    subscribed: bool
    listed: bool
    messages: int | None = Field(None, description="With `counters=true`: message count.")
    uidNext: int | None = Field(None, description="With `counters=true`: next UID.")
    uidValidity: int | None = Field(None, description="With `counters=true`: UIDVALIDITY.")
    unseen: int | None = Field(None, description="With `counters=true`: unseen messages.")


class MailboxList(ApiModel):
    mailboxes: list[MailboxOut]


class MailboxCreate(ApiModel):
    path: MailboxPath


class MailboxRename(ApiModel):
    path: ExistingMailboxPath
    newPath: MailboxPath


class MailboxResult(ApiModel):
    path: str
    created: bool | None = None
    renamed: bool | None = None
    deleted: bool | None = None
    newPath: str | None = None
