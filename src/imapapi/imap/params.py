"""Body parameter lists (RFC 2045 §5.1, RFC 2231) from tokens to decoded `(name, value)` pairs.
Shared by the generic BODYSTRUCTURE reader (`parse.py`) and the lean one (`fastbody.py`), so both
decode alike by construction. Pure.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from imapapi.imap.envelope import decode_words
from imapapi.imap.envelope import text_of as _str
from imapapi.imap.envelope import tuple_of as _tuple

Atom = object  # a token: bytes, int, None or nested tuples of those


def decode_params(value: Atom) -> tuple[tuple[str, str], ...]:
    """A body parameter list `("name" "value" ...)` with RFC 2231 continuations and charsets
    (`name*0*=utf-8''%E2%82`, `name*1*=%AC`) joined and decoded; RFC 2047 words decoded too
    (not standard in parameters, but common)."""
    raw = _tuple(value)
    # Most lists are plain (`charset`, `boundary`, `name`): no RFC 2231 section, no encoded
    # word, no name twice. Those read as `decode_params_generic` would, without its bookkeeping.
    if len(raw) % 2 == 0 and all(isinstance(token, bytes) for token in raw):
        names = [key.decode("utf-8", "replace").lower() for key in raw[::2]]  # type: ignore[attr-defined]
        texts = [val.decode("utf-8", "replace") for val in raw[1::2]]  # type: ignore[attr-defined]
        if (
            len(set(names)) == len(names)
            and not any("*" in name for name in names)
            and not any("=?" in text for text in texts)
        ):
            return tuple(zip(names, texts, strict=True))
    return decode_params_generic(raw)


def decode_params_generic(value: Atom) -> tuple[tuple[str, str], ...]:
    """`decode_params` for every list: RFC 2231 sections, encoded words, repeated names."""
    raw = _tuple(value)
    order: list[str] = []
    simple: dict[str, str] = {}
    pieces: dict[str, list[tuple[int, bool, bytes]]] = {}
    for key, val in zip(raw[::2], raw[1::2], strict=False):
        name = (_str(key) or "").lower()
        data = val if isinstance(val, bytes) else (_str(val) or "").encode()
        base, star, rest = name.partition("*")
        if not star:
            if name not in order:
                order.append(name)
            simple[name] = decode_words(data) or ""
            continue
        number, star2, _ = rest.partition("*")
        if rest == "":
            index, encoded = 0, True  # name*=charset'lang'value
        elif number.isdigit():
            index, encoded = int(number), bool(star2)
        else:
            continue
        if base not in order:
            order.append(base)
        pieces.setdefault(base, []).append((index, encoded, data))
    for base, parts in pieces.items():
        parts.sort(key=lambda p: p[0])
        charset = "us-ascii"
        octets = bytearray()
        for position, (_, encoded, data) in enumerate(parts):
            if encoded:
                if position == 0 and data.count(b"'") >= 2:
                    cs, _lang, data = data.split(b"'", 2)
                    charset = cs.decode("ascii", "replace") or "us-ascii"
                octets += unquote_to_bytes(data)
            else:
                octets += data
        try:
            simple[base] = octets.decode(charset)
        except (LookupError, UnicodeDecodeError):
            simple[base] = octets.decode("utf-8", "replace")
    return tuple((name, simple[name]) for name in order if name in simple)
