"""`imapapi serve`: run the service until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import resource
import signal
import sys

from imapapi.cli.base import Subparsers, settings_of
from imapapi.config import Settings

log = logging.getLogger("imapapi")


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common], help="run the service")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 3000)")
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="serve the API without tokens (local development only)",
    )
    serve.set_defaults(func=_serve_command)


def setup_logging(level: str) -> None:
    """JSON lines on stderr, credentials masked (see logs.py)."""
    from imapapi.logs import configure

    configure(level)


def raise_file_limit() -> int:
    """Raise the soft limit of open files to the hard limit; returns the soft limit now.

    Every account keeps a socket open (its primary connection, plus command connections while
    API calls run): the common default soft limit of 1,024 would refuse connections long
    before the thousands of accounts one process serves. Raising the soft limit up to the
    hard one needs no privilege."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:  # e.g. an infinite hard limit the OS caps
            log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
    return soft


def _serve_command(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    setup_logging(settings.log_level)
    files = raise_file_limit()
    log.info("open-file limit %s", "unlimited" if files == resource.RLIM_INFINITY else files)
    asyncio.run(_serve(settings))
    return 0


# Objects allocated between two young collections (the interpreter's default: 700). Under a
# webhook burst every message makes dozens of short-lived dicts and lists, most of them freed
# by reference counting; at 700 the collector ran ~300 times in a 10,000-event burst, and every
# tenth run walked the older generation too: 7 % of the service's CPU (issue 17). At 10,000
# it runs a fifteenth as often, the older generations nearly never; the garbage it leaves for
# later is at most that many objects.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Out of the collector's sight from now on: what start-up made (modules, the app, the
    stored accounts' sessions) lives as long as the process, and every full collection walked
    it again (issue 17: a tenth of a second each under a webhook burst). And the collector
    runs less often (`YOUNG_COLLECTION_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


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
    settle_heap()
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
