"""Fixtures of the end-to-end tests: imapapi as a real process (tests/servers/service.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.servers.service import ServiceProcess

ServiceFactory = Callable[..., ServiceProcess]


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Make (not start) `imapapi serve` processes; every one is killed at teardown."""
    made: list[ServiceProcess] = []

    def make(
        *,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> ServiceProcess:
        n = len(made) + 1
        process = ServiceProcess(
            data_dir or tmp_path / f"data{n}", tmp_path / f"logs{n}", env=env, args=args
        )
        made.append(process)
        return process

    try:
        yield make
    finally:
        for process in made:
            process.close()
