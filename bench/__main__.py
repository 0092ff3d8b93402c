"""`python -m bench [--accounts N] [--messages N] [--quick] [--only classify]`: see
bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bench import classify
from bench.replytext import run_replytext
from bench.run import Options, run
from bench.scale import DEFAULT_SIZES
from bench.soak import SERVERS, SoakOptions, run_soaks

ALL = ("index", "list", "connect", "latency", "webhooks", "scale")
# Selectable, not in the default run: soak takes minutes per server at its default size; the
# classifier corpus and the reply-text corpus need no server (seconds).
EXTRA = ("soak", "classify", "replytext")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small numbers, about a minute")
    parser.add_argument("--accounts", type=int, help="accounts to connect (1,000; quick: 50)")
    parser.add_argument(
        "--messages", type=int, help="messages in the big INBOX (20,000; quick: 2,000)"
    )
    parser.add_argument("--samples", type=int, help="latency samples per folder (50; quick: 10)")
    parser.add_argument(
        "--events", type=int, help="webhooks: messages appended (10,000; quick: 2,000)"
    )
    parser.add_argument("--repeat", type=int, help="registrations timed for index (3; quick: 1)")
    parser.add_argument(
        "--only", choices=ALL + EXTRA, action="append", help="run only these (repeatable)"
    )
    parser.add_argument(
        "--scale",
        type=int,
        action="append",
        help="scale: accounts per run (repeatable; 1,000, 5,000, 10,000; quick: --accounts)",
    )
    parser.add_argument("--profile", type=Path, help="write pyinstrument reports next to PATH")
    parser.add_argument(
        "--verbose", action="store_true", help="classify: list every message that misses"
    )
    soak = parser.add_argument_group("soak (--only soak; bench/README.md)")
    soak.add_argument("--soak-accounts", type=int, default=200, help="accounts (200)")
    soak.add_argument("--soak-ops", type=int, default=5000, help="operations per server (5,000)")
    soak.add_argument("--seed", type=int, help="replay this seed (default: a random one)")
    soak.add_argument(
        "--server", choices=(*SERVERS, "all"), default="all", help="servers to soak (all)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    opts = Options(
        accounts=args.accounts or (50 if quick else 1000),
        messages=args.messages or (2000 if quick else 20000),
        samples=args.samples or (10 if quick else 50),
        repeat=args.repeat or (1 if quick else 3),
        quick=quick,
        only=set(args.only or ALL),
        profile=args.profile,
        events=args.events or (2000 if quick else 10000),
        scale=tuple(args.scale or ((args.accounts or 50,) if quick else DEFAULT_SIZES)),
    )
    if min(opts.accounts, opts.messages, opts.samples, opts.repeat, opts.events, *opts.scale) < 1:
        parser.error("counts must be positive")
    if args.soak_accounts < 1 or args.soak_ops < 1:
        parser.error("counts must be positive")
    status = 0
    if "classify" in (args.only or ()):
        status = classify.run(verbose=args.verbose)
    if opts.only - set(EXTRA):
        opts.only -= set(EXTRA)
        status = asyncio.run(run(opts)) or status
    if "soak" in (args.only or ()):
        soak_opts = SoakOptions(
            accounts=args.soak_accounts,
            operations=args.soak_ops,
            seed=args.seed,
            servers=SERVERS if args.server == "all" else (args.server,),
        )
        status = asyncio.run(run_soaks(soak_opts)) or status
    if "replytext" in (args.only or ()):
        status = run_replytext() or status
    return status


if __name__ == "__main__":
    sys.exit(main())
