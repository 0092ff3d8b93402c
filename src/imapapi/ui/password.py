"""The admin password of the web pages: only a salted scrypt hash is stored (`imapapi password
set`), in the runtime settings, so every process of a deployment accepts the same password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PASSWORD_SETTING = "adminPasswordHash"  # noqa: S105 (a settings key, not a password)
MIN_LENGTH = 10
# scrypt cost (RFC 7914 §2): N=2^15, r=8, p=1 is ~32 MiB and ~0.2 s here, a fair price for a
# sign-in and a steep one for guessing. Stored with the hash, so it can be raised later.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
_SCHEME = "scrypt"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$<salt b64>$<hash b64>` of `password`."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM)
    return f"{_SCHEME}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; a malformed `stored` value never matches."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != _SCHEME:
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        digest = hashlib.scrypt(
            password.encode(),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)
