"""The operator commands of `imapapi` against a real service, store, Dovecot and webhook
receiver: accounts (through the API), the outbox, dead letters, and the refusal to run a
read-only command on a data dir without a database."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from imapapi.store.sqlite import SqliteStore
from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import dovecot_account, first_start_token, register, wait_state
from tests.servers.dovecot import Dovecot
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.service import ServiceProcess, base_env, imapapi_command, run_cli
from tests.servers.smtp import SmtpServer
from tests.servers.webhooks import WebhookReceiver


def cli(
    service: ServiceProcess, *args: str, token: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`imapapi ARGS` with the service's environment, the token in $IMAPAPI_TOKEN."""
    env = service.full_env()
    if token is not None:
        env["IMAPAPI_TOKEN"] = token
    return subprocess.run(
        [*imapapi_command(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def rows(stdout: str) -> list[list[str]]:
    """A table's lines split into cells (cells hold no double spaces), header first."""
    return [re.split(r" {2,}", line.strip()) for line in stdout.splitlines()]


def show(service: ServiceProcess, token: str, account: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(
        ok(cli(service, "account", "show", account, "--json", token=token))
    )
    return shown


def wait_shown(
    service: ServiceProcess, token: str, account: str, state: str, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        shown = show(service, token, account)
        if shown["state"] == state or time.monotonic() > deadline:
            assert shown["state"] == state, shown
            return shown
        time.sleep(0.2)


def metric(service: ServiceProcess, token: str, line_start: str) -> float:
    with service.client(token) as client:
        text = client.get("/metrics").text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_start))


# -- no database ----------------------------------------------------------------------------

READ_ONLY = [
    ("token", "list"),
    ("token", "revoke", "abc"),
    ("outbox", "list"),
    ("outbox", "cancel", "0" * 32),
    ("webhooks", "dead"),
    ("webhooks", "replay", "--all"),
    ("password", "clear"),
]


@pytest.mark.parametrize("command", READ_ONLY, ids=["-".join(c[:2]) for c in READ_ONLY])
@pytest.mark.parametrize("dir_exists", [False, True], ids=["no-dir", "empty-dir"])
def test_commands_that_only_use_the_database_refuse_when_there_is_none(
    tmp_path: Path, command: tuple[str, ...], dir_exists: bool
) -> None:
    data = tmp_path / "data"
    if dir_exists:
        data.mkdir()
    result = run_cli(*command, env=base_env({"IMAPAPI_DATA_DIR": str(data)}))
    assert result.returncode == 2, result
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert str(data / "imapapi.db") in line and "no database" in line
    # Nothing was created: not the directory, not a database file.
    if dir_exists:
        assert list(data.iterdir()) == []
    else:
        assert not data.exists()


def test_token_create_may_create_the_database(tmp_path: Path) -> None:
    env = base_env({"IMAPAPI_DATA_DIR": str(tmp_path / "new")})
    assert run_cli("token", "create", env=env).returncode == 0
    listed = run_cli("token", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [(t["scopes"], t["accounts"]) for t in json.loads(listed.stdout)] == [(["admin"], [])]


# -- accounts -------------------------------------------------------------------------------


def test_account_add_show_list_reconnect_delete_on_dovecot(
    service_factory: ServiceFactory, dovecot: Dovecot
) -> None:
    password = "cli-pass-5e2f"
    user = dovecot.add_user(password=password)
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    settings = dovecot.account_settings(user)
    add = [
        "account", "add", user.name, "--name", "CLI Account",
        "--email", f"{user.name}@example.test",
        "--imap-host", settings["host"], "--imap-port", str(settings["port"]),
        "--imap-user", user.name, "--imap-starttls", "never", "--password-stdin",
    ]  # fmt: skip

    # Without a token the service refuses, and the command says how to give one.
    anonymous = cli(service, *add, stdin=password + "\n")
    assert anonymous.returncode == 2 and "IMAPAPI_TOKEN" in anonymous.stderr

    added = cli(service, *add, token=token, stdin=password + "\n")
    assert ok(added).startswith(f"account {user.name} created")
    shown = wait_shown(service, token, user.name, "connected")
    assert (shown["name"], shown["imap"]["auth"], shown["lastError"]) == (
        "CLI Account",
        {"user": user.name},
        None,
    )

    human = ok(cli(service, "account", "show", user.name, token=token))
    fields = dict(line.split(None, 1) for line in human.splitlines() if " " in line)
    assert fields["state"] == "connected"
    assert f"{settings['host']}:{settings['port']}" in human and f"user {user.name}" in human
    assert password not in human + added.stdout + added.stderr

    table = rows(ok(cli(service, "account", "list", token=token)))
    assert table[0][:3] == ["ACCOUNT", "NAME", "STATE"]
    assert [user.name, "CLI Account", "connected"] in [r[:3] for r in table[1:]]
    listed = json.loads(ok(cli(service, "account", "list", "--json", token=token)))
    assert [(a["account"], a["state"]) for a in listed] == [(user.name, "connected")]
    only_errors = json.loads(
        ok(cli(service, "account", "list", "--state", "connectError", "--json", token=token))
    )
    assert only_errors == []

    again = cli(service, *add, token=token, stdin=password + "\n")
    assert again.returncode == 1 and "--replace" in again.stderr

    logins = 'imapapi_imap_connection_attempts_total{result="connected"}'
    assert metric(service, token, logins) == 1
    assert ok(cli(service, "account", "reconnect", user.name, token=token))
    deadline = time.monotonic() + 20
    while metric(service, token, logins) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert metric(service, token, logins) == 2  # a new login
    wait_shown(service, token, user.name, "connected")

    unconfirmed = cli(service, "account", "delete", user.name, token=token)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert show(service, token, user.name)["account"] == user.name  # still there
    assert ok(cli(service, "account", "delete", user.name, "--yes", token=token))
    gone = cli(service, "account", "show", user.name, token=token)
    assert gone.returncode == 1 and user.name in gone.stderr
    assert cli(service, "account", "reconnect", user.name, token=token).returncode == 1
    assert service.stop() == 0


def test_account_list_and_show_tell_why_an_account_is_not_connected(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    closed_port = free_port()  # nothing listens: the account stays in connectError
    added = cli(
        service, "account", "add", "offline", "--imap-host", LOOPBACK,
        "--imap-port", str(closed_port), "--imap-user", "someone", "--imap-starttls", "never",
        "--password-stdin", token=token, stdin="offline-secret\n",
    )  # fmt: skip
    ok(added)
    shown = wait_shown(service, token, "offline", "connectError")
    assert shown["attempts"] >= 1 and shown["lastError"]

    [header, row] = rows(ok(cli(service, "account", "list", token=token)))
    assert header == ["ACCOUNT", "NAME", "STATE", "FAILED", "NEXT ATTEMPT", "LAST ERROR"]
    assert row[0] == "offline" and row[2] == "connectError"
    assert int(row[3]) >= 1
    assert row[4].startswith("in ") or row[4] == "-"  # "-" while an attempt is under way
    assert row[5] == " ".join(shown["lastError"].split())
    human = ok(cli(service, "account", "show", "offline", token=token))
    assert "last error" in human and "failed attempts" in human and "next attempt" in human
    assert "offline-secret" not in human
    assert service.stop() == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["bad id!", "--imap-host", "h", "--imap-port", "143"], "ACCOUNT"),
        (["a", "--imap-host", "h", "--imap-port", "70000"], "--imap-port"),
        (["a", "--imap-host", "not a host", "--imap-port", "1"], "--imap-host"),
        (["a", "--imap-host", "h"], "--imap-port"),
        (["a", "--imap-host", "h", "--imap-port", "1", "--smtp-host", "s"], "--smtp-port"),
    ],
    ids=["account-id", "port-range", "hostname", "missing-port", "smtp-port"],
)
def test_account_add_validates_like_the_api_before_sending(args: list[str], named: str) -> None:
    # Nothing listens at the URL: had the command sent anything, it would say so instead.
    result = subprocess.run(
        [*imapapi_command(), "account", "add", *args, "--imap-user", "u", "--password-stdin",
         "--url", f"http://{LOOPBACK}:{free_port()}"],
        env=base_env(), input="pw\n", capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert named in line and line.startswith("imapapi: invalid account:"), line


def test_account_commands_without_a_service_say_so() -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    result = run_cli("account", "list", "--url", url, env=base_env())
    assert result.returncode == 2
    assert url in result.stderr and "Traceback" not in result.stderr


# -- outbox ---------------------------------------------------------------------------------


def test_outbox_list_and_cancel_a_queued_submission(
    service_factory: ServiceFactory, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = dovecot.add_user()
    smtp.add_user(user.name, "smtp-pass")
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    body = dovecot_account(dovecot, user)
    body["email"] = f"{user.name}@example.com"
    body["smtp"] = smtp.settings(user.name, "smtp-pass")
    message = {"to": {"address": "later@example.com"}, "subject": "Later", "text": "Hi"}
    with service.client(token) as client:
        register(client, body)
        wait_state(client, user.name, "connected")
        submitted = client.post(
            f"/v1/account/{user.name}/submit", json={**message, "sendAt": "2999-01-01T00:00:00Z"}
        )
        assert submitted.status_code == 200, submitted.text
        queue_id = submitted.json()["queueId"]

    [header, row] = rows(ok(cli(service, "outbox", "list")))
    assert header[:3] == ["QUEUE ID", "ACCOUNT", "STATE"]
    assert row[:3] == [queue_id, user.name, "queued"]
    assert row[3].startswith("in ") and "later@example.com" in row
    [listed] = json.loads(ok(cli(service, "outbox", "list", "--json", "--account", user.name)))
    assert (listed["queueId"], listed["state"], listed["sendAt"]) == (
        queue_id,
        "queued",
        "2999-01-01T00:00:00.000Z",
    )
    assert json.loads(ok(cli(service, "outbox", "list", "--json", "--account", "other"))) == []

    assert queue_id in ok(cli(service, "outbox", "cancel", queue_id))
    with service.client(token) as client:
        assert client.get(f"/v1/outbox/{queue_id}").json()["state"] == "cancelled"
    assert json.loads(ok(cli(service, "outbox", "list", "--json"))) == []
    [cancelled] = json.loads(ok(cli(service, "outbox", "list", "--state", "cancelled", "--json")))
    assert cancelled["queueId"] == queue_id

    # As DELETE /v1/outbox/{id}: cancelling a cancelled message again changes nothing.
    assert queue_id in ok(cli(service, "outbox", "cancel", queue_id))

    with service.client(token) as client:
        sent_id = client.post(f"/v1/account/{user.name}/submit", json=message).json()["queueId"]
        deadline = time.monotonic() + 20
        while client.get(f"/v1/outbox/{sent_id}").json()["state"] != "sent":
            assert time.monotonic() < deadline, "the message was never sent"
            time.sleep(0.1)
    too_late = cli(service, "outbox", "cancel", sent_id)
    assert too_late.returncode == 1 and "is sent" in too_late.stderr
    unknown = cli(service, "outbox", "cancel", "0" * 32)
    assert unknown.returncode == 1 and "0" * 32 in unknown.stderr
    malformed = cli(service, "outbox", "cancel", "xyz")
    assert malformed.returncode == 2 and "32 hexadecimal" in malformed.stderr
    assert service.stop() == 0


# -- dead letters ---------------------------------------------------------------------------


async def _bury_pending_events(database: Path) -> None:
    """What the dispatcher does to an event still failing after `webhook_max_age` (≥ 24 h),
    done at once: every pending event becomes a dead letter."""
    store = SqliteStore(database)
    await store.open()
    try:
        while due := await store.due_events(time.time() + 10**9, 100):
            for event in due:
                await store.event_dead(event.seq, event.attempts + 1, "HTTP 500")
    finally:
        await store.close()


def test_dead_letters_listed_and_replayed_to_the_webhook_receiver(
    service_factory: ServiceFactory, dovecot: Dovecot, webhook_receiver: WebhookReceiver
) -> None:
    users = [dovecot.add_user(), dovecot.add_user()]
    webhook_receiver.respond_with(500)
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    with service.client(token) as client:
        assert client.post("/v1/settings", json={"webhooks": webhook_receiver.url}).is_success
        for user in users:
            register(client, dovecot_account(dovecot, user))
    for user in users:  # each account's accountConnected was tried and failed
        webhook_receiver.wait(lambda r, name=user.name: r.account == name and r.status == 500)
    assert service.stop() == 0
    asyncio.run(_bury_pending_events(service.data_dir / "imapapi.db"))
    webhook_receiver.respond_with(200)
    service.start()

    dead = json.loads(ok(cli(service, "webhooks", "dead", "--json")))
    connected = {d["account"]: d for d in dead if d["event"] == "accountConnected"}
    assert set(connected) == {u.name for u in users}
    first, second = (connected[u.name] for u in users)
    assert first["lastError"] == "HTTP 500" and first["attempts"] >= 1
    assert first["payload"]["account"] == users[0].name
    table = rows(ok(cli(service, "webhooks", "dead")))
    assert table[0] == ["EVENT ID", "ACCOUNT", "EVENT", "ATTEMPTS", "CREATED", "LAST ERROR"]
    assert [first["eventId"], users[0].name, "accountConnected"] in [r[:3] for r in table[1:]]

    ok(cli(service, "webhooks", "replay", first["eventId"]))
    [delivered] = webhook_receiver.wait(
        lambda r: r.header("X-Imapapi-Event-Id") == first["eventId"] and r.status == 200
    )
    assert delivered.json == first["payload"]
    left = {d["eventId"] for d in json.loads(ok(cli(service, "webhooks", "dead", "--json")))}
    assert first["eventId"] not in left and second["eventId"] in left

    unknown = cli(service, "webhooks", "replay", first["eventId"])  # no longer dead
    assert unknown.returncode == 1
    assert cli(service, "webhooks", "replay").returncode == 2  # neither ids nor --all

    ok(cli(service, "webhooks", "replay", "--all"))
    webhook_receiver.wait(
        lambda r: r.header("X-Imapapi-Event-Id") == second["eventId"] and r.status == 200
    )
    assert json.loads(ok(cli(service, "webhooks", "dead", "--json"))) == []
    assert service.stop() == 0
