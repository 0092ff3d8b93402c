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

from imapapi.errors import NotFoundError
from imapapi.mail.bodystructure import part_filename
from imapapi.mail.content import content_type_header, find_part
from imapapi.mail.decode import TransferDecoder
from imapapi.mail.ids import decode_attachment_id, decode_message_id, decode_text_id
from imapapi.operations.messages import (
    fetch_one,
    fetch_text,
    located,
    open_folder,
    read_retrying,
    section,
)
from imapapi.operations.page_summaries import OpenFolder
from imapapi.sessions.command_pool import CommandLeases
from imapapi.store.base import Store

CHUNK_BYTES = 1024 * 1024

TextType = Literal["plain", "html", "*"]


@dataclass(frozen=True, slots=True)
class Download:
    """A streamed body: headers to send and the octets, decoded chunk by chunk."""

    content_type: str
    filename: str | None
    chunks: AsyncIterator[bytes]


async def get_text(
    leases: CommandLeases,
    store: Store,
    text_id: str,
    *,
    max_bytes: int,
    text_type: TextType = "*",
) -> dict[str, object]:
    """`{plain?, html?, hasMore}` for a text id: only the named parts, only `max_bytes` of each."""
    index, uid, plain_part, html_part = decode_text_id(text_id)
    numbers = {"plain": plain_part, "html": html_part}
    wanted = {k: n for k, n in numbers.items() if n and text_type in ("*", k)}
    return await read_retrying(lambda: _get_text(leases, store, index, uid, wanted, max_bytes))


async def _get_text(
    leases: CommandLeases,
    store: Store,
    index: int,
    uid: int,
    wanted: dict[str, str],
    max_bytes: int,
) -> dict[str, object]:
    async with located(leases, store, index, what="text") as (command, _):
        fetch = await fetch_one(command, uid, ["UID", "BODYSTRUCTURE"])
        if fetch.body_structure is None:
            raise NotFoundError("text not found")
        parts = {}
        for kind, number in wanted.items():
            part = find_part(fetch.body_structure, number)
            if part is None or part.type != "text":
                raise NotFoundError("text not found (the message has no such part)")
            parts[kind] = part
        content, has_more = await fetch_text(command, uid, parts, max_bytes)
    return {**content, "hasMore": has_more}


async def download_attachment(leases: CommandLeases, store: Store, attachment_id: str) -> Download:
    """The decoded octets of one MIME part, with its type and file name."""
    index, uid, number = decode_attachment_id(attachment_id)
    return await read_retrying(lambda: _download_attachment(leases, store, index, uid, number))


async def _download_attachment(
    leases: CommandLeases, store: Store, index: int, uid: int, number: str
) -> Download:
    async with located(leases, store, index, what="attachment") as (command, folder):
        item = f"BODY.PEEK[{number}]<0.{CHUNK_BYTES}>"
        fetch = await fetch_one(command, uid, ["UID", "BODYSTRUCTURE", item])
        part = find_part(fetch.body_structure, number) if fetch.body_structure else None
        if part is None:
            raise NotFoundError("attachment not found (the message has no such part)")
        first = section(fetch, f"BODY[{number}]") or b""
    chunks = _chunks(leases, store, folder, uid, number, first)
    decoded = _decoded(chunks, TransferDecoder(part.encoding))
    return Download(content_type_header(part), part_filename(part), decoded)


async def download_source(leases: CommandLeases, store: Store, message_id: str) -> Download:
    """The message as stored on the server (RFC 5322 octets), unchanged."""
    index, uid = decode_message_id(message_id)
    return await read_retrying(lambda: _download_source(leases, store, index, uid))


async def _download_source(leases: CommandLeases, store: Store, index: int, uid: int) -> Download:
    async with located(leases, store, index) as (command, folder):
        fetch = await fetch_one(command, uid, ["UID", f"BODY.PEEK[]<0.{CHUNK_BYTES}>"])
        first = section(fetch, "BODY[]") or b""
    return Download("message/rfc822", None, _chunks(leases, store, folder, uid, "", first))


async def _chunks(
    leases: CommandLeases,
    store: Store,
    folder: OpenFolder,
    uid: int,
    number: str,
    first: bytes,
) -> AsyncIterator[bytes]:
    """`first`, then further partial fetches until one comes back short."""
    yield first
    chunk, offset = first, len(first)
    while len(chunk) == CHUNK_BYTES:
        # Other calls may have used the connections since the last chunk: the folder is
        # selected again unless it still is, and must be the same one (UIDVALIDITY).
        async with leases.command(folder=folder.path) as command:
            reopened = await open_folder(command, store, folder.path)
            if reopened.uid_validity != folder.uid_validity:
                raise NotFoundError("message not found (its folder was reset)")
            item = f"BODY.PEEK[{number}]<{offset}.{CHUNK_BYTES}>"
            fetch = await fetch_one(command, uid, ["UID", item])
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
