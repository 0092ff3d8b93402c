"""Node servers from tests/servers/node, each run by a launcher script with a control channel.

A launcher gets its config as one JSON argument, prints `{"ready": true, …}` when it listens,
then answers one JSON line on stdout per JSON command line on stdin, and exits when stdin
closes. hoodiecrow.py (a Gmail-like IMAP server) and oidc.py (an OpenID provider) are two.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any, ClassVar, Self

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"


def ensure_installed(package: str, error: type[Exception]) -> None:
    """Install tests/servers/node from the committed lockfile when `package` is missing.

    scripts/test does the same before the run; this keeps a bare `pytest` working too.
    """
    marker = NODE_DIR / "node_modules" / package / "package.json"
    if marker.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise error("npm is not installed; it is needed for tests/servers/node")
    result = subprocess.run(
        [npm, "ci", "--omit=optional", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not marker.exists():
        raise error(f"npm ci in {NODE_DIR} failed:\n{result.stderr[-2000:]}")


class NodeLauncher:
    """One launcher process: `start()` / `stop()` (or `with`), `control()`, `log()`."""

    script: ClassVar[Path]
    package: ClassVar[str]  # the npm package it needs, installed on first start
    error: ClassVar[type[Exception]] = RuntimeError

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._stderr: IO[bytes] | None = None

    def _config(self) -> dict[str, Any]:
        """The launcher's JSON config; called by start(), which is where ports are picked."""
        raise NotImplementedError

    def _started(self, ready: dict[str, Any]) -> None:
        """Take what the ready line says (the launcher's first line)."""

    def start(self, timeout: float = 15.0) -> None:
        if self._process is not None:
            return
        ensure_installed(self.package, self.error)
        node = shutil.which("node")
        if node is None:
            raise self.error("node is not installed")
        config = self._config()
        self._buffer = b""
        # A file, not a pipe: nobody drains a pipe, and a full one would block the server.
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [node, str(self.script), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            ready = self._read(timeout)
            if not ready.get("ready"):
                raise self.error(f"unexpected first line from the launcher: {ready}")
        except BaseException:
            self.stop()
            raise
        self._started(ready)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        try:
            process.stdin.close()  # the launcher exits when its control channel closes
        except OSError:
            pass
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _read(self, timeout: float) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self.error(f"no answer from {self.script.name} within {timeout} s")
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self.error(f"{self.script.name} exited: {self.log()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        answer: dict[str, Any] = json.loads(line)
        return answer

    def log(self) -> str:
        """What the launcher wrote to stderr so far (its errors and warnings)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def control(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one control command and return its answer (`error` raised when refused)."""
        process = self._process
        if process is None or process.stdin is None:
            raise self.error(f"{self.script.name} is not running")
        process.stdin.write(json.dumps({"op": op, **args}).encode() + b"\n")
        process.stdin.flush()
        answer = self._read(10.0)
        if not answer.get("ok"):
            raise self.error(f"{op}: {answer.get('error')}")
        return answer
