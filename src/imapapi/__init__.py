"""imapapi: a self-hosted REST API and webhooks over IMAP and SMTP accounts."""

from __future__ import annotations

__version__ = "0.1.0"
