"""`imapapi token create|list|revoke`: API tokens, straight in the store. A running service
keeps token records in memory for `token_cache_seconds` (credentials/tokens.py): a new token
works at once; a revoke applies at once on the Redis store (it is announced to every node) and
within that time on SQLite."""

from __future__ import annotations

import argparse
import re
import sys
import time

from imapapi.api.schemas.common import ACCOUNT_ID_PATTERN
from imapapi.cli.base import Refused, Subparsers, command_group, json_option, run_with_store
from imapapi.cli.output import print_json, print_table, relative
from imapapi.credentials.tokens import DEFAULT_SCOPES, SCOPES, create_token
from imapapi.events.model import format_date
from imapapi.store.base import Store, TokenRecord

_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    token = command_group(sub, "token", "manage API tokens")
    create = token.add_parser("create", parents=[common], help="create a token and print it")
    create.add_argument("--description", help="what the token is for")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="what the token may use, repeatable: read (accounts, folders, messages, search), "
        "send (submit, outbox), write (flags, move, delete, upload, folders, account "
        "settings), admin (all of /v1 and the web pages; the default), metrics (/metrics)",
    )
    create.add_argument(
        "--account",
        action="append",
        type=_account_id,
        help="bind the token to this account id, repeatable: any other account answers 404 "
        "to it, and admin routes are refused; without it, every account",
    )
    create.set_defaults(func=_create)
    listing = token.add_parser("list", parents=[common], help="list tokens with their scopes")
    json_option(listing)
    listing.set_defaults(func=_list)
    revoke = token.add_parser("revoke", parents=[common], help="revoke a token by id")
    revoke.add_argument("id")
    revoke.set_defaults(func=_revoke)


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.fullmatch(value):
        # argparse names the option: "argument --account: not an account id: …"
        raise argparse.ArgumentTypeError(
            f"not an account id: {value!r} (1 to 128 of A-Z a-z 0-9 . _ @ + -, starting with "
            "a letter or digit)"
        )
    return value


def _create(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        scopes = tuple(dict.fromkeys(args.scope or DEFAULT_SCOPES))
        accounts = tuple(dict.fromkeys(args.account or ()))
        record, token = await create_token(store, args.description or "", scopes, accounts)
        print(token)
        print(
            f"token id {record.id} created (scopes {', '.join(scopes)}; accounts "
            f"{', '.join(accounts) or 'all'}); the token is shown only now",
            file=sys.stderr,
        )
        return 0

    # Creating the first token is a setup step, possibly before the first `serve`.
    return run_with_store(args, action, create=True)


def _state(record: TokenRecord) -> str:
    return "revoked" if record.revoked is not None else "active"


def _list(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        tokens = await store.list_tokens()
        if args.json:
            print_json(
                [
                    {
                        "id": t.id,
                        "description": t.description,
                        "scopes": list(t.scopes),
                        "accounts": list(t.accounts),
                        "state": _state(t),
                        "created": format_date(t.created),
                        "revoked": format_date(t.revoked) if t.revoked is not None else None,
                    }
                    for t in tokens
                ]
            )
            return 0
        print_table(
            ["ID", "STATE", "SCOPES", "ACCOUNTS", "CREATED", "DESCRIPTION"],
            [
                [
                    t.id,
                    _state(t),
                    ",".join(t.scopes),
                    ",".join(t.accounts) or "all",
                    relative(t.created),
                    t.description,
                ]
                for t in tokens
            ],
        )
        return 0

    return run_with_store(args, action)


def _revoke(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        if await store.revoke_token(args.id, time.time()):
            print(f"token {args.id} revoked")
            return 0
        raise Refused(f"no active token with id {args.id}")

    return run_with_store(args, action)
