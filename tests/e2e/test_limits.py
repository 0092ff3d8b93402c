"""`imapapi serve` as a real process: request bodies cost it no memory when refused, and the
files it keeps are its user's alone."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import first_start_token
from tests.servers.service import ServiceProcess

CHUNK = b"x" * (1 << 20)
BODY_MIB = 100
MAX_GROWTH = 50 * 1024 * 1024


def rss(service: ServiceProcess) -> int:
    """The service's resident memory in bytes (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{service.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def body() -> Iterator[bytes]:
    """100 MiB, chunked (no Content-Length): only counting can stop it."""
    for _ in range(BODY_MIB):
        yield CHUNK


def test_refused_bodies_are_not_held_in_memory(service_factory: ServiceFactory) -> None:
    service = service_factory(env={"IMAPAPI_MAX_MESSAGE_SIZE": str(1 << 20)})
    service.start()
    token = first_start_token(service.stderr)
    before = rss(service)
    with service.client(timeout=60) as anonymous:
        response = anonymous.post("/v1/account/x/message", content=body())
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "Unauthorized"
    assert rss(service) - before < MAX_GROWTH

    with service.client(token, timeout=60) as client:
        response = client.post("/v1/account/x/message", content=body())
        assert response.status_code == 413, response.text
        error = response.json()
        assert error["code"] == "PayloadTooLarge" and "IMAPAPI_MAX_MESSAGE_SIZE" in error["error"]
        assert rss(service) - before < MAX_GROWTH
        # The connection and the service are fine afterwards.
        assert client.get("/v1/accounts").status_code == 200
    assert service.stop() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_private(service_factory: ServiceFactory, tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    service = service_factory(data_dir=data)
    service.start()
    token = first_start_token(service.stderr)
    with service.client(token) as client:  # a write: the WAL and its index are in use
        assert client.post("/v1/settings", json={"webhooks": None}).status_code == 200
    files = [data / "imapapi.db", data / "imapapi.db-wal", data / "imapapi.db-shm"]
    files.append(data / "secret.key")
    assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert oct(mode(data)) == "0o700"
    assert service.stop() == 0

    # Files left readable by an earlier version are tightened at the next start, and said so.
    for path in (data / "imapapi.db", data / "secret.key"):
        path.chmod(0o644)
    service.start()
    assert mode(data / "imapapi.db") == 0o600 and mode(data / "secret.key") == 0o600
    assert service.stderr.count("was readable by other users") == 2, service.stderr
    assert service.stop() == 0
