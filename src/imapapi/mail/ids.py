"""Message, text and attachment ids (DESIGN.md §4).

A message id is base64url without padding of ``uint32 mailboxIndex ‖ uint32 uid`` (big-endian):
index 1, uid 481 → ``"AAAAAQAAAeE"``. Text and attachment ids append the MIME part numbers
(RFC 3501 §6.4.5 section numbers) they name, packed four bits per character over the alphabet
``0-9 . ;`` (a trailing ``F`` nibble pads an odd count), so the usual text id ("1" and "2")
costs two bytes on top of the message id:

* attachment id: ``head ‖ nibbles(part)``
* text id: ``head ‖ nibbles(plain ";" html)`` where either side may be empty, not both.

A text id always holds exactly one ``;`` and an attachment id none, so one kind is never
mistaken for the other. Decoding is strict and canonical (re-encoding must give back the same
string), so every id has exactly one spelling, and any malformed input raises
:class:`~imapapi.errors.UnprocessableError` (422: the API's schema states only the alphabet and
length of ids) and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import struct

from imapapi.errors import InvalidInputError, UnprocessableError

UINT32_MAX = 0xFFFF_FFFF
# Deep enough for any real BODYSTRUCTURE (32 levels of nesting), small enough to keep ids short.
MAX_PART_LENGTH = 64

_HEAD = struct.Struct(">II")
_ALPHABET = "0123456789.;"
_NIBBLE = {char: value for value, char in enumerate(_ALPHABET)}
_PAD = 0xF
_SEPARATOR = ";"
# Two parts of MAX_PART_LENGTH plus the separator, as nibbles, plus the head, in base64 chars.
_MAX_ID_LENGTH = ((_HEAD.size + (2 * MAX_PART_LENGTH + 2) // 2) * 4 + 2) // 3
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# RFC 3501 §6.4.5: section parts are nz-numbers joined by dots. ASCII digits only (\d would
# accept other Unicode digits).
_PART = re.compile(r"[1-9][0-9]*(?:\.[1-9][0-9]*)*")


@functools.lru_cache(maxsize=4096)  # a handful of distinct numbers ("1", "1.2") recur endlessly
def is_valid_part(part: str) -> bool:
    """True for a MIME part number such as "1" or "1.2.3" that fits in an id."""
    return (
        len(part) <= MAX_PART_LENGTH
        and _PART.fullmatch(part) is not None
        and all(int(number) <= UINT32_MAX for number in part.split("."))
    )


# --- encoding ---------------------------------------------------------------------------------


def encode_message_id(index: int, uid: int) -> str:
    """Id of message `uid` in the folder bound to mailbox `index`."""
    return _b64encode(_head(index, uid))


def encode_text_id(index: int, uid: int, plain_part: str | None, html_part: str | None) -> str:
    """Id naming the text/plain and text/html parts of a message; either may be None."""
    return _b64encode(_head(index, uid) + _text_tail(plain_part, html_part))


def encode_attachment_id(index: int, uid: int, part: str) -> str:
    """Id naming one MIME part of a message."""
    return _b64encode(_head(index, uid) + _attachment_tail(part))


# Every listed message has a text id and most share a handful of part numbers ("1", "1;2"):
# each tail is checked and packed once.
@functools.lru_cache(maxsize=4096)
def _text_tail(plain_part: str | None, html_part: str | None) -> bytes:
    if plain_part is None and html_part is None:
        raise ValueError("a text id needs a plain or an html part")
    for part in (plain_part, html_part):
        if part is not None and not is_valid_part(part):
            raise ValueError(f"invalid MIME part number {part!r}")
    return _pack_nibbles((plain_part or "") + _SEPARATOR + (html_part or ""))


@functools.lru_cache(maxsize=4096)
def _attachment_tail(part: str) -> bytes:
    if not is_valid_part(part):
        raise ValueError(f"invalid MIME part number {part!r}")
    return _pack_nibbles(part)


def _head(index: int, uid: int) -> bytes:
    if not 0 <= index <= UINT32_MAX:
        raise ValueError(f"mailbox index out of range: {index}")
    # RFC 3501 §2.3.1.1: a UID is a non-zero 32-bit value.
    if not 1 <= uid <= UINT32_MAX:
        raise ValueError(f"uid out of range: {uid}")
    return _HEAD.pack(index, uid)


def _pack_nibbles(text: str) -> bytes:
    nibbles = [_NIBBLE[char] for char in text]
    if len(nibbles) % 2:
        nibbles.append(_PAD)
    return bytes((high << 4) | low for high, low in zip(nibbles[::2], nibbles[1::2], strict=True))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- decoding ---------------------------------------------------------------------------------


def decode_message_id(value: str, *, field: str = "id") -> tuple[int, int]:
    """(mailbox index, uid) of a message id."""
    index, uid, tail = _decode(value, field)
    if tail:
        raise UnprocessableError(field, "not a message id (it names a MIME part)")
    return index, uid


def decode_text_id(value: str, *, field: str = "textId") -> tuple[int, int, str | None, str | None]:
    """(mailbox index, uid, plain part, html part) of a text id; absent parts are None."""
    index, uid, tail = _decode(value, field)
    if not tail or tail.count(_SEPARATOR) != 1:
        raise UnprocessableError(field, "not a text id")
    plain, html = tail.split(_SEPARATOR)
    if not plain and not html:
        raise UnprocessableError(field, "text id names no part")
    for part in (plain, html):
        if part and not is_valid_part(part):
            raise UnprocessableError(field, "invalid MIME part number")
    return index, uid, plain or None, html or None


def decode_attachment_id(value: str, *, field: str = "attachmentId") -> tuple[int, int, str]:
    """(mailbox index, uid, MIME part number) of an attachment id."""
    index, uid, tail = _decode(value, field)
    if not tail or _SEPARATOR in tail:
        raise UnprocessableError(field, "not an attachment id")
    if not is_valid_part(tail):
        raise UnprocessableError(field, "invalid MIME part number")
    return index, uid, tail


def _decode(value: object, field: str) -> tuple[int, int, str]:
    """Head and nibble tail of any id; `tail` is "" for a plain message id."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(field, "missing id")
    if len(value) > _MAX_ID_LENGTH or _BASE64URL.fullmatch(value) is None:
        raise UnprocessableError(field, "not a valid id")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise UnprocessableError(field, "not a valid id") from exc
    # Canonical form only: rejects non-zero trailing bits, so one id has one spelling.
    if len(raw) < _HEAD.size or _b64encode(raw) != value:
        raise UnprocessableError(field, "not a valid id")
    index, uid = _HEAD.unpack_from(raw)
    if uid == 0:
        raise UnprocessableError(field, "uid out of range")
    return index, uid, _unpack_nibbles(raw[_HEAD.size :], field)


def _unpack_nibbles(raw: bytes, field: str) -> str:
    chars: list[str] = []
    last = len(raw) * 2 - 1
    for position, nibble in enumerate(n for byte in raw for n in (byte >> 4, byte & 0xF)):
        if nibble == _PAD and position == last:
            break
        if nibble >= len(_ALPHABET):
            raise UnprocessableError(field, "not a valid id")
        chars.append(_ALPHABET[nibble])
    return "".join(chars)
