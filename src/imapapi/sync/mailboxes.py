"""Pure folder-list logic: special-use detection and what changed between two listings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imapapi.imap.types import MailboxInfo

# RFC 6154 §2 special-use attributes, and \Inbox which imapapi reports for INBOX itself.
SPECIAL_USE = ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash")

# For servers without SPECIAL-USE: names common clients give these folders (lowercase).
_BY_NAME = {
    "\\Sent": ("sent", "sent items", "sent messages", "sent mail", "gesendet", "envoyés"),
    "\\Drafts": ("drafts", "draft", "entwürfe", "brouillons"),
    "\\Junk": ("junk", "spam", "junk e-mail", "junk email", "bulk mail"),
    "\\Trash": ("trash", "deleted items", "deleted messages", "bin", "papierkorb", "corbeille"),
    "\\Archive": ("archive", "archives", "archiv"),
}


def special_use(info: MailboxInfo, *, by_name: bool = True) -> str | None:
    if info.path.upper() == "INBOX":
        return "\\Inbox"
    for flag in info.flags:
        for use in SPECIAL_USE:
            if flag.lower() == use.lower():
                return use
    if by_name:
        leaf = info.path.rsplit(info.delimiter, 1)[-1] if info.delimiter else info.path
        for use, names in _BY_NAME.items():
            if leaf.lower() in names:
                return use
    return None


def assign_special_use(mailboxes: Iterable[MailboxInfo]) -> dict[str, str]:
    """path → special use; server flags win, then one folder per use by name."""
    listed = [m for m in mailboxes if m.selectable]
    result: dict[str, str] = {}
    for info in listed:
        use = special_use(info, by_name=False)
        if use:
            result.setdefault(info.path, use)
    taken = set(result.values())
    for info in listed:
        if info.path in result:
            continue
        use = special_use(info)
        if use and use not in taken:
            result[info.path] = use
            taken.add(use)
    return result


@dataclass(frozen=True, slots=True)
class ListingDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]


def diff_listing(known: Iterable[str], current: Iterable[str]) -> ListingDiff:
    before, now = set(known), set(current)
    return ListingDiff(added=tuple(sorted(now - before)), removed=tuple(sorted(before - now)))
