"""Free loopback ports for servers the test suite starts itself."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The kernel picks it (bind to port 0). There is a small window in which another process
    could take it before our server binds; on loopback in a test run that is acceptable, and
    far better than fixed ports, which break when two test runs share a machine.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
