"""Content-Transfer-Encoding and charset decoding of MIME body parts, incremental and lenient.

Bodies arrive from the server as raw encoded octets (`BODY.PEEK[part]`, possibly cut at a byte
offset or in chunks), so every decoder here accepts input split anywhere: an incomplete base64
quantum, a quoted-printable escape cut after its "=", or a multi-byte character cut in half is
held back until more arrives instead of being mangled. Nothing here raises on bad input: mail is
full of it, and a malformed message must still be served (RFC 2045 §6.8 tells decoders to
ignore characters outside the base64 alphabet).
"""

from __future__ import annotations

import binascii
import codecs
import re

_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=]+")

# Labels that name a different (superset) encoding in practice. The WHATWG Encoding Standard
# (https://encoding.spec.whatwg.org/#names-and-labels) maps ISO-8859-1 and US-ASCII to
# windows-1252 because mailers label cp1252 text as Latin-1 all the time; the same holds for the
# Windows supersets of Shift_JIS, EUC-KR, GB2312 and TIS-620.
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "utf8": "utf-8",
}
# Labels that say nothing about the bytes (RFC 2045 §5.2 default, RFC 1428 unknown-8bit).
_UNLABELED = frozenset({"", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default"})


# --- Content-Transfer-Encoding (RFC 2045 §6) -----------------------------------------------


class TransferDecoder:
    """Decode one part's Content-Transfer-Encoding from chunks: `feed()` then `finish()`."""

    def __init__(self, encoding: str | None) -> None:
        kind = (encoding or "").strip().lower()
        self._kind = kind if kind in ("base64", "quoted-printable") else "identity"
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        if self._kind == "identity":
            return data
        if self._kind == "base64":
            return self._feed_base64(data)
        return self._feed_qp(data)

    def finish(self) -> bytes:
        """Whatever was held back, decoded as well as it can be (the input ended there)."""
        pending, self._pending = self._pending, b""
        if self._kind == "base64":
            return _b64_block(pending)
        if self._kind == "quoted-printable":
            return binascii.a2b_qp(pending)
        return b""

    def _feed_base64(self, data: bytes) -> bytes:
        buffer = self._pending + _B64_JUNK.sub(b"", data)
        out = bytearray()
        # Padding ends a block; mailers that concatenate encoded blocks leave "=" mid-stream.
        while (pad := buffer.find(b"=")) != -1:
            end = pad
            while end < len(buffer) and buffer[end : end + 1] == b"=":
                end += 1
            out += _b64_block(buffer[:pad])
            buffer = buffer[end:]
        whole = len(buffer) - len(buffer) % 4
        out += binascii.a2b_base64(buffer[:whole]) if whole else b""
        self._pending = buffer[whole:]
        return bytes(out)

    def _feed_qp(self, data: bytes) -> bytes:
        buffer = self._pending + data
        # Only an escape cut short ("=", "=X", or a soft break cut as "=\r") needs the next
        # octets; everything else decodes the same whether split or not.
        escape = buffer.rfind(b"=", max(0, len(buffer) - 2))
        cut = escape if escape != -1 else len(buffer)
        self._pending = buffer[cut:]
        return binascii.a2b_qp(buffer[:cut])


def _b64_block(chars: bytes) -> bytes:
    """Decode base64 characters without padding; a lone trailing character carries no octet."""
    usable = len(chars) - (1 if len(chars) % 4 == 1 else 0)
    if usable <= 0:
        return b""
    padded = chars[:usable] + b"=" * (-usable % 4)
    try:
        return binascii.a2b_base64(padded)
    except binascii.Error:  # cannot happen for alphabet-only input; be safe anyway
        return b""


def decode_transfer(data: bytes, encoding: str | None, *, complete: bool = True) -> bytes:
    """Decode a whole (or, with `complete=False`, a cut) transfer-encoded body."""
    decoder = TransferDecoder(encoding)
    out = decoder.feed(data)
    return out + decoder.finish() if complete else out


# --- charsets -----------------------------------------------------------------------------------


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when unknown or not a text encoding."""
    label = (charset or "").strip().strip("\"'").lower()
    if label in _UNLABELED:
        return None
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    # codecs also knows bytes-to-bytes transforms (zlib, base64, rot13 …) that are no charsets.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_charset(data: bytes, charset: str | None, *, complete: bool = True) -> str:
    """Text from `data` labelled `charset`; with `complete=False` a cut character is dropped.

    Unknown or missing labels: UTF-8 when the bytes are valid UTF-8, else windows-1252 (which
    maps every byte), so text is never lost to a bad label.
    """
    codec = codec_for(charset)
    if codec is not None:
        return _decode(data, codec, "replace", complete)
    try:
        return _decode(data, "utf-8", "strict", complete)
    except UnicodeDecodeError:
        return _decode(data, "cp1252", "replace", complete)


def _decode(data: bytes, codec: str, errors: str, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    text: str = decoder.decode(data, final=complete)
    return text


def decode_text(
    data: bytes, encoding: str | None, charset: str | None, *, complete: bool = True
) -> str:
    """A text part's body as str: transfer encoding, then charset (RFC 2045, RFC 2046 §4.1.2)."""
    return decode_charset(
        decode_transfer(data, encoding, complete=complete), charset, complete=complete
    )
