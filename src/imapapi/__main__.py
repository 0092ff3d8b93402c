"""`python -m imapapi`."""

from __future__ import annotations

import sys

from imapapi.cli import main

sys.exit(main())
