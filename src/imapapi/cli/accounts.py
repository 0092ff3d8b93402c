"""`imapapi account add|show|list|delete|reconnect`, through the running service's API (why:
see cli/remote.py). `add` validates with the API's own request model before sending."""

from __future__ import annotations

import argparse
import getpass
import sys
import urllib.parse
from typing import Any

from pydantic import ValidationError

from imapapi.accounts.model import AccountState
from imapapi.api.schemas.accounts import AccountCreate
from imapapi.cli.base import (
    ConfigError,
    Refused,
    Subparsers,
    command_group,
    common_options,
    json_option,
)
from imapapi.cli.output import print_fields, print_json, print_table, relative, when
from imapapi.cli.remote import Api, path_part, remote_options
from imapapi.servers import StartTls

PAGE_SIZE = 1000  # the API's largest page


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    common = common_options(data_dir=False)  # these talk to the API, never to the data dir
    account = command_group(sub, "account", "accounts and their connection state")

    add = account.add_parser(
        "add",
        parents=[common],
        help="register an account (the password is asked, or read with --password-stdin)",
    )
    add.add_argument("account", help="your id for the account")
    add.add_argument("--name")
    add.add_argument("--email", help="the account's own address (default sender)")
    add.add_argument("--notify-from", help="ISO 8601 time: older mail found at first sync is new")
    for proto in ("imap", "smtp"):
        _server_options(add, proto)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the IMAP password from the first line of stdin, the SMTP one from the "
        "second (default: the IMAP one)",
    )
    add.add_argument(
        "--replace", action="store_true", help="overwrite the settings of an existing account"
    )
    remote_options(add)
    add.set_defaults(func=_add)

    show = account.add_parser("show", parents=[common], help="settings and connection state")
    show.add_argument("account")
    json_option(show)
    remote_options(show)
    show.set_defaults(func=_show)

    listing = account.add_parser("list", parents=[common], help="accounts with their state")
    listing.add_argument("--state", choices=[s.value for s in AccountState])
    json_option(listing)
    remote_options(listing)
    listing.set_defaults(func=_list)

    delete = account.add_parser(
        "delete", parents=[common], help="stop syncing and forget an account"
    )
    delete.add_argument("account")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remote_options(delete)
    delete.set_defaults(func=_delete)

    reconnect = account.add_parser(
        "reconnect", parents=[common], help="drop and reopen the IMAP connection now"
    )
    reconnect.add_argument("account")
    remote_options(reconnect)
    reconnect.set_defaults(func=_reconnect)


def _server_options(parser: argparse.ArgumentParser, proto: str) -> None:
    name = proto.upper()
    group = parser.add_argument_group(f"{name} server" + (" (optional)" if proto == "smtp" else ""))
    group.add_argument(f"--{proto}-host")
    group.add_argument(f"--{proto}-port", type=int)
    group.add_argument(f"--{proto}-user", help="login name; the password is never an argument")
    group.add_argument(f"--{proto}-secure", action="store_true", help="implicit TLS")
    group.add_argument(
        f"--{proto}-starttls",
        choices=[s.value for s in StartTls],
        help="on a plain connection: upgrade when offered (auto), insist, or never",
    )
    group.add_argument(
        f"--{proto}-no-verify",
        action="store_true",
        help="accept a certificate that does not verify (self-signed)",
    )
    group.add_argument(
        f"--{proto}-auth-server",
        action="store_true",
        help="ask the configured auth server for credentials",
    )


# -- add ------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> int:
    passwords = _passwords(args)
    given = {"name": args.name, "email": args.email, "notifyFrom": args.notify_from}
    body: dict[str, Any] = {"account": args.account}
    body.update((key, value) for key, value in given.items() if value is not None)
    body["imap"] = _server(args, "imap", passwords[0])
    if any(getattr(args, f"smtp_{option}") for option in _SERVER_OPTIONS):
        body["smtp"] = _server(args, "smtp", passwords[1])
    try:
        request = AccountCreate.model_validate(body)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc

    api = Api(args)
    if not args.replace and _exists(api, args.account):
        raise Refused(f"account {args.account!r} exists; --replace overwrites its settings")
    answer = api.call(
        "POST", "/v1/account", request.model_dump(mode="json", by_alias=True, exclude_none=True)
    )
    verb = "created" if answer.get("created") else "updated"
    print(f"account {answer['account']} {verb}, state {answer['state']}")
    return 0


_SERVER_OPTIONS = ("host", "port", "user", "secure", "starttls", "no_verify", "auth_server")


def _server(args: argparse.Namespace, proto: str, password: str | None) -> dict[str, Any]:
    def arg(name: str) -> Any:
        return getattr(args, f"{proto}_{name}")

    server: dict[str, Any] = {"secure": arg("secure")}
    for name in ("host", "port"):
        if arg(name) is not None:  # left out, so a missing one is reported as required
            server[name] = arg(name)
    if arg("starttls"):
        server["starttls"] = arg("starttls")
    if arg("no_verify"):
        server["tls"] = {"rejectUnauthorized": False}
    if arg("auth_server"):
        server["useAuthServer"] = True
    if arg("user") is not None:
        server["auth"] = {"user": arg("user")}
        if password is not None:
            server["auth"]["pass"] = password
    return server


def _passwords(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(IMAP, SMTP) passwords for the given users: from stdin, else asked on the terminal.
    Never an argument: other users of the machine can read arguments in the process list."""
    wanted = [args.imap_user is not None, args.smtp_user is not None]
    if not any(wanted):
        return None, None
    if args.password_stdin:
        lines = iter(sys.stdin.read().splitlines())
        imap = next(lines, None) if wanted[0] else None
        return imap, (next(lines, "") or imap) if wanted[1] else None
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask the password on: use --password-stdin")
    imap = getpass.getpass(f"IMAP password for {args.imap_user}: ") if wanted[0] else None
    smtp = None
    if wanted[1]:
        prompt = f"SMTP password for {args.smtp_user}"
        smtp = getpass.getpass(prompt + (" (Enter: the IMAP one): " if imap else ": ")) or imap
    return imap, smtp


# Request fields named by the options a user typed.
_OPTION_OF = {
    "auth.user": "user",
    "tls.rejectUnauthorized": "no-verify",
    "useAuthServer": "auth-server",
}


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = ".".join(loc) or "account"
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if loc and loc[0] in ("imap", "smtp"):
            rest = ".".join(loc[1:])
            if rest == "auth.pass":
                option = f"the {loc[0].upper()} password"
            else:
                option = f"--{loc[0]}-{_OPTION_OF.get(rest, rest)}" if rest else f"--{loc[0]}-*"
        elif loc:
            option = {"account": "ACCOUNT", "notifyFrom": "--notify-from"}.get(loc[0], f"--{field}")
        else:
            option = "ACCOUNT"
        problems.append(f"{field} ({option}): {reason}")
    return "invalid account: " + "; ".join(problems)


def _exists(api: Api, account: str) -> bool:
    try:
        api.call("GET", f"/v1/account/{path_part(account)}")
    except Refused:
        return False
    return True


# -- show, list -----------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    found = Api(args).call("GET", f"/v1/account/{path_part(args.account)}")
    if args.json:
        print_json(found)
        return 0
    print_fields(
        [
            ("account", found["account"]),
            ("name", found.get("name")),
            ("email", found.get("email")),
            ("state", found["state"]),
            ("last error", found.get("lastError")),
            ("failed attempts", found.get("attempts")),
            ("next attempt", when(found.get("nextAttempt"))),
            ("imap", _server_text(found["imap"])),
            ("smtp", _server_text(found.get("smtp"))),
            ("notify from", found.get("notifyFrom")),
            ("created", when(found.get("created"))),
            ("updated", when(found.get("updated"))),
        ]
    )
    return 0


def _server_text(server: dict[str, Any] | None) -> str | None:
    if not server:
        return None
    tls = "TLS" if server["secure"] else f"STARTTLS {server['starttls']}"
    if not server["tls"]["rejectUnauthorized"]:
        tls += ", certificate not verified"
    if server.get("useAuthServer"):
        login = "login from the auth server"
    elif server.get("auth"):
        login = f"user {server['auth']['user']}"
    else:
        login = "no login"
    return f"{server['host']}:{server['port']} ({tls}; {login})"


def _list(args: argparse.Namespace) -> int:
    api = Api(args)
    accounts: list[dict[str, Any]] = []
    page = 0
    while True:
        query: dict[str, Any] = {"page": page, "pageSize": PAGE_SIZE}
        if args.state:
            query["state"] = args.state
        answer = api.call("GET", "/v1/accounts?" + urllib.parse.urlencode(query))
        accounts.extend(answer["accounts"])
        page += 1
        if page >= answer["pages"]:
            break
    if args.json:
        print_json(accounts)
        return 0
    print_table(
        ["ACCOUNT", "NAME", "STATE", "FAILED", "NEXT ATTEMPT", "LAST ERROR"],
        [
            [
                a["account"],
                a.get("name"),
                a["state"],
                a.get("attempts") or None,
                relative(a.get("nextAttempt")),
                a.get("lastError"),
            ]
            for a in accounts
        ],
    )
    return 0


# -- delete, reconnect ----------------------------------------------------------------------


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("not deleting without confirmation: add --yes")
        reply = input(f"Delete account {args.account} and its sync state? [y/N] ")
        if reply.strip().lower() not in ("y", "yes"):
            print("not deleted", file=sys.stderr)
            return 1
    Api(args).call("DELETE", f"/v1/account/{path_part(args.account)}")
    print(f"account {args.account} deleted")
    return 0


def _reconnect(args: argparse.Namespace) -> int:
    Api(args).call("PUT", f"/v1/account/{path_part(args.account)}/reconnect")
    print(f"account {args.account} reconnecting")
    return 0
