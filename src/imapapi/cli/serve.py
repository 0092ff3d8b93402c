"""Command line: `imapapi serve`, `token create|list|revoke`, `password set|clear`,
`account list`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from imapapi import __version__
from imapapi.config import CONFIG_ENV, Settings, load_settings
from imapapi.errors import ImapApiError

log = logging.getLogger("imapapi")


class ConfigError(Exception):
    """The settings cannot be used; the message is one line for the terminal."""


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "config", None):
        os.environ[CONFIG_ENV] = str(args.config)
    path = os.environ.get(CONFIG_ENV)
    if path and not Path(path).is_file():
        # pydantic-settings ignores a missing TOML file; a typo must not pass unnoticed.
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        return load_settings(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=getattr(args, "data_dir", None),
            insecure=True if getattr(args, "insecure", False) else None,
            log_level=getattr(args, "log_level", None),
        )
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path}: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    """`port (IMAPAPI_PORT): Input should be less than or equal to 65535; …` on one line."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())) or "settings"
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{name} (IMAPAPI_{name.upper()}): {reason}")
    return "invalid configuration: " + "; ".join(problems)


def setup_logging(level: str) -> None:
    """JSON lines on stderr, credentials masked (see logs.py)."""
    from imapapi.logs import configure

    configure(level)


async def _serve(settings: Settings) -> None:
    import uvicorn

    from imapapi.service import Service
    from imapapi.web import create_app

    # SIGTERM/SIGINT are a request to shut down cleanly: stop serving, then stop the service
    # (sessions log out, the dispatcher settles, the store closes) and exit 0. uvicorn listens
    # for them only while it serves, and afterwards re-raises what it caught into the handler
    # it found installed: with the default one, SIGTERM would kill the process before
    # `service.stop()` runs. This handler makes that re-raise harmless, and also covers a
    # signal that arrives before uvicorn took over (during `service.start()`).
    stop_requested: list[int] = []
    server: uvicorn.Server | None = None

    def request_stop(signum: int, frame: object) -> None:
        stop_requested.append(signum)
        if server is not None:
            server.should_exit = True

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)

    service = Service.create(settings)
    app = create_app(service, manage_lifespan=False)
    await service.start()
    try:
        token = await service.first_start_token()
        if token:
            # Printed to the terminal once, never logged: the store keeps only its hash.
            print(
                "\nNo API token existed, so one was created. It is shown only this once:\n\n"
                f"    {token}\n\nSend it as 'Authorization: Bearer <token>'. Create more with "
                "'imapapi token create'.\n",
                file=sys.stderr,
                flush=True,
            )
        if settings.insecure:
            log.warning("insecure mode: the API accepts requests without a token")
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            lifespan="on",
            server_header=False,
            log_config=None,  # uvicorn's loggers go through our JSON handler (setup_logging)
        )
        server = uvicorn.Server(config)
        if not stop_requested:
            await server.serve()
    finally:
        await service.stop()


async def _with_store(settings: Settings, action: Callable[[Any], Awaitable[int]]) -> int:
    from imapapi.service import open_store

    store = open_store(settings)
    await store.open()
    try:
        return await action(store)
    finally:
        await store.close()


def _cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    setup_logging(settings.log_level)
    asyncio.run(_serve(settings))
    return 0


def _cmd_token_create(args: argparse.Namespace) -> int:
    from imapapi.credentials.tokens import create_token

    async def action(store: Any) -> int:
        scopes = tuple(dict.fromkeys(args.scope or ["api"]))
        record, token = await create_token(store, args.description or "", scopes)
        print(token)
        print(f"token id {record.id} created; the token is shown only now", file=sys.stderr)
        return 0

    return asyncio.run(_with_store(_settings(args), action))


def _cmd_token_list(args: argparse.Namespace) -> int:
    async def action(store: Any) -> int:
        for t in await store.list_tokens():
            state = "revoked" if t.revoked else "active"
            created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t.created))
            print(f"{t.id}\t{state}\t{created}Z\t{t.description}")
        return 0

    return asyncio.run(_with_store(_settings(args), action))


def _cmd_token_revoke(args: argparse.Namespace) -> int:
    async def action(store: Any) -> int:
        if await store.revoke_token(args.id, time.time()):
            print(f"token {args.id} revoked")
            return 0
        print(f"no active token with id {args.id}", file=sys.stderr)
        return 1

    return asyncio.run(_with_store(_settings(args), action))


def _read_new_password() -> str:
    """From the terminal (asked twice, not echoed) or, when piped, the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("New admin password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise ConfigError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_password_set(args: argparse.Namespace) -> int:
    from imapapi.ui.password import PASSWORD_SETTING, hash_password
    from imapapi.ui.session import KEY_SETTING

    settings = _settings(args)
    try:
        hashed = hash_password(_read_new_password())
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc

    async def action(store: Any) -> int:
        # Dropping the session key signs every web session out: the old password's are void.
        await store.update_settings({PASSWORD_SETTING: hashed, KEY_SETTING: None})
        print("admin password set; web sessions signed out", file=sys.stderr)
        return 0

    return asyncio.run(_with_store(settings, action))


def _cmd_password_clear(args: argparse.Namespace) -> int:
    from imapapi.ui.password import PASSWORD_SETTING
    from imapapi.ui.session import KEY_SETTING

    async def action(store: Any) -> int:
        await store.update_settings({PASSWORD_SETTING: None, KEY_SETTING: None})
        print("admin password removed; sign in to the web pages with an API token", file=sys.stderr)
        return 0

    return asyncio.run(_with_store(_settings(args), action))


def _cmd_account_list(args: argparse.Namespace) -> int:
    async def action(store: Any) -> int:
        for record in await store.list_accounts():
            imap = record.data.get("imap", {})
            print(
                json.dumps(
                    {
                        "account": record.account,
                        "name": record.data.get("name"),
                        "imap": f"{imap.get('host')}:{imap.get('port')}",
                    },
                    ensure_ascii=False,
                )
            )
        return 0

    return asyncio.run(_with_store(_settings(args), action))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imapapi", description=__doc__)
    parser.add_argument("--version", action="version", version=f"imapapi {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help=f"TOML settings file (or ${CONFIG_ENV})")
    common.add_argument("--data-dir", type=Path, help="directory of the database and key file")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the service")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 3000)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="serve the API without tokens (local development only)",
    )
    serve.set_defaults(func=_cmd_serve)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(
        dest="token_command", required=True
    )
    create = token.add_parser("create", parents=[common], help="create a token and print it")
    create.add_argument("--description", help="what the token is for")
    create.add_argument(
        "--scope",
        action="append",
        choices=["api", "metrics"],
        help="what the token may use: api (/v1 and the web pages, the default) or metrics "
        "(only /metrics); repeat for both",
    )
    create.set_defaults(func=_cmd_token_create)
    token.add_parser("list", parents=[common], help="list tokens").set_defaults(
        func=_cmd_token_list
    )
    revoke = token.add_parser("revoke", parents=[common], help="revoke a token by id")
    revoke.add_argument("id")
    revoke.set_defaults(func=_cmd_token_revoke)

    password = sub.add_parser("password", help="the admin password of the web pages")
    password_sub = password.add_subparsers(dest="password_command", required=True)
    password_sub.add_parser(
        "set", parents=[common], help="set it (asked on the terminal, or one line on stdin)"
    ).set_defaults(func=_cmd_password_set)
    password_sub.add_parser("clear", parents=[common], help="remove it").set_defaults(
        func=_cmd_password_clear
    )

    account = sub.add_parser("account", help="inspect accounts").add_subparsers(
        dest="account_command", required=True
    )
    account.add_parser("list", parents=[common], help="list accounts").set_defaults(
        func=_cmd_account_list
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except ImapApiError as exc:
        print(f"imapapi: {exc.message}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"imapapi: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
