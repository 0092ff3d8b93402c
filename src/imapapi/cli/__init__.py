"""The command line (`imapapi`, entry point `imapapi.cli:main`): one module per command group,
assembled in cli/main.py."""

from __future__ import annotations

from imapapi.cli.main import main

__all__ = ["main"]
