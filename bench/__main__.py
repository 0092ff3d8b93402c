"""`python -m bench [--accounts N] [--messages N] [--quick]`: see bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bench.run import Options, run

ALL = ("index", "list", "connect", "latency")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small numbers, about a minute")
    parser.add_argument("--accounts", type=int, help="accounts to connect (1,000; quick: 50)")
    parser.add_argument(
        "--messages", type=int, help="messages in the big INBOX (20,000; quick: 2,000)"
    )
    parser.add_argument("--samples", type=int, help="latency samples per folder (50; quick: 10)")
    parser.add_argument("--repeat", type=int, help="registrations timed for index (3; quick: 1)")
    parser.add_argument("--only", choices=ALL, action="append", help="run only these (repeatable)")
    parser.add_argument("--profile", type=Path, help="write pyinstrument reports next to PATH")
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
    )
    if opts.accounts < 1 or opts.messages < 1 or opts.samples < 1 or opts.repeat < 1:
        parser.error("counts must be positive")
    return asyncio.run(run(opts))


if __name__ == "__main__":
    sys.exit(main())
