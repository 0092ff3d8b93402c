"""Folder diffs: full comparison and CONDSTORE/QRESYNC partial answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapapi.store.base import FolderState
from imapapi.sync.diff import (
    FlagChange,
    apply,
    counters_changed,
    diff_full,
    diff_partial,
    normalize_flags,
)

S = frozenset({"\\Seen"})
SF = frozenset({"\\Seen", "\\Flagged"})
NONE: frozenset[str] = frozenset()


def test_full_diff_finds_new_deleted_and_changed() -> None:
    old = {1: NONE, 2: S, 3: S}
    now = {2: SF, 3: S, 4: NONE}
    diff = diff_full(old, now)
    assert diff.new == (4,)
    assert diff.deleted == (1,)
    assert diff.changed == (FlagChange(2, ("\\Flagged",), (), ("\\Flagged", "\\Seen")),)
    assert apply(old, diff, now) == now


def test_partial_diff_uses_only_changed_and_vanished() -> None:
    old = {1: NONE, 2: S, 3: S}
    fetched = {3: NONE, 5: S}
    diff = diff_partial(old, fetched, vanished=[1, 99])
    assert diff.new == (5,)
    assert diff.deleted == (1,)
    assert diff.changed == (FlagChange(3, (), ("\\Seen",), ()),)
    assert apply(old, diff, fetched) == {2: S, 3: NONE, 5: S}


def test_a_vanished_uid_is_gone_even_with_flags_fetched_before() -> None:
    # Cyrus pushes the FETCH of STORE +FLAGS (\Deleted), then the VANISHED of the EXPUNGE.
    old = {1: NONE, 2: S}
    fetched = {2: frozenset({"\\Seen", "\\Deleted"}), 3: NONE, 4: S}
    diff = diff_partial(old, fetched, vanished=[2, 4])
    assert diff.deleted == (2,)
    assert diff.changed == ()
    assert diff.new == (3,)  # 4 came and went between two syncs: never announced
    assert apply(old, diff, fetched) == {1: NONE, 3: NONE}


SMALL_MAPS = st.dictionaries(st.integers(1, 30), st.frozensets(st.sampled_from("ab")))


@given(SMALL_MAPS, SMALL_MAPS, st.sets(st.integers(1, 30)))
def test_partial_diff_never_keeps_a_vanished_uid(
    old: dict[int, frozenset[str]], fetched: dict[int, frozenset[str]], vanished: set[int]
) -> None:
    assert not set(apply(old, diff_partial(old, fetched, vanished), fetched)) & vanished


def test_recent_is_never_a_change() -> None:
    assert normalize_flags(["\\Recent", "\\Seen"]) == S
    assert diff_full({1: S}, {1: normalize_flags(["\\Seen", "\\Recent"])}).empty


MAPS = st.dictionaries(st.integers(1, 50), st.frozensets(st.sampled_from(["a", "b", "c"])))


@given(MAPS, MAPS)
def test_applying_a_full_diff_reaches_the_new_state(old: dict, now: dict) -> None:  # type: ignore[type-arg]
    assert apply(old, diff_full(old, now), now) == now


KNOWN = FolderState(
    account="a", path="INBOX", index=1, uid_validity=7, uid_next=10, highest_modseq=50, messages=9
)


@pytest.mark.parametrize(
    ("counters", "strict", "changed"),
    [
        pytest.param((7, 10, 9, 50), False, False, id="same"),
        pytest.param((8, 10, 9, 50), False, True, id="new-uidvalidity"),
        pytest.param((7, 11, 10, 51), False, True, id="new-message"),
        pytest.param((7, 10, 8, 51), False, True, id="expunged"),
        pytest.param((7, 10, 9, 51), False, True, id="flags-changed"),
        pytest.param((7, 10, 9, None), False, False, id="no-modseq-lenient"),
        pytest.param((7, 10, 9, None), True, True, id="no-modseq-strict"),
    ],
)
def test_counters_changed(
    counters: tuple[int, int, int, int | None], strict: bool, changed: bool
) -> None:
    validity, uid_next, messages, modseq = counters
    assert (
        counters_changed(
            KNOWN,
            uid_validity=validity,
            uid_next=uid_next,
            messages=messages,
            highest_modseq=modseq,
            unknown_modseq_is_change=strict,
        )
        is changed
    )


def test_unknown_folder_has_changed() -> None:
    assert counters_changed(
        None,
        uid_validity=1,
        uid_next=1,
        messages=0,
        highest_modseq=1,
        unknown_modseq_is_change=False,
    )
