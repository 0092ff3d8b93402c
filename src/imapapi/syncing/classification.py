"""`classification`, `isAutoReply` and `isBounce` of fetched messages: the one code path behind
messageNew (`enrich.py`) and the API's listings, search results, threads and details
(`operations/`), so a client that polls gets the verdict a webhook gives.

The verdict needs header fields beyond ENVELOPE (SUMMARY_HEADERS, fetched with the summary in
the same round trip, RFC 3501 §6.4.5); a bounce candidate costs one more fetch of the start of
its body, for all candidates of a batch together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imapapi.classify import HEADER_FIELDS, signals, verdict
from imapapi.imap import ImapConnection
from imapapi.imap.types import FetchResult
from imapapi.mail.headers import parse_header_block

# References (threading) and what the classification reads (auto-reply, list and bounce marks).
SUMMARY_HEADERS = f"BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})]"
# Bounces are parsed from their body; the delivery report sits near the top (RFC 3464 §2).
BOUNCE_BYTES = 256 * 1024


def fetched_headers(result: FetchResult) -> dict[str, list[str]]:
    """The header fields of every BODY[HEADER…] section of `result`, parsed."""
    headers: dict[str, list[str]] = {}
    for name, raw in result.sections.items():
        if "HEADER" in name.upper():
            headers.update(parse_header_block(raw))
    return headers


def shared_headers(result: FetchResult) -> dict[str, list[str]] | None:
    """`fetched_headers(result)` when it is also what `message_summary` reads (the result's
    one section is its header fields), so both can take it and it is parsed once; else None."""
    if len(result.sections) != 1:
        return None
    (name,) = result.sections
    return fetched_headers(result) if name.upper().startswith("BODY[HEADER") else None


async def add_classification(
    conn: ImapConnection,
    fetched: Sequence[tuple[FetchResult, dict[str, Any]]],
    headers: Sequence[dict[str, list[str]] | None] = (),
) -> None:
    """Add the verdict to each summary of `fetched` (FETCH result, summary built from it), on
    the connection that has their folder selected. `headers`, if given: for each result its
    `fetched_headers` already read (or None)."""
    pending = []
    for n, (result, summary) in enumerate(fetched):
        sender = summary.get("from")
        read = headers[n] if n < len(headers) else None
        found = signals(
            fetched_headers(result) if read is None else read,
            subject=summary.get("subject"),
            from_address=sender.get("address") if isinstance(sender, dict) else None,
            content_type=result.body_structure.content_type if result.body_structure else None,
        )
        pending.append((result.uid, summary, found))
    candidates = [uid for uid, _, found in pending if found.needs_body and uid is not None]
    bodies: dict[int, bytes | None] = {}
    if candidates:
        async for body in conn.uid_fetch(candidates, ["UID", f"BODY.PEEK[]<0.{BOUNCE_BYTES}>"]):
            if body.uid is not None:
                bodies[body.uid] = next(iter(body.sections.values()), None)
    for uid, summary, found in pending:
        raw_message = bodies.get(uid) if uid is not None else None
        result_verdict = verdict(found, raw_message)  # the headers were read once, above
        summary["classification"] = result_verdict.as_json()
        summary["isAutoReply"] = result_verdict.type == "autoReply"
        summary["isBounce"] = result_verdict.type == "bounce"
