"""/v1/account/{account}/messages, /message, /text, /attachment, /search (issue 5).

Answers are the dicts the accounts layer builds, sent as they are (absent values omitted, the
seed README's shapes); the response models only document them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from imapapi.api.deps import ServiceDep, SessionDep
from imapapi.api.responses import OrjsonResponse
from imapapi.api.schemas.common import BASE64_SPACE, ErrorResponse
from imapapi.api.schemas.mailboxes import MailboxPath
from imapapi.api.schemas.messages import (
    MAX_PAGE_SIZE,
    MAX_TEXT_BYTES,
    DeletedOut,
    FlagsOut,
    MessageDetails,
    MessageList,
    MessageMove,
    MessageUpdate,
    MessageUpload,
    MovedOut,
    SearchIn,
    SearchQuery,
    TextOut,
    UploadOut,
)
from imapapi.errors import InvalidInputError, PayloadTooLargeError
from imapapi.mail.content import content_disposition
from imapapi.operations import message_read, message_write, messages
from imapapi.operations.message_read import Download, TextType
from imapapi.operations.search import SearchTerms

router = APIRouter(prefix="/v1/account/{account}", tags=["Message"])

# Ids are base64url without padding (mail/ids.py). A message id is 8 octets: 11 characters, the
# last one with its two spare bits zero (one spelling per id). Text and attachment ids are
# longer; what they decode to is checked by the server (422 for an id that names nothing).
_ID = r"^[A-Za-z0-9_-]{12,98}$"  # 98: two MIME part numbers of 64 characters (mail/ids.py)
_MESSAGE_ID = r"^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$"
MessageId = Annotated[
    str,
    Path(pattern=_MESSAGE_ID, description="Message id from a listing.", examples=["AAAAAQAAAeE"]),
]
FolderQuery = Annotated[MailboxPath, Query(description="Folder path.", examples=["INBOX"])]
PageQuery = Annotated[int, Query(ge=0, le=10_000_000, description="Zero-based page number.")]
PageSizeQuery = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Messages per page (1 to {MAX_PAGE_SIZE}).")
]
MaxBytesQuery = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_TEXT_BYTES,
        description="Encoded octets to fetch of each text part at most; `hasMore` tells when "
        "a part was cut.",
    ),
]


def _stream(download: Download, *, disposition: str | None) -> StreamingResponse:
    headers = {"X-Content-Type-Options": "nosniff"}
    if disposition is not None:
        headers["Content-Disposition"] = disposition
    return StreamingResponse(download.chunks, media_type=download.content_type, headers=headers)


@router.get(
    "/messages",
    summary="List messages in a folder, newest first",
    description="Zero-based pages of the newest messages first, built from ENVELOPE, "
    "BODYSTRUCTURE and a few header fields (no body is downloaded; only a bounce candidate's "
    "start is read, for `classification.bounce`). A page past the end has no messages; an "
    "unknown folder answers 404.",
    response_model=MessageList,
)
async def list_messages(
    session: SessionDep,
    path: FolderQuery,
    page: PageQuery = 0,
    pageSize: PageSizeQuery = 20,
) -> JSONResponse:
    result = await messages.list_messages(
        session, session.store, path, page=page, page_size=pageSize
    )
    return page_response(result)


def page_response(result: messages.MessagePage) -> JSONResponse:
    return OrjsonResponse(
        {
            "page": result.page,
            "pages": result.pages,
            "total": result.total,
            "messages": result.messages,
        }
    )


@router.post(
    "/search",
    summary="Search a folder, newest first",
    description="Terms are ANDed and compiled to IMAP SEARCH (values quoted or sent as "
    "literals, never pasted into the command). Paged like the listing. `threadId` is matched "
    "exactly: the server is searched for the thread's root Message-ID, then every hit's own "
    "thread id is checked, so `total` counts only the thread's messages.",
    response_model=MessageList,
)
async def search_messages(
    body: SearchIn,
    session: SessionDep,
    path: FolderQuery,
    page: PageQuery = 0,
    pageSize: PageSizeQuery = 20,
) -> JSONResponse:
    terms = _terms(body.search)
    result = await messages.search_messages(
        session, session.store, path, terms, page=page, page_size=pageSize
    )
    return page_response(result)


def _day(value: _dt.date | _dt.datetime | None) -> _dt.date | None:
    return value.date() if isinstance(value, _dt.datetime) else value


def _terms(query: SearchQuery) -> SearchTerms:
    return SearchTerms(
        from_=query.from_,
        to=query.to,
        cc=query.cc,
        bcc=query.bcc,
        subject=query.subject,
        body=query.body,
        text=query.text,
        header=dict(query.header),
        since=_day(query.since),
        before=_day(query.before),
        seen=query.seen,
        unseen=query.unseen,
        flagged=query.flagged,
        answered=query.answered,
        larger=query.larger,
        smaller=query.smaller,
        uid=None if query.uid is None else str(query.uid),
        message_id=query.messageId,
        thread_id=query.threadId,
    )


@router.get(
    "/message/{id}",
    summary="Message details with headers and decoded text",
    description="The listing object plus `headers` and the text/plain and text/html bodies "
    "decoded to UTF-8 from any charset and transfer encoding, each cut at `maxBytes` "
    "(`text.hasMore`), and `text.reply`, the message's own new text without quoted history "
    "and signature. A stale id (message gone, folder reset) answers 404.",
    response_model=MessageDetails,
)
async def get_message(
    session: SessionDep,
    id: MessageId,
    maxBytes: MaxBytesQuery = messages.DEFAULT_TEXT_BYTES,
) -> JSONResponse:
    message = await messages.get_message(session, session.store, id, max_bytes=maxBytes)
    return OrjsonResponse(message)


@router.get(
    "/message/{id}/source",
    summary="Download the raw message (RFC 822), streamed",
    response_class=StreamingResponse,
    responses={200: {"content": {"message/rfc822": {"schema": {"type": "string"}}}}},
)
async def get_source(session: SessionDep, id: MessageId) -> StreamingResponse:
    download = await message_read.download_source(session, session.store, id)
    return _stream(download, disposition=None)


@router.get(
    "/text/{textId}",
    summary="Download message text, optionally only part of it",
    description="Fetches only the named text parts, only the first `maxBytes` encoded octets "
    "of each (a partial IMAP FETCH): the rest is never downloaded.",
    response_model=TextOut,
)
async def get_text(
    session: SessionDep,
    textId: Annotated[str, Path(pattern=_ID, description="`text.id` of a message.")],
    maxBytes: MaxBytesQuery = messages.DEFAULT_TEXT_BYTES,
    textType: Annotated[TextType, Query(description="`plain`, `html` or `*` for both.")] = "*",
) -> JSONResponse:
    text = await message_read.get_text(
        session, session.store, textId, max_bytes=maxBytes, text_type=textType
    )
    return JSONResponse(text)


@router.get(
    "/attachment/{attachmentId}",
    summary="Download an attachment, decoded and streamed",
    description="The decoded octets with the part's Content-Type and a Content-Disposition "
    "file name (RFC 6266 `filename*` for non-ASCII names).",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
)
async def get_attachment(
    session: SessionDep,
    attachmentId: Annotated[str, Path(pattern=_ID, description="`attachments[].id`.")],
) -> StreamingResponse:
    download = await message_read.download_attachment(session, session.store, attachmentId)
    return _stream(download, disposition=content_disposition(download.filename))


@router.put(
    "/message/{id}",
    summary="Change flags (and Gmail labels)",
    response_model=FlagsOut,
)
async def update_message(session: SessionDep, id: MessageId, body: MessageUpdate) -> JSONResponse:
    flags, labels = body.flags, body.labels
    result = await message_write.update_flags(
        session,
        session.store,
        id,
        add=flags.add if flags else (),
        delete=flags.delete if flags else (),
        set_=flags.set if flags else None,
        labels_add=labels.add if labels else (),
        labels_delete=labels.delete if labels else (),
        labels_set=labels.set if labels else None,
    )
    return JSONResponse(result)


@router.put(
    "/message/{id}/move",
    summary="Move a message to another folder; returns its new id",
    response_model=MovedOut,
)
async def move_message(session: SessionDep, id: MessageId, body: MessageMove) -> JSONResponse:
    return JSONResponse(await message_write.move_message(session, session.store, id, body.path))


@router.delete(
    "/message/{id}",
    summary="Delete a message (to Trash, or expunge with force)",
    description="Moves the message to the `\\Trash` folder. With `force=true`, in Trash "
    "itself, or without a Trash folder, the message is expunged.",
    response_model=DeletedOut,
)
async def delete_message(
    session: SessionDep,
    id: MessageId,
    force: Annotated[bool, Query(description="Expunge instead of moving to Trash.")] = False,
) -> JSONResponse:
    return JSONResponse(await message_write.delete_message(session, session.store, id, force=force))


@router.post(
    "/message",
    summary="Upload (APPEND) a message to a folder",
    response_model=UploadOut,
    responses={
        413: {
            "model": ErrorResponse,
            "description": "The message is over `max_message_size` octets, or the request body "
            "over that size base64-encoded plus `max_body_size` (refused as it arrives).",
        }
    },
)
async def upload_message(
    session: SessionDep, service: ServiceDep, body: MessageUpload
) -> JSONResponse:
    raw = _base64(body.raw, service.settings.max_message_size)
    result: dict[str, Any] = await message_write.upload_message(
        session, session.store, body.path, raw, flags=body.flags, internal_date=body.internalDate
    )
    return JSONResponse(result)


def _base64(value: str, limit: int) -> bytes:
    try:
        raw = base64.b64decode(BASE64_SPACE.sub("", value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("raw", "not valid base64") from exc
    if not raw:
        raise InvalidInputError("raw", "the message is empty")
    if len(raw) > limit:
        raise PayloadTooLargeError(
            f"raw: the message is over {limit} octets (IMAPAPI_MAX_MESSAGE_SIZE)",
            details=[{"field": "raw", "reason": f"over {limit} octets"}],
        )
    return raw
