"""Session cookies of the web pages: signing, tampering, expiry, CSRF comparison."""

from __future__ import annotations

import pytest

from imapapi.ui.session import UiSession, csrf_matches, decode, encode

KEY = b"k" * 32


def test_round_trip() -> None:
    session = UiSession.new("admin", now=1000.0)
    assert decode(encode(session, KEY), KEY, now=1000.0) == session
    assert session.signed_in and not UiSession.new(None).signed_in


def test_new_sessions_get_new_csrf_tokens() -> None:
    assert UiSession.new("admin").csrf != UiSession.new("admin").csrf


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v + "x",
        lambda v: "A" + v[1:],
        lambda v: v.split(".")[0],
        lambda v: v.split(".")[0] + ".",
        lambda v: "." + v.split(".")[1],
        lambda v: "",
        lambda v: "not base64 at all.sig",
    ],
    ids=[
        "signature-extended",
        "payload-changed",
        "no-signature",
        "empty-signature",
        "no-payload",
        "empty",
        "garbage",
    ],
)
def test_tampered_values_are_refused(mangle: object) -> None:
    value = encode(UiSession.new("admin", now=1000.0), KEY)
    assert callable(mangle)
    assert decode(mangle(value), KEY, now=1000.0) is None


def test_another_key_or_expiry_refuses() -> None:
    session = UiSession.new("token:abc", now=1000.0)
    value = encode(session, KEY)
    assert decode(value, b"o" * 32, now=1000.0) is None
    assert decode(value, KEY, now=session.expires) is None
    assert decode(value, KEY, now=session.expires - 1) == session


def test_csrf_matches() -> None:
    session = UiSession("admin", "token-value", 0.0)
    assert csrf_matches(session, "token-value")
    assert not csrf_matches(session, "token-valuE")
    assert not csrf_matches(session, "")
    assert not csrf_matches(session, None)
