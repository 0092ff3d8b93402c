"""Text, attachment and raw-source downloads for the API (issue 5).

Downloads are fetched in chunks with partial FETCHes (`BODY.PEEK[part]<offset.length>`, RFC
3501 §6.4.5), each on its own turn of the command connection: memory stays at about one chunk
however large the attachment, and other API calls of the account are not blocked for the whole
download (they may run between two chunks). The first chunk is fetched before anything is
returned, so a missing message still answers a proper 404 rather than a broken stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from imapapi.accounts.messages import (
    OpenFolder,
    fetch_one,
    fetch_text,
    locate,
    open_folder,
    section,
)
from imapapi.accounts.session import AccountSession
from imapapi.errors import NotFoundError
from imapapi.imap import ImapConnection
from imapapi.mail.bodystructure import part_filename
from imapapi.mail.content import content_type_header, find_part
from imapapi.mail.decode import TransferDecoder
from imapapi.mail.ids import decode_attachment_id, decode_message_id, decode_text_id

CHUNK_BYTES = 1024 * 1024

TextType = Literal["plain", "html", "*"]


@dataclass(frozen=True, slots=True)
class Download:
    """A streamed body: headers to send and the octets, decoded chunk by chunk."""

    content_type: str
    filename: str | None
    chunks: AsyncIterator[bytes]


async def get_text(
    session: AccountSession, text_id: str, *, max_bytes: int, text_type: TextType = "*"
) -> dict[str, object]:
    """`{plain?, html?, hasMore}` for a text id: only the named parts, only `max_bytes` of each."""
    index, uid, plain_part, html_part = decode_text_id(text_id)
    numbers = {"plain": plain_part, "html": html_part}
    wanted = {k: n for k, n in numbers.items() if n and text_type in ("*", k)}
    async with session.command() as conn:
        await locate(session, conn, index, what="text")
        fetch = await fetch_one(conn, uid, ["UID", "BODYSTRUCTURE"])
        if fetch.body_structure is None:
            raise NotFoundError("text not found")
        parts = {}
        for kind, number in wanted.items():
            part = find_part(fetch.body_structure, number)
            if part is None or part.type != "text":
                raise NotFoundError("text not found (the message has no such part)")
            parts[kind] = part
        content, has_more = await fetch_text(conn, uid, parts, max_bytes)
    return {**content, "hasMore": has_more}


async def download_attachment(session: AccountSession, attachment_id: str) -> Download:
    """The decoded octets of one MIME part, with its type and file name."""
    index, uid, number = decode_attachment_id(attachment_id)
    async with session.command() as conn:
        folder = await locate(session, conn, index, what="attachment")
        item = f"BODY.PEEK[{number}]<0.{CHUNK_BYTES}>"
        fetch = await fetch_one(conn, uid, ["UID", "BODYSTRUCTURE", item])
        part = find_part(fetch.body_structure, number) if fetch.body_structure else None
        if part is None:
            raise NotFoundError("attachment not found (the message has no such part)")
        first = section(fetch, f"BODY[{number}]") or b""
    chunks = _decoded(
        _chunks(session, conn, folder, uid, number, first), TransferDecoder(part.encoding)
    )
    return Download(content_type_header(part), part_filename(part), chunks)


async def download_source(session: AccountSession, message_id: str) -> Download:
    """The message as stored on the server (RFC 5322 octets), unchanged."""
    index, uid = decode_message_id(message_id)
    async with session.command() as conn:
        folder = await locate(session, conn, index)
        fetch = await fetch_one(conn, uid, ["UID", f"BODY.PEEK[]<0.{CHUNK_BYTES}>"])
        first = section(fetch, "BODY[]") or b""
    return Download("message/rfc822", None, _chunks(session, conn, folder, uid, "", first))


async def _chunks(
    session: AccountSession,
    conn: ImapConnection,
    folder: OpenFolder,
    uid: int,
    number: str,
    first: bytes,
) -> AsyncIterator[bytes]:
    """`first`, then further partial fetches until one comes back short."""
    yield first
    chunk, offset = first, len(first)
    while len(chunk) == CHUNK_BYTES:
        async with session.command() as current:
            # Another call may have used the connection (or a new one opened) since the last
            # chunk: select the folder again unless it is still selected on the same one.
            if current is not conn or current.selected != folder.path:
                reopened = await open_folder(session, current, folder.path)
                if reopened.uid_validity != folder.uid_validity:
                    raise NotFoundError("message not found (its folder was reset)")
                conn = current
            item = f"BODY.PEEK[{number}]<{offset}.{CHUNK_BYTES}>"
            fetch = await fetch_one(conn, uid, ["UID", item])
        chunk = section(fetch, f"BODY[{number}]") or b""
        offset += len(chunk)
        yield chunk


async def _decoded(chunks: AsyncIterator[bytes], decoder: TransferDecoder) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        decoded = decoder.feed(chunk)
        if decoded:
            yield decoded
    tail = decoder.finish()
    if tail:
        yield tail
