"""Pure comparison of what a folder held at the last sync with what the server holds now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from imapapi.store.base import FolderState
from imapapi.sync.flagmap import FlagSet

# \Recent is session-specific (RFC 3501 §2.3.2): it changes with every connection and is no
# change of the message, so it is never reported or stored.
IGNORED_FLAGS = frozenset({"\\Recent"})
# Gmail labels (X-GM-LABELS) share the stored set with flags, marked by a prefix no IMAP flag
# can contain (flags are atoms: no control characters, RFC 3501 §9).
LABEL_PREFIX = "\x00"


def normalize_flags(flags: Iterable[str], labels: Iterable[str] = ()) -> FlagSet:
    return frozenset(f for f in flags if f not in IGNORED_FLAGS) | {
        LABEL_PREFIX + label for label in labels
    }


def split_labels(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """(flags, labels) of a stored set, each sorted."""
    flags, labels = [], []
    for value in values:
        if value.startswith(LABEL_PREFIX):
            labels.append(value[len(LABEL_PREFIX) :])
        else:
            flags.append(value)
    return sorted(flags), sorted(labels)


def merge_pushed(
    old: FlagSet, flags: Iterable[str] | None, labels: Iterable[str] | None
) -> FlagSet:
    """A message's new stored set from an unsolicited FETCH: items the server did not send
    (e.g. X-GM-LABELS in a FLAGS-only push) keep their old values."""
    old_flags, old_labels = split_labels(old)
    return normalize_flags(
        old_flags if flags is None else flags, old_labels if labels is None else labels
    )


def counters_changed(
    known: FolderState | None,
    *,
    uid_validity: int | None,
    uid_next: int | None,
    messages: int | None,
    highest_modseq: int | None,
    unknown_modseq_is_change: bool,
) -> bool:
    """Whether a folder's STATUS/SELECT counters differ from what was stored.

    Without HIGHESTMODSEQ a flag change is invisible (RFC 7162 §3.1.2): callers that must see
    flag changes pass `unknown_modseq_is_change=True`; callers that hear of them otherwise
    (IDLE pushes, the periodic rescan) pass False.
    """
    if known is None:
        return True
    if (uid_validity, uid_next, messages) != (known.uid_validity, known.uid_next, known.messages):
        return True
    if highest_modseq is None:
        return unknown_modseq_is_change
    return highest_modseq != known.highest_modseq


@dataclass(frozen=True, slots=True)
class FlagChange:
    uid: int
    added: tuple[str, ...]
    deleted: tuple[str, ...]
    value: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FolderDiff:
    new: tuple[int, ...] = ()
    deleted: tuple[int, ...] = ()
    changed: tuple[FlagChange, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.new or self.deleted or self.changed)


def flag_change(uid: int, old: FlagSet, new: FlagSet) -> FlagChange | None:
    if old == new:
        return None
    return FlagChange(
        uid=uid,
        added=tuple(sorted(new - old)),
        deleted=tuple(sorted(old - new)),
        value=tuple(sorted(new)),
    )


def diff_full(old: Mapping[int, FlagSet], current: Mapping[int, FlagSet]) -> FolderDiff:
    """Compare two complete uid → flags maps (the fallback without CONDSTORE)."""
    # A first index compares 20,000 uids with none: no loop then, and key-view set operations
    # (in C) for the new and deleted uids.
    changed = [
        change
        for uid, flags in (current.items() if old else ())
        if uid in old and (change := flag_change(uid, old[uid], flags)) is not None
    ]
    return FolderDiff(
        new=tuple(sorted(current.keys() - old.keys())),
        deleted=tuple(sorted(old.keys() - current.keys())),
        changed=tuple(sorted(changed, key=lambda c: c.uid)),
    )


def diff_partial(
    old: Mapping[int, FlagSet],
    fetched: Mapping[int, FlagSet],
    vanished: Iterable[int],
) -> FolderDiff:
    """Apply a CONDSTORE/QRESYNC answer: `fetched` holds only changed or new messages
    (RFC 7162 §3.1.4 CHANGEDSINCE), `vanished` the expunged uids (RFC 7162 §3.2.10).

    An expunge is final (RFC 3501 §2.3.1.1: a UID is never reused), so a uid in `vanished`
    is gone even when `fetched` has flags for it: those came earlier, e.g. a FETCH the server
    pushed for `STORE +FLAGS (\\Deleted)` before the EXPUNGE that followed it.
    """
    expunged = set(vanished)
    gone = sorted(expunged.intersection(old))
    changed = [
        change
        for uid, flags in fetched.items()
        if uid in old
        and uid not in expunged
        and (change := flag_change(uid, old[uid], flags)) is not None
    ]
    return FolderDiff(
        new=tuple(sorted(uid for uid in fetched if uid not in old and uid not in expunged)),
        deleted=tuple(gone),
        changed=tuple(sorted(changed, key=lambda c: c.uid)),
    )


def apply(
    old: Mapping[int, FlagSet], diff: FolderDiff, fetched: Mapping[int, FlagSet]
) -> dict[int, FlagSet]:
    """The new uid → flags map after `diff` (`fetched` supplies flags of new/changed uids)."""
    result = dict(old)
    for uid in diff.deleted:
        result.pop(uid, None)
    for uid in diff.new:
        result[uid] = fetched[uid]
    for change in diff.changed:
        result[change.uid] = frozenset(change.value)
    return result
