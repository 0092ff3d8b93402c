from __future__ import annotations

import pytest

from imapapi.events.signing import sign, verify


# Known answers computed independently: printf '%s' BODY | openssl dgst -sha256 -hmac SECRET
@pytest.mark.parametrize(
    ("body", "secret", "expected"),
    [
        (b"", "key", "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0"),
        (
            b"The quick brown fox jumps over the lazy dog",
            "key",
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        ),
        (
            "Grüße".encode(),
            "schlüssel",  # the secret is keyed as UTF-8
            "5954128ee7c63a0953a2a1aed8dad68aa3c37cdf573b0227776b2bf49f4b9df5",
        ),
    ],
    ids=["empty-body", "fox", "utf8-body-and-secret"],
)
def test_sign_known_answers(body: bytes, secret: str, expected: str) -> None:
    assert sign(body, secret) == "sha256=" + expected


def test_sign_rejects_empty_secret() -> None:
    with pytest.raises(ValueError):
        sign(b"x", "")


BODY = b'{"account":"a","event":"messageNew"}'
GOOD = sign(BODY, "secret")


@pytest.mark.parametrize(
    ("body", "secret", "signature", "ok"),
    [
        (BODY, "secret", GOOD, True),
        (BODY, "secret", "sha256=" + GOOD[7:].upper(), True),
        (BODY, "other", GOOD, False),
        (BODY + b" ", "secret", GOOD, False),
        (BODY, "secret", GOOD[7:], False),
        (BODY, "secret", "sha1=" + GOOD[7:], False),
        (BODY, "secret", GOOD[:-1], False),
        (BODY, "secret", "", False),
        (BODY, "secret", None, False),
        (BODY, "secret", "sha256=ünïcode", False),
        (BODY, "", GOOD, False),
    ],
    ids=[
        "valid",
        "uppercase-hex",
        "wrong-secret",
        "tampered-body",
        "missing-prefix",
        "wrong-algorithm",
        "truncated",
        "empty",
        "absent",
        "non-ascii",
        "empty-secret",
    ],
)
def test_verify(body: bytes, secret: str, signature: str | None, ok: bool) -> None:
    assert verify(body, secret, signature) is ok
