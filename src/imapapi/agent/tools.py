"""The MCP tools: one function per tool, each calling what the matching REST route calls.

Every tool names its scope (`read`, `send`, `write`, as the REST routes do) and checks it, then
the account binding, before it touches a mailbox: a token bound to other accounts gets the
unknown account's `AccountNotFound`, word for word. Arguments carry their JSON Schema
(descriptions and examples are what the model reads); a value the schema lets through but the
mail layer refuses (a bad flag, a date before 1970) is refused by the same checks as in REST.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from markdownify import markdownify
from mcp.server.mcpserver import Context
from pydantic import Field

from imapapi.agent import results
from imapapi.agent.caller import Caller, caller
from imapapi.agent.results import as_json, cut, details
from imapapi.credentials.tokens import require_account, require_scope, sees_account
from imapapi.errors import InvalidInputError
from imapapi.events.model import format_date
from imapapi.mail.html_text import html_to_text
from imapapi.mail.references import Mailbox
from imapapi.operations import mailboxes, message_write, messages, threads
from imapapi.operations.search import SearchTerms
from imapapi.sending.submission import Reference, SubmitRequest
from imapapi.sessions.session import AccountSession

# A page of brief summaries of this many messages stays within a few thousand tokens.
MAX_PAGE_SIZE = 50
DEFAULT_CHARS = 8_000
MAX_CHARS = 100_000
# Encoded octets fetched per text part: HTML and quoted-printable take several octets for one
# character of text, and the text is cut at `max_chars` after decoding anyway.
_OCTETS_PER_CHAR = 8
_MIN_FETCH = 64 * 1024
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"

Account = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        description="Account id, as `list_accounts` shows it.",
        examples=["sales"],
    ),
]
Mailbox_ = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        pattern=_NO_CONTROL,
        description="Folder path with the server's delimiter, as `list_mailboxes` shows it.",
        examples=["INBOX", "Archive/2024"],
    ),
]
MessageId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]{11}$",
        description="Message id (`id` in a listing or search result), 11 characters.",
        examples=["AAAAAQAAAeE"],
    ),
]
Page = Annotated[int, Field(ge=0, le=10_000_000, description="Zero-based page number.")]
PageSize = Annotated[
    int, Field(ge=1, le=MAX_PAGE_SIZE, description=f"Messages per page (1 to {MAX_PAGE_SIZE}).")
]
SearchText = Annotated[str, Field(min_length=1, max_length=1000, pattern=_NO_CONTROL)]
Addresses = Annotated[
    list[Annotated[str, Field(min_length=3, max_length=320)]],
    Field(max_length=50, examples=[["anna@example.com"]]),
]
Flags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=256)]],
    Field(max_length=20, examples=[["\\Seen", "\\Flagged"]]),
]
Body = Annotated[
    str,
    Field(min_length=1, max_length=1_000_000, description="The message text, plain text."),
]


@contextmanager
def _arguments(names: Mapping[str, str]) -> Iterator[None]:
    """A refusal of the operation names the field as REST has it (`search.since`); the model
    is told the name of its own argument instead (`since`)."""
    try:
        yield
    except InvalidInputError as exc:
        name = names.get(exc.field)
        if name is None:
            raise
        raise type(exc)(name, exc.reason) from exc


_SEARCH_ARGUMENTS = {
    "search.from": "sender",
    "search.threadId": "thread_id",
    **{f"search.{name}": name for name in ("to", "subject", "text", "since", "before")},
}


def _allowed(ctx: Context, scope: str, account: str) -> Caller:
    """The caller, once its token holds `scope` and may see `account`."""
    who = caller(ctx)
    require_scope(who.record, scope)
    require_account(who.record, account)
    return who


async def _session(ctx: Context, scope: str, account: str) -> AccountSession:
    return await _allowed(ctx, scope, account).service.accounts.live_session(account)


# --- read -------------------------------------------------------------------------------------


async def list_accounts(ctx: Context) -> str:
    """The mail accounts this token may use, with their address and connection state. Start
    here: every other tool takes one of these `account` ids."""
    who = caller(ctx)
    require_scope(who.record, "read")
    service = who.service
    found = [
        {
            "account": config.account,
            "name": config.name,
            "email": config.email,
            "state": service.accounts.status(config.account).state,
        }
        for config in await service.accounts.registry.list()
        if sees_account(who.record, config.account)
    ]
    return as_json({"accounts": found})


async def list_mailboxes(account: Account, ctx: Context) -> str:
    """The folders of an account, with their special use (\\Sent, \\Trash, \\Junk, \\Archive,
    \\Drafts) where the server names one."""
    session = await _session(ctx, "read", account)
    entries = await mailboxes.list_mailboxes(session, counters=False)
    return as_json(
        {
            "mailboxes": [
                {"path": e.path, **({"specialUse": e.special_use} if e.special_use else {})}
                for e in entries
            ]
        }
    )


async def list_messages(
    account: Account,
    ctx: Context,
    mailbox: Mailbox_ = "INBOX",
    page: Page = 0,
    page_size: PageSize = 20,
) -> str:
    """Messages of one folder, newest first, a page at a time: id, date, from, to, subject,
    unseen, attachment count, type (human, autoReply, bounce, list, automated) and threadId.
    Open one with `get_message`."""
    session = await _session(ctx, "read", account)
    result = await messages.list_messages(
        session, session.store, mailbox, page=page, page_size=page_size
    )
    return results.page(result, extra={"mailbox": mailbox})


async def search_messages(
    account: Account,
    ctx: Context,
    mailbox: Mailbox_ = "INBOX",
    sender: Annotated[
        SearchText | None,
        Field(description="Part of the From address or name.", examples=["anna"]),
    ] = None,
    to: Annotated[SearchText | None, Field(description="Part of a To address or name.")] = None,
    subject: Annotated[
        SearchText | None, Field(description="Part of the subject.", examples=["invoice"])
    ] = None,
    text: Annotated[
        SearchText | None, Field(description="Words in the headers or the body.")
    ] = None,
    since: Annotated[
        _dt.date | None,
        Field(description="Arrived on or after this day (from 1970 on).", examples=["2024-05-01"]),
    ] = None,
    before: Annotated[_dt.date | None, Field(description="Arrived before this day.")] = None,
    unseen: Annotated[
        bool | None, Field(description="true: only unread messages; false: only read ones.")
    ] = None,
    flagged: Annotated[bool | None, Field(description="true: only flagged (starred).")] = None,
    answered: Annotated[bool | None, Field(description="true: only answered ones.")] = None,
    thread_id: Annotated[
        str | None,
        Field(
            max_length=400,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="Only the messages of this thread (`threadId` of a message).",
        ),
    ] = None,
    page: Page = 0,
    page_size: PageSize = 20,
) -> str:
    """Search one folder; every given term must match (substrings, case-insensitive). Newest
    first, paged like `list_messages`."""
    session = await _session(ctx, "read", account)
    terms = SearchTerms(
        from_=sender,
        to=to,
        subject=subject,
        text=text,
        since=since,
        before=before,
        unseen=unseen,
        flagged=flagged,
        answered=answered,
        thread_id=thread_id,
    )
    with _arguments(_SEARCH_ARGUMENTS):
        result = await messages.search_messages(
            session, session.store, mailbox, terms, page=page, page_size=page_size
        )
    return results.page(result, extra={"mailbox": mailbox})


def _render(text: dict[str, Any], text_format: str) -> str | None:
    plain, html = text.get("plain"), text.get("html")
    if text_format == "markdown" and html:
        return str(markdownify(html, heading_style="ATX")).strip()
    if plain is not None:
        return str(plain).replace("\r\n", "\n")  # CRLF of the wire: one character each
    return html_to_text(html)[0] if html else None


async def get_message(
    account: Account,
    message_id: MessageId,
    ctx: Context,
    text_format: Annotated[
        Literal["plain", "markdown"],
        Field(
            description="`plain`: the text part (or the HTML part as text); `markdown`: the "
            "HTML part as Markdown (links, lists, emphasis kept), else the text part."
        ),
    ] = "plain",
    max_chars: Annotated[
        int,
        Field(
            ge=100,
            le=MAX_CHARS,
            description=f"Characters of text at most, for `text.reply` and for `text.full` "
            f"each (100 to {MAX_CHARS}).",
        ),
    ] = DEFAULT_CHARS,
) -> str:
    """One message: the headers that matter (from, to, cc, date, subject, messageId,
    threadId, classification), `text.reply` (the sender's own new words, without quoted
    history and signature: read this first), `text.full` (the whole text) and the attachment
    list. Long text is cut at `max_chars`; a `note` then says so."""
    session = await _session(ctx, "read", account)
    fetch = min(messages.DEFAULT_TEXT_BYTES, max(_MIN_FETCH, max_chars * _OCTETS_PER_CHAR))
    message = await messages.get_message(session, session.store, message_id, max_bytes=fetch)
    text = message.get("text") or {}
    reply, reply_cut = cut(text.get("reply"), max_chars)
    full, full_cut = cut(_render(text, text_format), max_chars)
    shown: dict[str, Any] = {"format": text_format, "reply": reply, "full": full}
    if reply_cut or full_cut or text.get("hasMore"):
        more = (
            f"call get_message again with a larger max_chars (up to {MAX_CHARS})"
            if max_chars < MAX_CHARS
            else "the rest is not shown to agents"
        )
        shown["note"] = f"text cut at {max_chars} characters: {more}"
    return as_json(details(message, {k: v for k, v in shown.items() if v is not None}))


async def get_thread(
    account: Account,
    thread_id: Annotated[
        str,
        Field(
            min_length=2,
            max_length=400,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`threadId` of a message.",
            examples=["TcHJvcG9zYWwtNDcxMUBjcm0uZXhhbXBsZS5jb20"],
        ),
    ],
    ctx: Context,
    page: Page = 0,
    page_size: PageSize = 20,
) -> str:
    """Every message of a conversation, in every folder (received and sent), oldest first,
    each with its `path`. Open one with `get_message`."""
    session = await _session(ctx, "read", account)
    result = await threads.get_thread(
        session, session.store, thread_id, page=page, page_size=page_size
    )
    return results.page(result, extra={"threadId": thread_id})


# --- send -------------------------------------------------------------------------------------


def _mailboxes(values: list[str] | None) -> tuple[Mailbox, ...] | None:
    return tuple(Mailbox(address=v.strip()) for v in values) if values else None


async def _submit(ctx: Context, account: str, request: SubmitRequest) -> str:
    result = await _allowed(ctx, "send", account).service.submitter().submit(account, request)
    return as_json(
        {
            "queued": True,
            "messageId": result.message_id,
            "queueId": result.queue_id,
            "sendAt": format_date(result.send_at),
        }
    )


async def send_message(
    account: Account,
    to: Annotated[Addresses, Field(min_length=1, description="Recipient addresses.")],
    subject: Annotated[
        str,
        Field(
            max_length=1000,
            pattern=_NO_CONTROL,
            description="The subject line.",
            examples=["Quarterly numbers"],
        ),
    ],
    text: Body,
    ctx: Context,
    cc: Annotated[Addresses | None, Field(description="Copy recipients.")] = None,
    bcc: Annotated[Addresses | None, Field(description="Blind copy recipients.")] = None,
) -> str:
    """Send a new message from the account's own address (queued; sent within seconds, a
    copy kept in Sent). To answer a message, use `reply_to_message` instead: it keeps the
    conversation together."""
    request = SubmitRequest(
        to=_mailboxes(to), cc=_mailboxes(cc), bcc=_mailboxes(bcc) or (), subject=subject, text=text
    )
    return await _submit(ctx, account, request)


async def reply_to_message(
    account: Account,
    text: Body,
    ctx: Context,
    message_id: Annotated[
        MessageId | None, Field(description="The `id` of the message to answer.")
    ] = None,
    rfc822_message_id: Annotated[
        str | None,
        Field(
            min_length=3,
            max_length=1000,
            pattern=_NO_CONTROL,
            description="Or its Message-ID header (`messageId`), looked up in every folder.",
            examples=["<proposal-4711@crm.example.com>"],
        ),
    ] = None,
    reply_all: Annotated[
        bool, Field(description="true: also to everyone else in To and Cc.")
    ] = False,
) -> str:
    """Answer a message: to its sender (Reply-To first), with `Re:` subject and the threading
    headers (In-Reply-To, References) set, so it lands in the same conversation; the original
    is marked answered. Give `message_id` or `rfc822_message_id`, not both."""
    if (message_id is None) == (rfc822_message_id is None):
        raise InvalidInputError(
            "message_id", "give exactly one of message_id and rfc822_message_id"
        )
    reference = Reference(
        message=message_id,
        message_id=rfc822_message_id,
        action="replyAll" if reply_all else "reply",
    )
    return await _submit(ctx, account, SubmitRequest(text=text, reference=reference))


# --- write ------------------------------------------------------------------------------------


async def move_message(
    account: Account,
    message_id: MessageId,
    destination: Annotated[Mailbox_, Field(description="Folder to move the message to.")],
    ctx: Context,
) -> str:
    """Move a message to another folder; answers its new id there."""
    session = await _session(ctx, "write", account)
    return as_json(
        await message_write.move_message(session, session.store, message_id, destination)
    )


async def flag_message(
    account: Account,
    message_id: MessageId,
    ctx: Context,
    add: Annotated[
        Flags, Field(description="Flags to set: \\Seen (read), \\Flagged (starred), …")
    ] = [],  # noqa: B006 (pydantic copies defaults)
    remove: Annotated[Flags, Field(description='Flags to clear, e.g. ["\\\\Seen"].')] = [],  # noqa: B006
) -> str:
    """Mark a message read or unread, flagged or not: add or remove IMAP flags. Answers the
    message's flags after the change."""
    session = await _session(ctx, "write", account)
    with _arguments({"flags.add": "add", "flags.delete": "remove"}):
        result = await message_write.update_flags(
            session, session.store, message_id, add=add, delete=remove
        )
    return as_json({"id": result["id"], "flags": result["flags"]})


async def delete_message(
    account: Account,
    message_id: MessageId,
    ctx: Context,
    permanently: Annotated[
        bool, Field(description="true: expunge for good instead of moving to Trash.")
    ] = False,
) -> str:
    """Delete a message: moved to Trash (answers its id there), or expunged with
    `permanently`, in Trash itself, or when the account has no Trash."""
    session = await _session(ctx, "write", account)
    return as_json(
        await message_write.delete_message(session, session.store, message_id, force=permanently)
    )


# (function, whether it only reads, whether it changes or sends something irreversibly)
TOOLS = (
    (list_accounts, True, False),
    (list_mailboxes, True, False),
    (list_messages, True, False),
    (search_messages, True, False),
    (get_message, True, False),
    (get_thread, True, False),
    (send_message, False, True),
    (reply_to_message, False, True),
    (move_message, False, False),
    (flag_message, False, False),
    (delete_message, False, True),
)
