"""Webhook signatures: `X-Imapapi-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The HMAC covers the exact bytes posted, so a receiver must verify the raw request body before
parsing it (re-serialized JSON would not match).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Imapapi-Signature"
_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret as UTF-8, body). An empty secret is refused."""
    if not secret:
        raise ValueError("the signing secret must not be empty")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    """True when `signature` is the signature of `body` with `secret`.

    Compared in constant time (hmac.compare_digest) so the answer leaks nothing about how much
    of a forged signature was right. The hex digits may be in either case; a missing or
    malformed header is simply False.
    """
    if not signature or not secret or not signature.startswith(_PREFIX):
        return False
    given = signature[len(_PREFIX) :].lower().encode("utf-8", "replace")
    expected = sign(body, secret)[len(_PREFIX) :].encode("ascii")
    return hmac.compare_digest(given, expected)
