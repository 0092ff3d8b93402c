"""`imapapi webhooks dead|replay`: dead letters, straight in the store. A running service
picks replayed events up within its dispatcher's poll interval (2 s)."""

from __future__ import annotations

import argparse
import sys
import time

from imapapi.api.schemas.webhooks import DeadEvent
from imapapi.cli.base import (
    ConfigError,
    Refused,
    Subparsers,
    command_group,
    json_option,
    run_with_store,
)
from imapapi.cli.output import print_json, print_table, relative
from imapapi.events.model import format_date
from imapapi.store.base import QueuedEvent, Store

PAGE_SIZE = 250


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    webhooks = command_group(sub, "webhooks", "events whose delivery failed")
    dead = webhooks.add_parser(
        "dead", parents=[common], help="list dead letters (delivery finally failed)"
    )
    json_option(dead)
    dead.set_defaults(func=_dead)
    replay = webhooks.add_parser(
        "replay", parents=[common], help="queue dead letters for delivery again"
    )
    replay.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    replay.add_argument("--all", action="store_true", help="every dead letter")
    replay.set_defaults(func=_replay)


def _dead(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        found: list[QueuedEvent] = []
        while True:
            page = await store.list_dead_events(len(found), PAGE_SIZE)
            found.extend(page.items)
            if not page.items or len(found) >= page.total:
                break
        if args.json:
            # The API's shape (GET /v1/webhooks/dead), plus when the event was made.
            print_json(
                [
                    {**DeadEvent.of(e).model_dump(mode="json"), "created": format_date(e.created)}
                    for e in found
                ]
            )
            return 0
        print_table(
            ["EVENT ID", "ACCOUNT", "EVENT", "ATTEMPTS", "CREATED", "LAST ERROR"],
            [
                [
                    e.event_id,
                    e.account,
                    e.payload.get("event"),
                    e.attempts,
                    relative(e.created),
                    e.last_error,
                ]
                for e in found
            ],
        )
        return 0

    return run_with_store(args, action)


def _replay(args: argparse.Namespace) -> int:
    if bool(args.event_ids) == args.all:
        raise ConfigError("give the event ids to replay, or --all")
    wanted = list(dict.fromkeys(args.event_ids)) or None

    async def action(store: Store) -> int:
        count = await store.replay_dead_events(wanted, time.time())
        print(f"{count} dead event(s) queued for delivery again", file=sys.stderr)
        if wanted is not None and count < len(wanted):
            raise Refused(f"{len(wanted) - count} of the given ids are not dead letters")
        return 0

    return run_with_store(args, action)
