"""Encryption of secrets at rest with AES-256-GCM (`cryptography`).

The key comes from IMAPAPI_SECRET (any string; stretched with HKDF-SHA256, so it should be long
and random) or, when unset, from DATA_DIR/secret.key, 32 random bytes generated on first start
and written with mode 0600. Each ciphertext is bound to where it is stored (associated data such
as "account:alice:imap.pass"), so a value copied to another field or account does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from imapapi.errors import CorruptRecordError, StoreError
from imapapi.store.files import PRIVATE_FILE, private_dir, tighten

log = logging.getLogger(__name__)

PREFIX = "enc1:"
_NONCE_BYTES = 12


def _derive(material: bytes, info: bytes = b"imapapi secrets v1") -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def load_key(secret: str | None, key_path: Path) -> bytes:
    """The 32-byte key: derived from `secret` when given, else read or created at `key_path`."""
    if secret:
        return _derive(secret.encode())
    try:
        if key_path.exists():
            tighten(key_path)
            raw = base64.b64decode(key_path.read_bytes().strip(), validate=True)
            if len(raw) != 32:
                raise StoreError(f"{key_path} does not hold a 32-byte key")
            return _derive(raw)
        private_dir(key_path.parent)
        raw = secrets.token_bytes(32)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64encode(raw) + b"\n")
        log.info("generated a new encryption key file at %s", key_path)
        return _derive(raw)
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read or create the key file {key_path}: {exc}") from exc


class SecretBox:
    """Encrypts and decrypts short secrets (passwords, tokens) for storage, and signs short
    values that travel outside (an OAuth2 `state`) with a MAC key derived from the same key, so
    every node of a deployment signs and checks alike."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._mac_key = _derive(key, b"imapapi mac v1")  # never the encryption key itself

    def mac(self, data: bytes, context: str) -> bytes:
        """HMAC-SHA256 of `data` bound to `context` (what the value is for)."""
        return hmac.new(self._mac_key, context.encode() + b"\0" + data, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "<SecretBox>"  # never the key

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def decrypt(self, token: str, context: str) -> str:
        if not token.startswith(PREFIX):
            raise CorruptRecordError(f"stored secret for {context} is not encrypted")
        body = token[len(PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (ValueError, InvalidTag) as exc:
            raise CorruptRecordError(
                f"stored secret for {context} cannot be decrypted (wrong IMAPAPI_SECRET?)"
            ) from exc
        return plain.decode()
