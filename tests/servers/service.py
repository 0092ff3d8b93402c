"""imapapi itself as a real process (`imapapi serve`), for the end-to-end tests.

The in-process fixtures of tests/integration cannot show what a user of the command sees: what
is printed at start, the exit code after SIGTERM, what survives a SIGKILL. This runs the
installed console script in a process group of its own, on a free loopback port, with its
stdout/stderr in files (one pair per start), and always kills it at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.servers.ports import LOOPBACK, free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class ServiceError(RuntimeError):
    """The service did not start or stop; the message carries its stderr tail."""


def imapapi_command() -> list[str]:
    """The console script of the venv running the tests, or `python -m imapapi`."""
    script = Path(sys.executable).parent / "imapapi"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "imapapi"]


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test run's environment without any IMAPAPI_* setting leaking in, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAPAPI_")}
    # Loopback must never go through a proxy configured for the machine.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


class ServiceProcess:
    """`imapapi serve` on `host:port` with `data_dir`; start, stop, kill and start again.

    Every start appends a new pair of log files in `log_dir` (`serve-N.stdout`/`.stderr`), so
    a test can read what one particular start printed (:attr:`stderr`, :meth:`stderr_of`).
    The same data dir and port are reused by every start, as after a real restart.
    """

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        host: str = LOOPBACK,
        port: int | None = None,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """`command` replaces `imapapi serve` (e.g. a clone's `scripts/serve`), run in `cwd`."""
        self.command = list(command) if command else [*imapapi_command(), "serve"]
        self.cwd = cwd
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.host = host
        self.port = port or free_port(host)
        self.env = dict(env or {})
        self.args = list(args)
        self.starts = 0
        self.returncode: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.kill)  # a hard-interrupted pytest skips fixture teardown

    # -- paths and output ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _log(self, start: int, stream: str) -> Path:
        return self.log_dir / f"serve-{start}.{stream}"

    def stderr_of(self, start: int) -> str:
        """What start number `start` (1-based) wrote on stderr."""
        path = self._log(start, "stderr")
        return path.read_text(errors="replace") if path.exists() else ""

    def stdout_of(self, start: int) -> str:
        path = self._log(start, "stdout")
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def stderr(self) -> str:
        """stderr of the latest start."""
        return self.stderr_of(self.starts)

    @property
    def stdout(self) -> str:
        return self.stdout_of(self.starts)

    def all_stderr(self) -> str:
        return "".join(self.stderr_of(n) for n in range(1, self.starts + 1))

    def full_env(self) -> dict[str, str]:
        return base_env(
            {
                "IMAPAPI_DATA_DIR": str(self.data_dir),
                "IMAPAPI_HOST": self.host,
                "IMAPAPI_PORT": str(self.port),
                **self.env,
            }
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start `imapapi serve` and return once `/openapi.json` answers 200."""
        if self.running:
            raise ServiceError("already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.returncode = None
        with (
            self._log(self.starts, "stdout").open("wb") as out,
            self._log(self.starts, "stderr").open("wb") as err,
        ):
            self._process = subprocess.Popen(
                [*self.command, *self.args],
                env=self.full_env(),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own group: kill() reaches anything it forks
            )
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.returncode = self._process.returncode
                raise ServiceError(
                    f"imapapi serve exited {self.returncode} at start:\n{self.stderr[-4000:]}"
                )
            try:
                response = httpx.get(f"{self.url}/openapi.json", timeout=2.0, trust_env=False)
                if response.status_code == 200:
                    return
                last = response.status_code
            except httpx.TransportError as exc:
                last = exc
            time.sleep(0.05)
        self.kill()
        raise ServiceError(
            f"imapapi serve did not answer on {self.url} within {timeout} s ({last!r}):\n"
            f"{self.stderr[-4000:]}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, wait for the exit and return its code (SIGKILL if it does not exit)."""
        process = self._process
        if process is None:
            raise ServiceError("not started")
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServiceError(
                    f"imapapi serve ignored SIGTERM for {timeout} s:\n{self.stderr[-4000:]}"
                ) from None
        self._reap()
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash); no-op when not running."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
        self._reap()

    def _reap(self) -> None:
        process = self._process
        if process is None:
            return
        # Anything left in the group (nothing expected) goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        self.returncode = process.wait()
        self._process = None

    def close(self) -> None:
        self.kill()
        atexit.unregister(self.kill)

    def __enter__(self) -> ServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- talking to it ---------------------------------------------------------------------

    def client(self, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        """An HTTP client for the API, sending `token` when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout, trust_env=False)

    def cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run `imapapi ARGS` with this service's data dir and environment."""
        return run_cli(*args, env=self.full_env(), timeout=timeout)


def run_cli(
    *args: str, env: Mapping[str, str], timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """`imapapi ARGS` as a user would run it; output captured as text, never raises on exit."""
    return subprocess.run(
        [*imapapi_command(), *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
