"""A private `redis-server` for the test suite (STYLE.md 18: real Redis, not a fake).

It runs from a generated config in a temp dir on a free loopback port, without persistence
(`save ""`, `appendonly no`: tests need speed, not durability) and with the eviction policy
production must use (`noeviction`), so a test never passes on data Redis dropped.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers.ports import LOOPBACK, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0

_CONFIG = """\
bind {host}
port {port}
protected-mode yes
daemonize no
dir {root}
logfile {log}
save ""
appendonly no
maxmemory-policy noeviction
databases 16
"""


class RedisServerError(RuntimeError):
    """redis-server did not start; the message carries its log tail."""


class RedisServer:
    """`redis-server` on `host:port`; `url` for clients, `flush()` between tests if needed."""

    def __init__(self, *, host: str = LOOPBACK) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="imapapi-redis-"))
        self.host = host
        self.port = free_port(host)
        self.config_path = self.root / "redis.conf"
        self.log_path = self.root / "redis.log"
        self.config_path.write_text(
            _CONFIG.format(host=host, port=self.port, root=self.root, log=self.log_path)
        )
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.close)  # a hard-interrupted run still stops its server

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def start(self) -> None:
        """Start and return once the server answers PING."""
        self._process = subprocess.Popen(
            [REDIS_SERVER, str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            if self.command("PING") == "+PONG":
                return
            time.sleep(0.02)
        self.stop()
        raise RedisServerError(f"redis-server did not start on {self.url}\n{self.log_tail()}")

    def command(self, *args: str) -> str | None:
        """One inline command over a plain socket (no client library needed to manage it)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                sock.sendall((" ".join(args) + "\r\n").encode())
                return sock.recv(4096).decode(errors="replace").strip()
        except OSError:
            return None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
