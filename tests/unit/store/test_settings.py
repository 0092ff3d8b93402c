"""The SettingsStore contract on both backends: merging and clearing keys."""

from __future__ import annotations

from imapapi.store.base import Store


async def test_settings_merge_and_clear(store: Store) -> None:
    assert await store.update_settings({"a": 1, "b": [1, 2]}) == {"a": 1, "b": [1, 2]}
    assert await store.update_settings({"a": None, "c": "x"}) == {"b": [1, 2], "c": "x"}
