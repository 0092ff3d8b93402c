"""Every change, exactly: a short consistency soak on each IMAP server of the harness.

Plain IMAP clients make seeded random changes (APPEND bursts, flag changes, expunges, moves,
new folders) in a few accounts at once; once the service is quiet, the webhooks it sent are
replayed into a model that must equal what the server holds. `IMAPAPI_SOAK_SEED` replays a
seed a failure printed; the long version is `./scripts/bench --only soak`.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.integration.backends import StoreBackend
from tests.integration.conftest import running_api
from tests.servers.mailserver import MailServer
from tests.servers.webhooks import WebhookReceiver
from tests.soak.runner import render, run_soak

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
# (server, store) → (accounts, operations). Dovecot on SQLite gets a burst big enough to have
# shown the lost notifications of issue 14 in most runs (40 accounts, 1,000 operations: about
# 12 s); the store is not what differs between servers, so the others soak briefly, Cyrus and
# Courier on one.
SIZES = {
    ("dovecot", "sqlite"): (40, 1000),
    ("dovecot", "redis"): (3, 80),
    ("cyrus", "sqlite"): (3, 80),
    ("courier", "sqlite"): (3, 80),
}
# Short, so a server without NOTIFY is seen to settle in seconds (the default is 30 s).
POLL_INTERVAL = 0.5
# The whole conversation of each account fits, so a difference comes with its evidence.
PROTOCOL_LOG_BYTES = 4 << 20


def soak_seed() -> int:
    value = os.environ.get("IMAPAPI_SOAK_SEED")
    return int(value) if value else random.SystemRandom().randrange(1 << 32)


@pytest.mark.parametrize(
    ("mail_server", "store_backend"),
    list(SIZES),
    indirect=True,
    ids=[f"{store}-{server}" for server, store in SIZES],
)
async def test_every_change_is_reported_exactly_once(
    tmp_path: Path,
    store_backend: StoreBackend,
    mail_server: MailServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    accounts, operations = SIZES[mail_server.kind, store_backend.name]
    seed = soak_seed()
    print(f"\nsoak seed {seed} ({mail_server.kind}, {store_backend.name})")
    async with running_api(
        tmp_path / "data",
        store_backend,
        status_poll_interval=POLL_INTERVAL,
        protocol_log_bytes=PROTOCOL_LOG_BYTES,
    ) as api:
        result = await run_soak(
            api,
            mail_server,
            webhook_receiver,
            accounts=accounts,
            operations=operations,
            seed=seed,
            poll_interval=POLL_INTERVAL,
            log_dir=tmp_path / "logs",
        )
    print(render([result]))
    print(result.summary())
    if not result.verdict.ok:
        print(result.evidence())
    assert result.settled, f"the service never went quiet (seed {seed})"
    assert result.executed == operations
    assert result.counts == dict.fromkeys(result.counts, 0), (
        f"seed {seed}: {result.counts}\n{result.evidence()}"
    )
