"""`imapapi outbox list|cancel`: the submission queue, straight in the store (the sending
worker claims a message atomically, so a cancel here never races a send)."""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from imapapi.api.routes.outbox import entry
from imapapi.cli.base import ConfigError, Subparsers, command_group, json_option, run_with_store
from imapapi.cli.output import print_json, print_table, relative
from imapapi.sending.outbox import STATE_FILTERS, cancel, states_of
from imapapi.store.base import Store, Submission

PAGE_SIZE = 250
QUEUE_ID = re.compile(r"^[0-9a-f]{32}$")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    outbox = command_group(sub, "outbox", "messages queued for sending")
    listing = outbox.add_parser("list", parents=[common], help="queued messages (or outcomes)")
    listing.add_argument("--account", help="only this account")
    listing.add_argument(
        "--state",
        choices=STATE_FILTERS,
        default="pending",
        help="pending (queued or sending, the default), one state, or all",
    )
    json_option(listing)
    listing.set_defaults(func=_list)
    cancel_parser = outbox.add_parser(
        "cancel", parents=[common], help="cancel a queued message (not once sending started)"
    )
    cancel_parser.add_argument("queue_id", help="from the submit answer or the listing")
    cancel_parser.set_defaults(func=_cancel)


def _list(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        found: list[Submission] = []
        while True:
            page = await store.list_submissions(
                args.account, states_of(args.state), len(found), PAGE_SIZE
            )
            found.extend(page.items)
            if not page.items or len(found) >= page.total:
                break
        # The API's own shape, so a script can read either.
        entries: list[dict[str, Any]] = [
            entry(s).model_dump(mode="json", by_alias=True) for s in found
        ]
        if args.json:
            print_json(entries)
            return 0
        print_table(
            ["QUEUE ID", "ACCOUNT", "STATE", "SEND AT", "ATTEMPTS", "TO", "LAST RESPONSE"],
            [
                [
                    e["queueId"],
                    e["account"],
                    e["state"],
                    relative(e["sendAt"]),
                    e["attempts"],
                    ", ".join(e["envelope"]["to"]),
                    e["lastResponse"],
                ]
                for e in entries
            ],
        )
        return 0

    return run_with_store(args, action)


def _cancel(args: argparse.Namespace) -> int:
    if not QUEUE_ID.match(args.queue_id):
        raise ConfigError(f"queue id {args.queue_id!r}: must be 32 hexadecimal digits")

    async def action(store: Store) -> int:
        await cancel(store, args.queue_id, time.time())
        print(f"message {args.queue_id} cancelled")
        return 0

    return run_with_store(args, action)
