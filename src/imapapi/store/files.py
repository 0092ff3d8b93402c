"""Files of the data directory, readable by the service's user alone.

The database holds account settings (secrets encrypted), API token hashes and what the service
knows of every mailbox; the key file decrypts the secrets. Both are created mode 0600, and the
data directory 0700 when the service creates it (an existing directory is the operator's).

A file found with group or other permissions is tightened (and logged), not merely reported:
earlier versions created the database with the umask's mode (0644) without anyone choosing
it, so a wider mode is almost always that leftover, and a warning alone would leave every
upgraded install exposed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> None:
    """Create the directory `path` (mode 0700) and its parents when missing."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 when missing; tighten it when it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def tighten(path: Path) -> None:
    """Take group and other permissions off the file `path`, if it exists and has any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & ~0o077)
        log.warning(
            "%s was readable by other users (mode %04o); changed to %04o",
            path,
            mode,
            mode & ~0o077,
        )
