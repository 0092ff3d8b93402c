"""`imapapi oauth2 app add|list|delete` and `imapapi oauth2 connect-url`, through the running
service's API (why: see cli/remote.py). `app add` validates with the API's own request model
before sending; the client secret is read from stdin or asked, never an argument (other users
of the machine can read arguments in the process list)."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from typing import Any

from pydantic import ValidationError

from imapapi.api.schemas.oauth2 import AppCreate, ConnectIn
from imapapi.cli.base import ConfigError, Subparsers, command_group, common_options, json_option
from imapapi.cli.output import print_json, print_table
from imapapi.cli.remote import Api, path_part, remote_options
from imapapi.credentials.oauth2_flow import Provider
from imapapi.servers import StartTls

# Text options of `app add` and the request fields they fill.
_APP_TEXT = {
    "name": "name",
    "client_id": "clientId",
    "tenant": "tenant",
    "issuer": "issuer",
    "authorization_url": "authorizationUrl",
    "token_url": "tokenUrl",
    "userinfo_url": "userinfoUrl",
    "redirect_url": "redirectUrl",
}


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    common = common_options(data_dir=False)  # these talk to the API, never to the data dir
    oauth2 = command_group(sub, "oauth2", "built-in OAuth2: apps and connect links")
    app = oauth2.add_parser("app", help="OAuth2 apps (Google, Microsoft, OpenID providers)")
    apps = app.add_subparsers(dest="app_command", required=True)

    add = apps.add_parser(
        "add",
        parents=[common],
        help="register an app (the client secret is asked, or read with --client-secret-stdin)",
    )
    add.add_argument("app", help="your id for the app")
    add.add_argument("--provider", required=True, choices=[p.value for p in Provider])
    add.add_argument("--client-id", required=True)
    add.add_argument(
        "--client-secret-stdin", action="store_true", help="read the secret from stdin"
    )
    add.add_argument("--name", help="shown on the hosted page's button (oidc)")
    add.add_argument(
        "--scope", action="append", help="a scope to ask for (repeatable; default by provider)"
    )
    add.add_argument("--tenant", help="microsoft: the directory (default common)")
    add.add_argument("--issuer", help="oidc: the issuer (discovery)")
    add.add_argument("--authorization-url", help="oidc without discovery")
    add.add_argument("--token-url", help="oidc without discovery")
    add.add_argument("--userinfo-url", help="oidc without discovery")
    add.add_argument("--redirect-url", help="the callback as registered at the provider")
    for proto in ("imap", "smtp"):
        group = add.add_argument_group(f"{proto.upper()} server (default by provider)")
        group.add_argument(f"--{proto}-host")
        group.add_argument(f"--{proto}-port", type=int)
        group.add_argument(f"--{proto}-secure", action="store_true", help="implicit TLS")
        group.add_argument(f"--{proto}-starttls", choices=[s.value for s in StartTls])
    remote_options(add)
    add.set_defaults(func=_add)

    listing = apps.add_parser("list", parents=[common], help="apps (never their secrets)")
    json_option(listing)
    remote_options(listing)
    listing.set_defaults(func=_list)

    delete = apps.add_parser("delete", parents=[common], help="delete an app no account uses")
    delete.add_argument("app")
    remote_options(delete)
    delete.set_defaults(func=_delete)

    link = oauth2.add_parser(
        "connect-url",
        parents=[common],
        help='a link to the hosted "Connect your mailbox" page for an account',
    )
    link.add_argument("--account", required=True, help="the account the page registers")
    link.add_argument("--redirect", required=True, help="where the browser goes afterwards")
    link.add_argument("--app", action="append", help="an app the page offers (default: all)")
    link.add_argument("--name", help="the account's display name")
    link.add_argument("--email", help="the address to fill in")
    link.add_argument("--expires-in", type=int, default=3600, help="seconds (default 3600)")
    remote_options(link)
    link.set_defaults(func=_connect_url)


# Request fields whose option is not named after them.
_APP_OPTIONS = {"id": "APP", "clientSecret": "the client secret", "scopes": "--scope"}
_LINK_OPTIONS = {"redirectUrl": "--redirect", "apps": "--app"}


def _option(loc: list[str], named: dict[str, str]) -> str:
    """The option that set a field: `clientId` → `--client-id`, `imap.host` → `--imap-host`."""
    if loc[0] in named:
        return named[loc[0]]
    field = "-".join(loc[:2] if loc[0] in ("imap", "smtp") else loc[:1])
    return "--" + re.sub(r"(?<=[a-z])([A-Z])", r"-\1", field).lower()


def _validated(
    model: type[AppCreate] | type[ConnectIn],
    body: dict[str, Any],
    what: str,
    named: dict[str, str],
) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())] or ["id"]
            reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{'.'.join(loc)} ({_option(loc, named)}): {reason}")
        raise ConfigError(f"invalid {what}: " + "; ".join(problems)) from exc


def _server(args: argparse.Namespace, proto: str) -> dict[str, Any] | None:
    def arg(name: str) -> Any:
        return getattr(args, f"{proto}_{name}")

    if arg("host") is None:
        return None
    server = {"host": arg("host"), "secure": arg("secure")}
    if arg("port") is not None:  # left out, so a missing one is reported as required
        server["port"] = arg("port")
    if arg("starttls"):
        server["starttls"] = arg("starttls")
    return server


def _secret(args: argparse.Namespace) -> str:
    if args.client_secret_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask the client secret on: use --client-secret-stdin")
    return getpass.getpass(f"Client secret of {args.app}: ")


def _add(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"id": args.app, "provider": args.provider}
    body.update(
        (field, getattr(args, option))
        for option, field in _APP_TEXT.items()
        if getattr(args, option) is not None
    )
    if args.scope:
        body["scopes"] = args.scope
    for proto in ("imap", "smtp"):
        server = _server(args, proto)
        if server is not None:
            body[proto] = server
    body["clientSecret"] = _secret(args)
    request = _validated(AppCreate, body, "app", _APP_OPTIONS)
    answer = Api(args).call(
        "POST", "/v1/oauth2/apps", request.model_dump(mode="json", exclude_none=True)
    )
    print(f"OAuth2 app {answer['id']} created")
    return 0


def _host(server: dict[str, Any] | None) -> str | None:
    return f"{server['host']}:{server['port']}" if server else None


def _list(args: argparse.Namespace) -> int:
    apps = Api(args).call("GET", "/v1/oauth2/apps")["apps"]
    if args.json:
        print_json(apps)
        return 0
    print_table(
        ["APP", "NAME", "PROVIDER", "CLIENT ID", "IMAP", "SMTP"],
        [
            [a["id"], a["name"], a["provider"], a["clientId"], _host(a["imap"]), _host(a["smtp"])]
            for a in apps
        ],
    )
    return 0


def _delete(args: argparse.Namespace) -> int:
    Api(args).call("DELETE", f"/v1/oauth2/apps/{path_part(args.app)}")
    print(f"OAuth2 app {args.app} deleted")
    return 0


def _connect_url(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {
        "account": args.account,
        "redirectUrl": args.redirect,
        "expiresIn": args.expires_in,
    }
    given = {"apps": args.app, "name": args.name, "email": args.email}
    body.update((key, value) for key, value in given.items() if value is not None)
    request = _validated(ConnectIn, body, "link request", _LINK_OPTIONS)
    answer = Api(args).call(
        "POST", "/v1/oauth2/connect", request.model_dump(mode="json", exclude_none=True)
    )
    print(answer["url"])
    return 0
