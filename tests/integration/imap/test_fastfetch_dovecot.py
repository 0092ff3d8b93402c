"""The lean listing reader against what Dovecot really sends for the corpus of issue 5: every
FETCH line of the listing items reads as the generic parser reads it (DESIGN.md §8)."""

from __future__ import annotations

import asyncio

import pytest

from imapapi.imap import fastfetch, parse
from imapapi.imap.reader import Response, ResponseReader
from tests.integration.messages import corpus
from tests.servers.dovecot import Dovecot, ImapUser

pytestmark = pytest.mark.integration

LISTING_ITEMS = "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE"


def corpus_messages() -> list[bytes]:
    return [
        corpus.alternative(),
        corpus.mixed_with_attachments(),
        corpus.related_inline_image(),
        corpus.encoded_words(),
        corpus.no_text(),
        corpus.malformed(),
        corpus.huge_text(64 * 1024),
        *(
            corpus.charset_body(charset, text, cte, f"Charset {charset} {cte}")
            for charset, text, cte in [
                ("windows-1252", corpus.GERMAN, "quoted-printable"),
                ("windows-1252", corpus.GERMAN, "8bit"),
                ("shift_jis", corpus.JAPANESE, "base64"),
                ("utf-8", corpus.GERMAN + " " + corpus.JAPANESE, "8bit"),
            ]
        ),
    ]


async def raw_fetch(dovecot: Dovecot, user: ImapUser, command: str) -> list[Response]:
    """The untagged responses to `command` as read off the wire, unparsed."""
    reader, writer = await asyncio.open_connection(dovecot.host, dovecot.port)
    responses = ResponseReader()
    untagged: list[Response] = []

    async def run(tag: str, text: str) -> None:
        writer.write(f"{tag} {text}\r\n".encode())
        while True:
            data = await asyncio.wait_for(reader.read(65536), 20)
            assert data, "connection closed"
            for response in responses.feed(data):
                if response.tag == tag:
                    assert response.first_line.startswith(b"OK"), response
                    return
                untagged.append(response)

    await asyncio.wait_for(reader.readline(), 20)  # greeting
    try:
        await run("a1", f"LOGIN {user.name} {user.password}")
        await run("a2", "ENABLE CONDSTORE")  # MODSEQ in every FETCH, as the bench sees it
        await run("a3", "SELECT INBOX")
        untagged.clear()
        await run("a4", command)
        await run("a5", "LOGOUT")
    finally:
        writer.close()
    return [r for r in untagged if parse.untagged_kind(r)[0] == "FETCH"]


async def test_every_corpus_listing_line_reads_as_the_generic_parser(
    dovecot: Dovecot, imap_user: ImapUser
) -> None:
    messages = corpus_messages()
    for raw in messages:
        dovecot.deliver(imap_user, raw)
    fetched = await raw_fetch(dovecot, imap_user, f"UID FETCH 1:* ({LISTING_ITEMS} MODSEQ)")
    assert len(fetched) == len(messages)
    answered = 0
    bodies_read = []
    for response in fetched:
        lean = parse._fast_fetch(response.data, False)
        generic = parse.parse_fetch_generic(response)
        assert generic.envelope is not None and generic.body_structure is not None
        if lean is not None:
            answered += 1
            assert lean == generic
        assert parse.parse_fetch(response) == generic
        listing = fastfetch.read_listing(response.data[0])  # type: ignore[arg-type]
        if listing is not None and listing[2] == ():
            bodies_read.append(generic.envelope.subject)
    # Every line of these is a single record of the common shapes: all read by the lean path.
    assert answered == len(messages)
    # ... and every body structure of these, by the lean BODYSTRUCTURE reader (fastbody.py).
    assert len(bodies_read) == len(messages), bodies_read
