"""The process's kept summaries (`sessions/summaries.py`): bounded, per session, per UIDVALIDITY."""

from __future__ import annotations

from imapapi.sessions.summaries import MAX_ENTRY_BYTES, SummaryCache


def test_a_kept_summary_is_found_by_folder_uidvalidity_and_uid() -> None:
    scope = SummaryCache(10).scope()
    scope.put("INBOX", 7, {1: b"one", 2: b"two"})
    assert scope.get("INBOX", 7, [2, 1, 3]) == {2: b"two", 1: b"one"}
    assert scope.get("Archive", 7, [1]) == {}


def test_sessions_never_see_each_others_summaries() -> None:
    cache = SummaryCache(10)
    first, second = cache.scope(), cache.scope()
    first.put("INBOX", 7, {1: b"first's"})
    assert second.get("INBOX", 7, [1]) == {}
    second.put("INBOX", 7, {1: b"second's"})
    assert first.get("INBOX", 7, [1]) == {1: b"first's"}


def test_the_least_recently_used_go_first_when_full() -> None:
    cache = SummaryCache(3)
    scope = cache.scope()
    scope.put("INBOX", 7, {1: b"a", 2: b"b", 3: b"c"})
    assert scope.get("INBOX", 7, [1]) == {1: b"a"}  # 2 is now the oldest
    scope.put("INBOX", 7, {4: b"d"})
    assert len(cache) == 3
    assert scope.get("INBOX", 7, [1, 2, 3, 4]) == {1: b"a", 3: b"c", 4: b"d"}


def test_a_new_uidvalidity_drops_that_folders_summaries_only() -> None:
    cache = SummaryCache(10)
    scope, other = cache.scope(), cache.scope()
    scope.put("INBOX", 7, {1: b"old"})
    scope.put("Archive", 3, {1: b"archived"})
    other.put("INBOX", 7, {1: b"other session"})
    assert scope.get("INBOX", 8, [1]) == {}
    assert scope.get("INBOX", 7, [1]) == {}  # gone, not only hidden behind the new value
    assert scope.get("Archive", 3, [1]) == {1: b"archived"}
    assert other.get("INBOX", 7, [1]) == {1: b"other session"}
    assert len(cache) == 2


def test_a_closed_scope_takes_its_summaries_with_it() -> None:
    cache = SummaryCache(10)
    scope, other = cache.scope(), cache.scope()
    scope.put("INBOX", 7, {1: b"a", 2: b"b"})
    other.put("INBOX", 7, {1: b"c"})
    scope.close()
    assert len(cache) == 1
    assert scope.get("INBOX", 7, [1, 2]) == {}
    assert other.get("INBOX", 7, [1]) == {1: b"c"}


def test_zero_entries_keeps_nothing() -> None:
    cache = SummaryCache(0)
    scope = cache.scope()
    scope.put("INBOX", 7, {1: b"a"})
    assert (len(cache), scope.get("INBOX", 7, [1])) == (0, {})


def test_an_outsized_summary_is_not_kept() -> None:
    scope = SummaryCache(10).scope()
    scope.put("INBOX", 7, {1: b"x" * (MAX_ENTRY_BYTES + 1), 2: b"x" * MAX_ENTRY_BYTES})
    assert list(scope.get("INBOX", 7, [1, 2])) == [2]


def test_the_syncs_uidvalidity_or_deletion_drops_the_old_folders_summaries() -> None:
    cache = SummaryCache(10)
    scope = cache.scope()
    scope.put("INBOX", 7, {1: b"old"})
    scope.put("Archive", 3, {1: b"archived"})
    scope.folder_synced("INBOX", 7)  # unchanged: kept
    assert scope.get("INBOX", 7, [1]) == {1: b"old"}
    scope.folder_synced("INBOX", 8)
    scope.folder_synced("Archive", None)
    assert len(cache) == 0
