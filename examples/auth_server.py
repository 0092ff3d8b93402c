"""An example auth server for imapapi's `useAuthServer` accounts (README "Using OAuth2").

imapapi asks it for credentials before every IMAP or SMTP login of such an account:

    GET /auth?account=<id>&proto=imap|smtp
    X-Imapapi-Signature: sha256=<hex HMAC-SHA256 of "account=<id>&proto=<proto>">

The HMAC key is imapapi's service secret (the `serviceSecret` setting, the same key that signs
webhooks); the signed text is the query string exactly as imapapi builds it (form-urlencoded,
`account` first). Requests without a valid signature get 403, so nobody else can read tokens.

This example answers from a JSON file of accounts:

    {
      "example":  {"user": "myuser@gmail.com", "accessToken": "ya29.a0…", "expires": 1767225600},
      "password": {"user": "someone@example.com", "pass": "verysecret"},
      "split":    {"imap": {"user": "a@example.com", "accessToken": "…"},
                   "smtp": {"user": "a@example.com", "pass": "…"}}
    }

A real one would keep each user's OAuth2 refresh token and, when the access token is about to
expire, get a new one from the provider (Google: POST https://oauth2.googleapis.com/token with
grant_type=refresh_token), then answer `{"user", "accessToken", "expires"}`. imapapi caches the
answer until `expires` (Unix seconds or ISO 8601; 5 minutes when absent) or until the mail
server refuses the token, and then asks again once before giving up.

Run:  python examples/auth_server.py --accounts accounts.json --secret "$SERVICE_SECRET"
Then set `authServer` to http://127.0.0.1:3080/auth in imapapi's settings.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

log = logging.getLogger("auth_server")

SIGNATURE_HEADER = "X-Imapapi-Signature"
ACCOUNTS: web.AppKey[dict[str, Any]] = web.AppKey("accounts", dict)
SECRET: web.AppKey[str | None] = web.AppKey("secret", str)


def expected_signature(account: str, proto: str, secret: str) -> str:
    """What imapapi sends: HMAC-SHA256 of the form-urlencoded "account=…&proto=…"."""
    query = urlencode({"account": account, "proto": proto})
    return "sha256=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def credentials_for(accounts: dict[str, Any], account: str, proto: str) -> dict[str, Any] | None:
    """The answer for one account and protocol: a per-protocol entry wins over a shared one."""
    entry = accounts.get(account)
    if not isinstance(entry, dict):
        return None
    specific = entry.get(proto)
    found = specific if isinstance(specific, dict) else entry
    if "user" not in found or not ("accessToken" in found or "pass" in found):
        return None
    return {k: found[k] for k in ("user", "accessToken", "pass", "expires") if k in found}


async def handle_auth(request: web.Request) -> web.Response:
    account = request.query.get("account", "")
    proto = request.query.get("proto", "")
    if not account or proto not in ("imap", "smtp"):
        return web.json_response({"error": "account and proto=imap|smtp are required"}, status=400)
    secret = request.app[SECRET]
    if secret is not None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given, expected_signature(account, proto, secret)):
            log.warning("refused an unsigned or badly signed request for %s/%s", account, proto)
            return web.json_response({"error": "bad signature"}, status=403)
    found = credentials_for(request.app[ACCOUNTS], account, proto)
    if found is None:
        return web.json_response({"error": "unknown account"}, status=404)
    # Log who asked, never what was answered.
    log.info(
        "credentials for %s/%s (%s)",
        account,
        proto,
        "token" if "accessToken" in found else "password",
    )
    return web.json_response(found)


def make_app(accounts: dict[str, Any], secret: str | None) -> web.Application:
    """The auth server as an aiohttp application; `accounts` may be changed while it runs."""
    app = web.Application()
    app[ACCOUNTS] = accounts
    app[SECRET] = secret
    app.router.add_get("/auth", handle_auth)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=Path, required=True, help="JSON file of accounts")
    parser.add_argument("--secret", help="imapapi's service secret (omit: accept unsigned)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3080)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    accounts = json.loads(args.accounts.read_text())
    if not args.secret:
        log.warning("no --secret: any local process can read these credentials")
    web.run_app(make_app(accounts, args.secret), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
