"""The `imapapi` command: its parser, assembled from one module per command group, and the
mapping of errors to one line on stderr and an exit code."""

from __future__ import annotations

import argparse
import sys

from imapapi import __version__
from imapapi.cli import accounts, oauth2, outbox, password, serve, tokens, webhooks
from imapapi.cli.base import REFUSED, UNUSABLE, ConfigError, Refused, common_options
from imapapi.errors import ConflictError, ImapApiError, NotFoundError

DESCRIPTION = """Run and operate imapapi. Commands that read or change the running service's
accounts talk to its API (--url, $IMAPAPI_TOKEN); the others open the store in the data dir."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imapapi", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"imapapi {__version__}")
    common = common_options()
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (serve, accounts, oauth2, tokens, outbox, webhooks, password):
        group.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
    except (Refused, NotFoundError, ConflictError) as exc:
        print(f"imapapi: {exc}", file=sys.stderr)
        return REFUSED
    except ImapApiError as exc:
        print(f"imapapi: {exc.message}", file=sys.stderr)
        return UNUSABLE
    except ConfigError as exc:
        print(f"imapapi: {exc}", file=sys.stderr)
        return UNUSABLE
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
