"""Secrets at rest: AES-256-GCM with a key from IMAPAPI_SECRET or a generated 0600 key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from imapapi.credentials.crypto import PREFIX, SecretBox, load_key
from imapapi.errors import CorruptRecordError


def test_round_trip_and_context_binding() -> None:
    box = SecretBox(load_key("material", Path("/nonexistent")))
    sealed = box.encrypt("pässword", "account:a:imap.pass")
    assert sealed.startswith(PREFIX)
    assert "pässword" not in sealed
    assert box.decrypt(sealed, "account:a:imap.pass") == "pässword"
    assert box.encrypt("x", "c") != box.encrypt("x", "c")  # fresh nonce each time
    with pytest.raises(CorruptRecordError):
        box.decrypt(sealed, "account:b:imap.pass")  # copied to another account


def test_wrong_key_or_garbage_is_a_clear_error() -> None:
    sealed = SecretBox(load_key("one", Path("/x"))).encrypt("secret", "c")
    other = SecretBox(load_key("two", Path("/x")))
    for bad in (sealed, PREFIX + "!!!", "plaintext"):
        with pytest.raises(CorruptRecordError):
            other.decrypt(bad, "c")


def test_key_file_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    first = load_key(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(None, path) == first
    assert len(first) == 32
