"""Free loopback ports for servers the test suite starts itself."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


# Ports this process handed out already. The kernel may give the same free port to two binds in
# a row, and a server asking for two ports (Dovecot: plain and TLS) then fails with "duplicate
# listener"; a port is handed out once per test run.
_HANDED_OUT: set[int] = set()


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that nothing listens on right now, and that this process
    has not handed out before.

    The kernel picks it (bind to port 0). There is a small window in which another process
    could take it before our server binds; on loopback in a test run that is acceptable, and
    far better than fixed ports, which break when two test runs share a machine.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
