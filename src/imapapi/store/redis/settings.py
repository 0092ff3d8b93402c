"""Runtime settings on Redis: one hash, a field per key (`SettingsStore`)."""

from __future__ import annotations

from typing import Any

from imapapi.store.payload import dump, load
from imapapi.store.redis.codec import _hash
from imapapi.store.redis.connection import RedisConnection


class RedisSettings(RedisConnection):
    """The `SettingsStore` part of `RedisStore`."""

    async def get_settings(self) -> dict[str, Any]:
        return self._settings(await self._call("HGETALL", self.keys.settings))

    @staticmethod
    def _settings(raw: Any) -> dict[str, Any]:
        return {key: load(value, f"setting {key!r}") for key, value in _hash(raw).items()}

    async def update_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        key = self.keys.settings
        commands: list[tuple[Any, ...]] = [
            ("HDEL", key, name) if value is None else ("HSET", key, name, dump(value))
            for name, value in values.items()
        ]
        # The merged result is read inside the same transaction, so it is what this call made.
        *_, merged = await self._transaction(*commands, ("HGETALL", key))
        return self._settings(merged)
