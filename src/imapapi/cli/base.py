"""What every command shares: the settings, the store (refused when there is no database),
the exit codes and the shared options."""

from __future__ import annotations

import argparse
import asyncio
import os
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeAlias

from pydantic import ValidationError

from imapapi.config import CONFIG_ENV, Settings, load_settings
from imapapi.store.base import Store

# Exit codes, in the README: 1 = the thing asked for was refused (unknown id, a conflict),
# 2 = the command could not run (bad input or configuration, no database, no service).
REFUSED = 1
UNUSABLE = 2

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class ConfigError(Exception):
    """The command cannot run as asked; the message is one line for the terminal (exit 2)."""


class Refused(Exception):
    """What was asked for cannot be done (unknown id, wrong state); one line, exit 1."""


def common_options(*, data_dir: bool = True) -> argparse.ArgumentParser:
    """`--config` and (for commands that open the store) `--data-dir`: a parent parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help=f"TOML settings file (or ${CONFIG_ENV})")
    if data_dir:
        common.add_argument("--data-dir", type=Path, help="directory of the database and key file")
    return common


def command_group(sub: Subparsers, name: str, help: str) -> Subparsers:
    """`imapapi NAME …`: a command whose subcommands are required."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)


def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def settings_of(args: argparse.Namespace) -> Settings:
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
        raise ConfigError(describe_settings(exc)) from exc


def describe_settings(exc: ValidationError) -> str:
    """`port (IMAPAPI_PORT): Input should be less than or equal to 65535; …` on one line."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error.get("loc", ())) or "settings"
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{name} (IMAPAPI_{name.upper()}): {reason}")
    return "invalid configuration: " + "; ".join(problems)


def run_with_store(
    args: argparse.Namespace,
    action: Callable[[Store], Awaitable[int]],
    *,
    create: bool = False,
) -> int:
    """Open the configured store, run `action`, close it.

    Without `create`, a missing SQLite database is an error and nothing is written: opening it
    would create an empty one, and a listing of that (after a wrong --data-dir, say) would look
    like a service with nothing in it. Only `serve` and commands that make something (a token,
    the admin password) create the database. A Redis store has no such file to check."""
    from imapapi.service import open_store

    settings = settings_of(args)
    if not settings.redis_url and not create and not settings.database_path.is_file():
        raise ConfigError(
            f"no database at {settings.database_path}: check --data-dir or IMAPAPI_DATA_DIR "
            "('imapapi serve' creates it)"
        )
    store = open_store(settings)

    async def run() -> int:
        await store.open()
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())
