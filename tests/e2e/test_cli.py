"""The `imapapi` command as a user runs it: first start, tokens, configuration errors, shutdown,
and secrets kept out of the database file and the log (operator commands: test_cli_operator.py)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import (
    dovecot_account,
    first_start_token,
    printed_tokens,
    register,
    wait_state,
)
from tests.servers.dovecot import Dovecot
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.service import ServiceProcess, base_env, run_cli


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text
    assert " ERROR " not in text and '"level": "ERROR"' not in text, text


def test_first_start_prints_one_token_and_only_the_first_time(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    with service.client(token) as client:
        assert client.get("/v1/accounts").status_code == 200
    with service.client() as anonymous:
        response = anonymous.get("/v1/accounts")
        assert response.status_code == 401
        assert response.json()["statusCode"] == 401
    with service.client("0" * 64) as stranger:
        assert stranger.get("/v1/accounts").status_code == 401

    assert service.stop() == 0
    service.start()
    assert printed_tokens(service.stderr) == [], service.stderr
    assert "token" not in service.stderr.lower(), service.stderr
    with service.client(token) as client:
        assert client.get("/v1/accounts").status_code == 200  # the first token still works
    assert service.stop() == 0


def _tokens(service: ServiceProcess) -> dict[str, dict[str, Any]]:
    listed = service.cli("token", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {t["description"]: t for t in json.loads(listed.stdout)}


# The service keeps token records this long; a revoke by the CLI on its SQLite file, which the
# service cannot hear of, applies within it (credentials/tokens.py).
TOKEN_CACHE_SECONDS = 1.0


def refused_within_cache_time(client: httpx.Client) -> httpx.Response:
    deadline = time.monotonic() + TOKEN_CACHE_SECONDS + 10.0  # a bound for a failed test
    while True:
        response = client.get("/v1/accounts")
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_token_create_list_revoke_with_scopes(service_factory: ServiceFactory) -> None:
    service = service_factory(env={"IMAPAPI_TOKEN_CACHE_SECONDS": str(TOKEN_CACHE_SECONDS)})
    service.start()

    created = service.cli("token", "create", "--description", "crm backend")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", token), created.stdout  # stdout is the token alone
    metrics_only = service.cli(
        "token", "create", "--scope", "metrics", "--description", "prometheus"
    ).stdout.strip()
    agent = service.cli(
        "token", "create", "--scope", "read", "--scope", "send", "--account", "alice",
        "--account", "bob", "--description", "agent",
    ).stdout.strip()  # fmt: skip
    with service.client(token) as client:
        assert client.get("/v1/accounts").status_code == 200
    with service.client(metrics_only) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/v1/accounts").status_code == 403
    with service.client(agent) as client:
        assert client.get("/v1/accounts").json()["accounts"] == []  # neither is registered
        assert client.get("/v1/account/carol").status_code == 404
        assert client.get("/v1/settings").status_code == 403

    tokens = _tokens(service)
    ours, prometheus = tokens["crm backend"], tokens["prometheus"]
    assert (ours["state"], ours["scopes"], ours["revoked"]) == ("active", ["admin"], None)
    assert ours["accounts"] == []
    assert prometheus["scopes"] == ["metrics"]
    assert (tokens["agent"]["scopes"], tokens["agent"]["accounts"]) == (
        ["read", "send"],
        ["alice", "bob"],
    )
    assert ours["id"] in created.stderr  # `token create` names the id it made
    human = service.cli("token", "list").stdout
    assert token not in human and metrics_only not in human
    header, *lines = human.splitlines()
    assert header.split() == ["ID", "STATE", "SCOPES", "ACCOUNTS", "CREATED", "DESCRIPTION"]
    [line] = [line for line in lines if line.startswith(prometheus["id"])]
    assert line.split()[1:4] == ["active", "metrics", "all"] and line.endswith("prometheus")
    [line] = [line for line in lines if line.startswith(tokens["agent"]["id"])]
    assert line.split()[1:4] == ["active", "read,send", "alice,bob"]

    revoked = service.cli("token", "revoke", ours["id"])
    assert revoked.returncode == 0, revoked.stderr
    with service.client(token) as client:
        response = refused_within_cache_time(client)
        assert response.status_code == 403
        assert response.json()["code"]
    after = _tokens(service)["crm backend"]
    assert after["state"] == "revoked" and after["revoked"]

    for option, value in (("--scope", "api"), ("--account", "not/an/id")):
        bad = service.cli("token", "create", option, value)
        assert bad.returncode == 2 and bad.stdout == ""
        assert f"argument {option}:" in bad.stderr and repr(value) in bad.stderr

    again = service.cli("token", "revoke", "no-such-id")
    assert again.returncode == 1
    assert "no-such-id" in again.stderr
    assert service.stop() == 0


def test_insecure_mode_serves_without_a_token(service_factory: ServiceFactory) -> None:
    service = service_factory(args=["--insecure"])
    service.start()
    assert printed_tokens(service.stderr) == []  # nothing to print: no token is needed
    assert "insecure" in service.stderr.lower()  # but it says so
    with service.client() as anonymous:
        assert anonymous.get("/v1/accounts").status_code == 200
    assert service.stop() == 0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"IMAPAPI_PORT": "70000"}, "IMAPAPI_PORT"),
        ({"IMAPAPI_PORT": "three thousand"}, "IMAPAPI_PORT"),
        ({"IMAPAPI_LOG_LEVEL": "LOUD"}, "IMAPAPI_LOG_LEVEL"),
        ({"IMAPAPI_CONFIG": "/nonexistent/imapapi.toml"}, "/nonexistent/imapapi.toml"),
    ],
    ids=["port-out-of-range", "port-not-a-number", "unknown-log-level", "missing-config-file"],
)
def test_bad_configuration_is_one_clear_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = run_cli(
        "serve", env=base_env({"IMAPAPI_DATA_DIR": str(tmp_path / "data"), **env}), timeout=30
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_toml_file_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "imapapi.toml"
    config.write_text("port = 3000\n[unclosed\n")
    result = run_cli(
        "token",
        "list",
        env=base_env({"IMAPAPI_DATA_DIR": str(tmp_path / "d"), "IMAPAPI_CONFIG": str(config)}),
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(config) in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_shuts_down_cleanly_with_a_connected_account(
    service_factory: ServiceFactory, dovecot: Dovecot
) -> None:
    user = dovecot.add_user()
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    with service.client(token) as client:
        register(client, dovecot_account(dovecot, user))
        wait_state(client, user.name, "connected")
        # An API call opens the command connection too, so both are open at shutdown.
        assert client.get(f"/v1/account/{user.name}/mailboxes").status_code == 200

    assert service.stop() == 0
    _no_traceback(service.stderr)
    assert "imapapi stopped" in service.stderr  # service.stop() ran to its end


def _data_files(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.iterdir()) if p.is_file())


def test_database_never_holds_passwords_or_tokens_in_clear(
    service_factory: ServiceFactory, dovecot: Dovecot
) -> None:
    password = f"db-pass-{uuid.uuid4().hex}"
    smtp_password = f"db-smtp-{uuid.uuid4().hex}"
    service_secret = f"db-secret-{uuid.uuid4().hex}"
    user = dovecot.add_user(password=password)
    service = service_factory()
    service.start()
    first = first_start_token(service.stderr)
    created = service.cli("token", "create").stdout.strip()
    body = dovecot_account(dovecot, user)
    body["smtp"] = {
        "host": LOOPBACK,
        "port": free_port(),
        "auth": {"user": user.name, "pass": smtp_password},
    }
    with service.client(created) as client:
        register(client, body)
        wait_state(client, user.name, "connected")
        assert (
            client.post("/v1/settings", json={"serviceSecret": service_secret}).status_code == 200
        )
        shown = client.get(f"/v1/account/{user.name}").text + client.get("/v1/settings").text
    for secret in (password, smtp_password, service_secret):
        assert secret not in shown

    secrets = [password, smtp_password, service_secret, first, created]
    while_running = _data_files(service.data_dir)  # the WAL holds the latest writes
    assert service.stop() == 0
    after_stop = _data_files(service.data_dir)
    assert (service.data_dir / "imapapi.db").exists()
    for secret in secrets:
        assert secret.encode() not in while_running, "clear secret in the data dir (running)"
        assert secret.encode() not in after_stop, "clear secret in the data dir (stopped)"


def test_debug_log_never_shows_the_password_or_the_token(
    service_factory: ServiceFactory, dovecot: Dovecot
) -> None:
    password = f"log-pass-{uuid.uuid4().hex}"
    user = dovecot.add_user(password=password)
    service = service_factory(env={"IMAPAPI_LOG_LEVEL": "DEBUG"})
    service.start()
    first = first_start_token(service.stderr)
    token = service.cli("token", "create").stdout.strip()
    with service.client(token) as client:
        register(client, dovecot_account(dovecot, user))
        wait_state(client, user.name, "connected")
        dovecot.deliver(user, b"Subject: logged\r\nFrom: a@example.test\r\n\r\nbody\r\n")
        assert client.get(f"/v1/account/{user.name}/mailboxes?counters=true").status_code == 200
        imap = dovecot_account(dovecot, user)["imap"]
        verified = client.post("/v1/verifyAccount", json={"imap": imap})
        assert verified.status_code == 200 and verified.json()["imap"]["success"], verified.text
        wrong = dict(imap, auth={"user": user.name, "pass": password + "-wrong"})
        assert client.post("/v1/verifyAccount", json={"imap": wrong}).status_code == 200
        protocol_log = client.get(f"/v1/logs/{user.name}").text
    assert service.stop() == 0
    log = service.stderr
    # The level took effect (whatever the log format), so the IMAP modules had their say.
    assert "DEBUG" in log and "imapapi.imap" in log, log[-3000:]
    assert "authenticated" in log.lower()

    sasl = [
        base64.b64encode(f"\0{user.name}\0{password}".encode()).decode(),
        base64.b64encode(f"{user.name}\0{user.name}\0{password}".encode()).decode(),
    ]
    for secret in (password, *sasl):
        assert secret not in log, "account password in the service log"
        assert secret not in protocol_log, "account password in /v1/logs"
    assert token not in log, "API token in the service log"
    assert log.count(first) == 1, "first-start token logged beyond its one banner"
