"""Use up a user's inotify instances, as hundreds of IDLE sessions of one uid do on real hosts.

Linux allows `fs.inotify.max_user_instances` (128 by default) per real uid. A mail server whose
processes run under one uid runs out, and then notices changes only by polling (Dovecot:
`mailbox_idle_check_interval`). A child process switched to that uid takes every instance left
and holds them until the context exits.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
from collections.abc import Iterator
from contextlib import contextmanager


def _hold_all(uid: int, gid: int, ready: int) -> None:
    """In the child: become `uid`, open inotify instances until refused, report, wait."""
    os.setgid(gid)
    os.setuid(uid)
    libc = ctypes.CDLL(None, use_errno=True)
    held = 0
    while held < 100_000 and libc.inotify_init() >= 0:
        held += 1
    os.write(ready, held.to_bytes(4, "big"))
    os.close(ready)
    signal.pause()


@contextmanager
def inotify_exhausted(user: str) -> Iterator[int]:
    """While inside, `user` can open no inotify instance; yields how many the child holds."""
    entry = pwd.getpwnam(user)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            _hold_all(entry.pw_uid, entry.pw_gid, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        answer = os.read(read_end, 4)
        os.close(read_end)
        yield int.from_bytes(answer, "big") if len(answer) == 4 else 0
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
