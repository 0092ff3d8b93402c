"""The running service's REST API, for the commands that need the live service.

An account's connection state, last error and next attempt live in the memory of the process
that runs its session (the SQLite store keeps none of it), and only that process can reconnect
an account or start and stop syncing one. So the `account` commands ask the service over HTTP,
as any API client would, instead of opening the store; they get the API's validation, and a
cluster's status, for free."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from imapapi.cli.base import ConfigError, Refused, settings_of

URL_ENV = "IMAPAPI_URL"
TOKEN_ENV = "IMAPAPI_TOKEN"  # noqa: S105 (the variable's name, not a token)
TIMEOUT = 30.0
# Answers that mean "that account/message does not exist or cannot change now": exit 1.
_REFUSALS = {404, 409}


def remote_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        help=f"the service's address (or ${URL_ENV}; default: http://HOST:PORT from the settings)",
    )
    parser.add_argument(
        "--token",
        help=f"API token (better: ${TOKEN_ENV}, which other users cannot see in the process list)",
    )


def base_url(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get(URL_ENV)
    if url:
        # Only HTTP(S): urllib would also open file: and ftp: addresses.
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"--url {url}: must start with http:// or https://")
        return str(url).rstrip("/")
    settings = settings_of(args)
    host = settings.host
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(host)
        if address.is_unspecified:  # listening on every address: reach it on loopback
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        host = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{host}:{settings.port}"


def path_part(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class Api:
    """One service, one token; every call returns the decoded JSON answer or raises
    `ConfigError` (cannot reach or use the service) or `Refused` (404/409)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.url = base_url(args)
        self.token = args.token or os.environ.get(TOKEN_ENV) or None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # The scheme is http or https (checked in base_url).
        request = urllib.request.Request(self.url + path, data, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise self._error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConfigError(
                f"no imapapi service answers at {self.url} ({reason}): is it running? "
                f"(--url or ${URL_ENV})"
            ) from exc

    def _error(self, exc: urllib.error.HTTPError) -> Exception:
        try:
            message = str(json.loads(exc.read()).get("error") or exc.reason)
        except (ValueError, AttributeError):
            message = str(exc.reason)
        if exc.code == 401:
            return ConfigError(
                f"{message} (set ${TOKEN_ENV} or --token; 'imapapi token create' makes one)"
            )
        if exc.code in _REFUSALS:
            return Refused(message)
        return ConfigError(f"the service answered {exc.code}: {message}")
