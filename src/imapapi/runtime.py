"""Runtime settings changed through the API (webhook target, auth server, service secret).

They live in the store, not in config.py, so every process sees the same values. The service
secret is encrypted at rest like account passwords and is never returned by the API.
"""

from __future__ import annotations

import time
from typing import Any

from imapapi.credentials.crypto import SecretBox
from imapapi.errors import CorruptRecordError
from imapapi.events.target import WebhookTarget
from imapapi.store.base import SettingsStore

_SECRET_CONTEXT = "settings:serviceSecret"  # noqa: S105 (AEAD associated data, not a secret)
_KEY_CHECK_CONTEXT = "settings:keyCheck"
_CACHE_SECONDS = 2.0


class RuntimeSettings:
    """Read and change runtime settings; a short cache keeps reads off the store's hot path."""

    def __init__(self, store: SettingsStore, box: SecretBox) -> None:
        self._store = store
        self._box = box
        self._cached: dict[str, Any] | None = None
        self._cached_at = 0.0
        self._updates = 0  # changes made through `update`, to keep a slower read from undoing one

    async def _raw(self) -> dict[str, Any]:
        now = time.monotonic()
        if self._cached is None or now - self._cached_at > _CACHE_SECONDS:
            updates = self._updates
            fetched = await self._store.get_settings()
            # A read that began before an update and ended after it holds the old values:
            # cached, the webhook dispatcher would skip events as "no webhook URL" for 2 s.
            if updates == self._updates or self._cached is None:
                self._cached, self._cached_at = fetched, now
        return self._cached

    async def check_key(self) -> None:
        """Refuse to start with another secret than the store was written with (a node of a
        cluster configured with its own IMAPAPI_SECRET, a database moved without its
        secret.key): every stored password would be unreadable. The first start leaves a
        value sealed with the key, every later one opens it."""
        sealed = (await self._store.get_settings()).get("keyCheck")
        if not isinstance(sealed, str):
            await self._store.update_settings(
                {"keyCheck": self._box.encrypt("imapapi", _KEY_CHECK_CONTEXT)}
            )
            return
        try:
            self._box.decrypt(sealed, _KEY_CHECK_CONTEXT)
        except CorruptRecordError:
            raise CorruptRecordError(
                "the store was written with another secret: give every process the same "
                "IMAPAPI_SECRET (or the same secret.key)"
            ) from None

    async def public(self) -> dict[str, Any]:
        raw = await self._raw()
        return {
            "webhooks": raw.get("webhooks"),
            "webhookEvents": raw.get("webhookEvents") or ["*"],
            "authServer": raw.get("authServer"),
            "serviceSecretSet": bool(raw.get("serviceSecret")),
        }

    async def update(self, values: dict[str, Any]) -> dict[str, Any]:
        """Apply `values` (None clears a key); returns the public view."""
        stored = dict(values)
        if stored.get("serviceSecret") is not None:
            stored["serviceSecret"] = self._box.encrypt(stored["serviceSecret"], _SECRET_CONTEXT)
        self._updates += 1
        self._cached = await self._store.update_settings(stored)
        self._cached_at = time.monotonic()
        return await self.public()

    async def webhook_target(self) -> WebhookTarget:
        raw = dict(await self._raw())
        if raw.get("serviceSecret"):
            raw["serviceSecret"] = self._box.decrypt(raw["serviceSecret"], _SECRET_CONTEXT)
        return WebhookTarget.from_settings(raw)

    async def auth_server(self) -> str | None:
        value = (await self._raw()).get("authServer")
        return value if isinstance(value, str) else None
