"""Admin password hashes (scrypt): verify, refuse, never store the password."""

from __future__ import annotations

import pytest

from imapapi.ui.password import hash_password, verify_password


def test_hash_and_verify() -> None:
    stored = hash_password("correct horse battery")
    assert "correct horse" not in stored and stored.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert hash_password("correct horse battery") != stored  # salted


def test_too_short_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        hash_password("short")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "scrypt$1$2$3",
        "bcrypt$1$2$3$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$1048576$8$1$AAAA$AAAA",
        "scrypt$16384$8$1$!!$AAAA",
    ],
    ids=["empty", "no-fields", "too-few-fields", "other-scheme", "bad-n", "too-costly", "bad-salt"],
)
def test_malformed_hashes_never_match(stored: str) -> None:
    assert verify_password("anything at all", stored) is False
