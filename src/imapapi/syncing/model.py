"""The small types the sync loop and one folder's sync share: a folder as listed, the account's
sync counters, and what the flag map keeps of a message's flags."""

from __future__ import annotations

from dataclasses import dataclass

from imapapi.sync.diff import normalize_flags
from imapapi.sync.flagmap import FlagSet


@dataclass(frozen=True, slots=True)
class Folder:
    path: str
    special_use: str | None
    delimiter: str | None

    @property
    def name(self) -> str:
        return self.path.rsplit(self.delimiter, 1)[-1] if self.delimiter else self.path


@dataclass(frozen=True, slots=True)
class IndexTiming:
    """The last full index of a folder: `UID FETCH 1:* (UID FLAGS)` sent → its state built."""

    path: str
    messages: int
    seconds: float


@dataclass
class SyncStats:
    folders_synced: int = 0
    events: int = 0
    last_sync: float = 0.0
    last_index: IndexTiming | None = None


def stored_flags(flags: tuple[str, ...] | None, labels: tuple[str, ...] | None) -> FlagSet:
    """What the flag map keeps of a message's FETCH flags and Gmail labels."""
    return normalize_flags(flags or (), labels or ())
