"""`imapapi serve` raises its open-file limit: thousands of accounts are thousands of sockets."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from imapapi.cli.serve import raise_file_limit


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
