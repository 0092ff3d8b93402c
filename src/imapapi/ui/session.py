"""Sign-in sessions of the web pages: a signed cookie, no server-side session table.

The cookie holds `{subject, csrf, expires}` in base64url JSON and an HMAC-SHA256 of it. The HMAC
key is 32 random bytes kept in the runtime settings, encrypted by the service's SecretBox like
every other secret (so a copy of the database alone cannot forge a session), and created on
first use. `imapapi password set` deletes it: every session is signed out when the password
changes. Subjects are `admin` (the admin password) or `token:<id>` (an API token, checked again
on every request so a revoked token ends its sessions at once); `None` is a visitor who has not
signed in yet but already holds a CSRF token for the sign-in form.

Cookie flags: HttpOnly (no script reads it), SameSite=Strict (never sent on a request started
by another site, which with the per-session CSRF token on every form stops cross-site posts),
Secure when the page was requested over HTTPS, Path=/.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from imapapi.credentials.tokens import grants
from imapapi.errors import CorruptRecordError
from imapapi.service import Service
from imapapi.store.base import TokenRecord

COOKIE = "imapapi_session"
LIFETIME = 12 * 3600.0
KEY_SETTING = "uiSessionKey"
_KEY_CONTEXT = "settings:uiSessionKey"
_SIGNING_LABEL = b"imapapi ui session v1\x00"  # domain separation from any other HMAC use
ADMIN = "admin"
TOKEN_PREFIX = "token:"  # noqa: S105 (a subject prefix, not a secret)


@dataclass(frozen=True, slots=True)
class UiSession:
    """What the cookie says once its signature and expiry were checked."""

    subject: str | None
    csrf: str
    expires: float

    @property
    def signed_in(self) -> bool:
        return self.subject is not None

    @classmethod
    def new(cls, subject: str | None, now: float | None = None) -> UiSession:
        """A fresh session with a fresh CSRF token (a new one at every sign-in: no fixation)."""
        return cls(subject, secrets.token_urlsafe(32), (now or time.time()) + LIFETIME)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64encode(hmac.new(key, _SIGNING_LABEL + payload.encode(), hashlib.sha256).digest())


def encode(session: UiSession, key: bytes) -> str:
    payload = _b64encode(
        json.dumps(
            {"s": session.subject, "c": session.csrf, "e": session.expires}, separators=(",", ":")
        ).encode()
    )
    return f"{payload}.{_sign(key, payload)}"


def decode(value: str, key: bytes, now: float | None = None) -> UiSession | None:
    """The session in a cookie value, or None when forged, damaged or expired."""
    payload, _, signature = value.partition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _sign(key, payload).encode()):
        return None
    try:
        data: Any = json.loads(_b64decode(payload))
        subject, csrf, expires = data["s"], data["c"], float(data["e"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(csrf, str) or not (subject is None or isinstance(subject, str)):
        return None
    if expires <= (now or time.time()):
        return None
    return UiSession(subject, csrf, expires)


async def signing_key(service: Service) -> bytes:
    """The HMAC key of session cookies, created (and stored encrypted) on first use."""
    stored = (await service.store.get_settings()).get(KEY_SETTING)
    if isinstance(stored, str):
        try:
            return _b64decode(service.box.decrypt(stored, _KEY_CONTEXT))
        except (CorruptRecordError, ValueError, binascii.Error):
            pass  # unreadable (IMAPAPI_SECRET changed): start over; sessions end
    key = secrets.token_bytes(32)
    encrypted = service.box.encrypt(_b64encode(key), _KEY_CONTEXT)
    await service.store.update_settings({KEY_SETTING: encrypted})
    return key


def opens_pages(record: TokenRecord) -> bool:
    """Whether a token may sign in to the pages, which show and change the whole service: an
    active `admin` token bound to no account."""
    return record.revoked is None and grants(record, "admin") and not record.accounts


async def _subject_valid(service: Service, subject: str) -> bool:
    if subject == ADMIN:
        return True
    if subject.startswith(TOKEN_PREFIX):
        token_id = subject[len(TOKEN_PREFIX) :]
        for record in await service.store.list_tokens():
            if record.id == token_id:
                return opens_pages(record)
    return False


async def read(request: Request, service: Service, key: bytes | None = None) -> UiSession | None:
    """The valid session of `request`, if any (a revoked token's session is not valid)."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    session = decode(value, key or await signing_key(service))
    if session is None:
        return None
    if session.subject is not None and not await _subject_valid(service, session.subject):
        return None
    return session


async def signed_in(request: Request, service: Service) -> bool:
    """Whether the request carries the cookie of a signed-in operator."""
    found = await read(request, service)
    return found is not None and found.signed_in


def set_cookie(
    response: Response, request: Request, value: str, *, name: str = COOKIE, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(LIFETIME),
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def csrf_matches(session: UiSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())
