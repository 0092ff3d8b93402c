"""`imapapi password set|clear`: the admin password of the web pages."""

from __future__ import annotations

import argparse
import getpass
import sys

from imapapi.cli.base import ConfigError, Subparsers, command_group, run_with_store, settings_of
from imapapi.store.base import Store


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    password_sub = command_group(sub, "password", "the admin password of the web pages")
    password_sub.add_parser(
        "set", parents=[common], help="set it (asked on the terminal, or one line on stdin)"
    ).set_defaults(func=_set)
    password_sub.add_parser("clear", parents=[common], help="remove it").set_defaults(func=_clear)


def _read_new_password() -> str:
    """From the terminal (asked twice, not echoed) or, when piped, the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("New admin password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise ConfigError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _set(args: argparse.Namespace) -> int:
    from imapapi.ui.password import PASSWORD_SETTING, hash_password
    from imapapi.ui.session import KEY_SETTING

    settings_of(args)  # a configuration error shows before the password is asked
    try:
        hashed = hash_password(_read_new_password())
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc

    async def action(store: Store) -> int:
        # Dropping the session key signs every web session out: the old password's are void.
        await store.update_settings({PASSWORD_SETTING: hashed, KEY_SETTING: None})
        print("admin password set; web sessions signed out", file=sys.stderr)
        return 0

    # Setting the password is a setup step, possibly before the first `serve`.
    return run_with_store(args, action, create=True)


def _clear(args: argparse.Namespace) -> int:
    from imapapi.ui.password import PASSWORD_SETTING
    from imapapi.ui.session import KEY_SETTING

    async def action(store: Store) -> int:
        await store.update_settings({PASSWORD_SETTING: None, KEY_SETTING: None})
        print("admin password removed; sign in to the web pages with an API token", file=sys.stderr)
        return 0

    return run_with_store(args, action)
