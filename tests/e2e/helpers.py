"""Steps shared by the end-to-end tests: read the first-start token, wait for account states."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from tests.servers.dovecot import Dovecot, ImapUser

# Tokens are 32 random bytes in hex (credentials/tokens.py), printed alone on an indented line
# of the first-start banner. (Their SHA-256 hashes look the same, so the line shape matters.)
TOKEN_LINE_RE = re.compile(r"^ +([0-9a-f]{64})$", re.MULTILINE)


def printed_tokens(text: str) -> list[str]:
    """Tokens printed the way the first-start banner prints one."""
    return TOKEN_LINE_RE.findall(text)


def first_start_token(stderr: str) -> str:
    """The one token a first start printed; fails when there is none or more than one."""
    tokens = printed_tokens(stderr)
    assert len(tokens) == 1, f"expected one token on stderr, found {len(tokens)}:\n{stderr}"
    return tokens[0]


def dovecot_account(dovecot: Dovecot, user: ImapUser, account: str | None = None) -> dict[str, Any]:
    """The POST /v1/account body for `user` on the test Dovecot (plain text, no STARTTLS)."""
    imap = dovecot.account_settings(user)
    imap["starttls"] = "never"
    return {"account": account or user.name, "name": f"E2E {user.name}", "imap": imap}


def wait_state(
    client: httpx.Client, account: str, state: str, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/v1/account/{account}")
        body = response.json()
        if body.get("state") == state:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{account} never reached {state} within {timeout} s: {body}")


def register(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/v1/account", json=body)
    assert response.status_code == 200, response.text
