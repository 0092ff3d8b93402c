"""`imapapi serve` raises its open-file limit (thousands of accounts are thousands of sockets)
and sets the garbage collector up for a long-running service."""

from __future__ import annotations

import gc
import resource
from collections.abc import Iterator

import pytest

from imapapi.cli.serve import YOUNG_COLLECTION_THRESHOLD, raise_file_limit, settle_heap


@pytest.fixture
def low_soft_limit() -> Iterator[int]:
    """The soft limit lowered below the hard one for the test (allowed without privilege, and
    possible whatever the hard limit is), then restored."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = 256 if hard == resource.RLIM_INFINITY else min(256, hard // 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        yield hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_to_the_hard_one(low_soft_limit: int) -> None:
    assert raise_file_limit() == low_soft_limit
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (low_soft_limit, low_soft_limit)


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_settling_the_heap_freezes_it_and_collects_less_often(collector_restored: None) -> None:
    gc.unfreeze()
    _, older, oldest = gc.get_threshold()
    lived = [{"made": "at start-up"}]
    settle_heap()
    # What start-up made is in the permanent generation: no collection walks it again.
    assert gc.get_freeze_count() > 0
    assert all(obj is not lived for obj in gc.get_objects(generation=2))
    # The young generation's threshold is raised; the older ones keep theirs.
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, older, oldest)
    assert YOUNG_COLLECTION_THRESHOLD > 700  # the interpreter's default
