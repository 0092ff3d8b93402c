"""The message object of the listing API and of the `messageNew` webhook (seed README shapes).

Built only from what one FETCH of ENVELOPE, BODYSTRUCTURE, FLAGS, INTERNALDATE, RFC822.SIZE, a
few header fields (References) and the Gmail items returns, so a page of listings costs one
round trip and no body download. `threadId` is X-GM-THRID on Gmail, else derived from the
threading headers (`mail/threads.py`).

Absent values are omitted rather than sent as null (ids appear in every webhook; smaller is
better, and `"key" in message` is the one test a client needs). Exceptions, always present:
`id`, `uid`, `path`, and `subject` ("" when the message has none), so clients can use the
subject as a string without a check.

Listings and webhooks cut every header-derived value at MAX_HEADER_VALUE octets (UTF-8): a
message can carry a subject or a To list of megabytes, and a page of 250 such summaries, or a
webhook, must not. `truncated` then names the fields that were cut; the message details
(`GET /message/{id}`, built with `max_value=None`) and the raw source keep them whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from imapapi.errors import ProtocolError
from imapapi.imap.types import BodyPart, Envelope, FetchResult
from imapapi.mail.addresses import format_address_list
from imapapi.mail.bodystructure import attachments_with_inline, find_text_parts, part_filename
from imapapi.mail.dates import message_date
from imapapi.mail.headers import (
    decode_header_value,
    looks_encoded,
    normalize_msgid,
    parse_header_block,
    parse_msgid_list,
)
from imapapi.mail.ids import (
    encode_attachment_id,
    encode_message_id,
    encode_text_id,
    is_valid_part,
)
from imapapi.mail.threads import root_or_own_thread_id

_NO_ENVELOPE = Envelope(date=None, subject=None)
MAX_HEADER_VALUE = 16 * 1024

# A listing builds this object for every message of every page, so the two forms nearly all
# mail uses take a short path; anything else goes through the general parsers of
# `mail/dates.py` and `mail/headers.py`, which give the same answer for these forms (the unit
# tests compare them).
# RFC 5322 §3.3 date-time: [day-of-week ","] day month year hour ":" minute [":" second] zone.
_PLAIN_DATE = re.compile(
    r"(?:[A-Za-z]{3}, ?)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) "
    r"(\d\d):(\d\d)(?::(\d\d))? ([+-])(\d\d)(\d\d)"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
# RFC 5322 §3.6.4 msg-id in its usual form: one bracketed id, nothing to strip or unfold.
_PLAIN_MSGID = re.compile(r"<[^<>\s()]+>")


def message_summary(
    fetch: FetchResult,
    *,
    index: int,
    path: str,
    max_value: int | None = MAX_HEADER_VALUE,
    headers: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """JSON-ready summary of one message in the folder `path` bound to mailbox `index`, its
    header values cut at `max_value` octets each (None: whole). `headers`: its BODY[HEADER…]
    section as `parse_header_block` reads it, when the caller has read it already."""
    if fetch.uid is None:
        raise ProtocolError(f"FETCH response for message {fetch.seq} has no UID")
    uid = fetch.uid
    envelope = fetch.envelope or _NO_ENVELOPE
    summary: dict[str, Any] = {"id": encode_message_id(index, uid), "uid": uid, "path": path}

    # X-GM-MSGID / X-GM-THRID are 64-bit: strings, since JSON readers in JavaScript lose digits.
    if fetch.gmail_msgid is not None:
        summary["emailId"] = str(fetch.gmail_msgid)
    if fetch.gmail_thrid is not None:
        summary["threadId"] = str(fetch.gmail_thrid)
    _put(summary, "date", _date(envelope.date, fetch.internal_date))
    _put(summary, "size", fetch.size)
    add_flags(summary, fetch.flags, fetch.gmail_labels)

    subject = envelope.subject or ""
    summary["subject"] = decode_header_value(subject) if looks_encoded(subject) else subject
    summary.update(_addresses(envelope))
    message_id = _msgid(envelope.message_id)
    in_reply_to = _first_msgid(envelope.in_reply_to)
    _put(summary, "messageId", message_id)
    _put(summary, "inReplyTo", in_reply_to)
    references = _references(fetch.sections, headers)
    _put(summary, "references", references or None)
    if "threadId" not in summary and references is not None and fetch.envelope is not None:
        # Without the References field (not fetched) the root is unknown: no threadId rather
        # than a wrong one. Computed before the cap below, from the whole values; the root is
        # `thread_root`'s, from the ids read above (the same readings of the same fields).
        root = references[0] if references else in_reply_to or message_id
        summary["threadId"] = root_or_own_thread_id(root, index, uid)

    if fetch.body_structure is not None:
        text_parts = find_text_parts(fetch.body_structure)
        _put(summary, "text", _text(text_parts, index, uid))
        attachments = attachments_with_inline(fetch.body_structure, text_parts)
        _put(summary, "attachments", _attachments(attachments, index, uid) or None)
    if max_value is not None:
        _put(summary, "truncated", cap_values(summary, max_value) or None)
    return summary


# The fields another client can change (RFC 3501 §6.4.6 STORE; Gmail's labels); the rest of a
# summary is fixed for as long as the message has its UID.
MUTABLE_FIELDS = frozenset({"flags", "labels", "unseen"})


def add_flags(
    summary: dict[str, Any], flags: Sequence[str] | None, labels: Sequence[str] | None
) -> None:
    """Put `flags`, `labels` and `unseen` into `summary`; not fetched (None) → unknown, so
    neither flags nor unseen."""
    if flags is not None:
        summary["flags"] = visible_flags(flags)
    if labels is not None:
        summary["labels"] = list(labels)
    if flags is not None:
        summary["unseen"] = not any(flag.lower() == "\\seen" for flag in flags)


# --- the cap on header values -----------------------------------------------------------------

_TEXT_FIELDS = ("subject", "messageId", "inReplyTo")
_ADDRESS_FIELDS = ("from", "sender")
_ADDRESS_LIST_FIELDS = ("replyTo", "to", "cc", "bcc")


def cap_values(summary: dict[str, Any], limit: int) -> list[str]:
    """Cut the header-derived values of `summary` in place to `limit` octets each (a list
    field such as `to` counts as one value); the names of the fields that were cut."""
    cut: list[str] = []
    for key in _TEXT_FIELDS:
        value = summary.get(key)
        if isinstance(value, str) and _octets(value) > limit:
            summary[key] = _cut(value, limit)
            cut.append(key)
    for key in _ADDRESS_FIELDS:
        entry = summary.get(key)
        if isinstance(entry, dict) and _entry_octets(entry) > limit:
            summary[key] = _cut_entry(entry, limit)
            cut.append(key)
    for key in _ADDRESS_LIST_FIELDS:
        entries = summary.get(key)
        if isinstance(entries, list) and sum(map(_entry_octets, entries)) > limit:
            summary[key] = _cut_entries(entries, limit)
            cut.append(key)
    references = summary.get("references")
    if isinstance(references, list) and sum(map(_octets, references)) > limit:
        summary["references"] = _cut_references(references, limit)
        cut.append("references")
    attachments = summary.get("attachments")
    if isinstance(attachments, list) and any(_entry_octets(a) > limit for a in attachments):
        summary["attachments"] = [_cut_entry(a, limit) for a in attachments]
        cut.append("attachments")
    return cut


def _octets(value: str) -> int:
    # Nearly every value is ASCII: measured without being encoded.
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def _cut(value: str, limit: int) -> str:
    # A character split by the cut is dropped whole ("ignore" decodes only complete ones).
    return value.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def _entry_octets(entry: dict[str, Any]) -> int:
    return sum(_octets(v) for v in entry.values() if isinstance(v, str))


def _cut_entry(entry: dict[str, Any], limit: int) -> dict[str, Any]:
    return {k: _cut(v, limit) if isinstance(v, str) else v for k, v in entry.items()}


def _cut_entries(entries: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first addresses that fit in `limit` together (at least one, itself cut to fit)."""
    kept: list[dict[str, Any]] = []
    used = 0
    for entry in entries:
        size = _entry_octets(entry)
        if kept and used + size > limit:
            break
        kept.append(_cut_entry(entry, limit) if size > limit else entry)
        used += size
    return kept


def _cut_references(ids: list[str], limit: int) -> list[str]:
    """The root and the latest ids that fit: RFC 5537 §3.4.4 trims References the same way
    (the newest ids name the parent, which reply tracking looks for first)."""
    root = _cut(ids[0], limit)
    latest: list[str] = []
    used = _octets(root)
    for msgid in reversed(ids[1:]):
        used += _octets(msgid)
        if used > limit:
            break
        latest.append(msgid)
    return [root, *reversed(latest)]


def visible_flags(flags: Sequence[str]) -> list[str]:
    """The flags a user sees: \\Recent is session state, not the message's (RFC 3501 §2.3.2;
    gone in RFC 9051), and differs between the connection that announced and the one that
    lists, so neither listings nor webhooks show it."""
    return [flag for flag in flags if flag.lower() != "\\recent"]


def _put(target: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        target[key] = value


def _date(header: str | None, internal_date: str | None) -> str | None:
    """`message_date`, with a short path for a Date header in the plain RFC 5322 form."""
    match = _PLAIN_DATE.fullmatch(header) if header else None
    if match is not None:
        day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
        number = _MONTHS.get(month.lower())
        # Outside these bounds the general parser reads the year or zone differently.
        if number is not None and int(year) >= 1000 and int(zone_h) < 24:
            try:
                moment = datetime(
                    int(year), number, int(day), int(hour), int(minute), int(second or 0)
                )
                if zone_h != "00" or zone_m != "00":
                    offset = timedelta(hours=int(zone_h), minutes=int(zone_m))
                    moment = moment - offset if sign == "+" else moment + offset
            except (ValueError, OverflowError):
                pass  # no such date: the general parser decides (it finds none either)
            else:
                # Naive UTC with whole seconds, year ≥ 1000: isoformat (C) writes exactly what
                # format_iso does, at a fraction of the cost.
                return moment.isoformat(timespec="milliseconds") + "Z"
    return message_date(header, internal_date)


def _msgid(value: str | None) -> str | None:
    if value and _PLAIN_MSGID.fullmatch(value):
        return value
    return normalize_msgid(value)


def _first_msgid(value: str | None) -> str | None:
    if not value:
        return None
    if _PLAIN_MSGID.fullmatch(value):
        return value
    ids = parse_msgid_list(value)
    return ids[0] if ids else None


def _addresses(envelope: Envelope) -> dict[str, Any]:
    out: dict[str, Any] = {}
    from_ = format_address_list(envelope.from_)
    if from_:
        out["from"] = from_[0]
    # RFC 3501 §7.4.2: the server copies From into Sender and Reply-To when those headers are
    # missing, so a copy of From says nothing; it is left out (clients reply to `replyTo` if
    # present, else `from`, as RFC 5322 §3.6.2 describes).
    # (Compared as sent first: the usual copy needs no formatting to be recognised.)
    if envelope.sender != envelope.from_ or len(from_) > 1:
        sender = format_address_list(envelope.sender)
        if sender and sender[:1] != from_:
            out["sender"] = sender[0]
    if envelope.reply_to != envelope.from_:
        reply_to = format_address_list(envelope.reply_to)
        if reply_to and reply_to != from_:
            out["replyTo"] = reply_to
    for key, addresses in (("to", envelope.to), ("cc", envelope.cc), ("bcc", envelope.bcc)):
        formatted = format_address_list(addresses) if addresses else None
        if formatted:
            out[key] = formatted
    return out


def _references(
    sections: dict[str, bytes], headers: Mapping[str, Sequence[str]] | None
) -> list[str] | None:
    # References is not in ENVELOPE; it is there when the caller also fetched
    # BODY.PEEK[HEADER.FIELDS (REFERENCES ...)] (listings and webhooks do) or the whole header.
    # None: no header was fetched, so whether the message has References is unknown.
    for name, raw in sections.items():
        if name.upper().startswith("BODY[HEADER"):
            values = (parse_header_block(raw) if headers is None else headers).get("references")
            return parse_msgid_list(" ".join(values)) if values else []
    return None


def _text(
    text_parts: tuple[BodyPart | None, BodyPart | None], index: int, uid: int
) -> dict[str, Any] | None:
    chosen = {
        kind: part
        for kind, part in zip(("plain", "html"), text_parts, strict=True)
        if part is not None and is_valid_part(part.part)
    }
    if not chosen:
        return None
    plain, html = chosen.get("plain"), chosen.get("html")
    return {
        "id": encode_text_id(
            index, uid, plain.part if plain else None, html.part if html else None
        ),
        "encodedSize": {kind: part.size for kind, part in chosen.items()},
    }


def _attachments(parts: list[tuple[BodyPart, bool]], index: int, uid: int) -> list[dict[str, Any]]:
    attachments: list[dict[str, Any]] = []
    for part, inline in parts:
        if not is_valid_part(part.part):  # absurdly deep nesting: cannot be named by an id
            continue
        attachment: dict[str, Any] = {
            "id": encode_attachment_id(index, uid, part.part),
            "contentType": part.content_type,
            "encodedSize": part.size,
        }
        _put(attachment, "filename", part_filename(part))
        attachment["inline"] = inline
        _put(attachment, "contentId", normalize_msgid(part.id))
        attachments.append(attachment)
    return attachments
