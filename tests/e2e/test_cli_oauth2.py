"""`imapapi oauth2 app add|list|delete` and `imapapi oauth2 connect-url` against a real
service: the secret goes in through stdin and never comes out; the link opens the hosted page;
bad options are refused naming the option before anything is sent."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from tests.e2e.conftest import ServiceFactory
from tests.e2e.helpers import first_start_token
from tests.e2e.test_cli_operator import cli, ok, rows
from tests.servers.ports import LOOPBACK, free_port
from tests.servers.service import base_env, imapapi_command

SECRET = "cli-client-secret-5c1e"


def test_apps_are_added_listed_offered_on_the_page_and_deleted(
    service_factory: ServiceFactory,
) -> None:
    service = service_factory()
    service.start()
    token = first_start_token(service.stderr)
    add = ["oauth2", "app", "add", "gmail", "--provider", "google", "--client-id", "cid.apps"]
    anonymous = cli(service, *add, "--client-secret-stdin", stdin=SECRET + "\n")
    assert anonymous.returncode == 2 and "IMAPAPI_TOKEN" in anonymous.stderr
    added = ok(cli(service, *add, "--client-secret-stdin", token=token, stdin=SECRET + "\n"))
    assert added.strip() == "OAuth2 app gmail created"
    again = cli(service, *add, "--client-secret-stdin", token=token, stdin=SECRET + "\n")
    assert again.returncode == 1 and "exists" in again.stderr

    [header, row] = rows(ok(cli(service, "oauth2", "app", "list", token=token)))
    assert header == ["APP", "NAME", "PROVIDER", "CLIENT ID", "IMAP", "SMTP"]
    assert row == [
        "gmail",
        "gmail",
        "google",
        "cid.apps",
        "imap.gmail.com:993",
        "smtp.gmail.com:465",
    ]
    listed = ok(cli(service, "oauth2", "app", "list", "--json", token=token))
    assert json.loads(listed)[0]["clientSecret"] == "set"
    assert SECRET not in listed

    url = ok(
        cli(
            service, "oauth2", "connect-url", "--account", "gina", "--redirect",
            "https://crm.example/back", "--email", "gina@example.com", token=token,
        )
    ).strip()  # fmt: skip
    assert url.startswith(service.url + "/connect/") and token not in url
    page = httpx.get(url, trust_env=False)
    assert page.status_code == 200
    assert "Continue with Google" in page.text and 'value="gina@example.com"' in page.text

    assert ok(cli(service, "oauth2", "app", "delete", "gmail", token=token)).strip() == (
        "OAuth2 app gmail deleted"
    )
    gone = cli(service, "oauth2", "app", "delete", "gmail", token=token)
    assert gone.returncode == 1 and "gmail" in gone.stderr
    assert SECRET not in service.all_stderr()
    assert service.stop() == 0


ADD = ["app", "add", "a", "--client-id", "c", "--client-secret-stdin"]
LINK = ["connect-url", "--account", "a", "--redirect", "https://x.example"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["app", "add", "bad!", "--provider", "google", *ADD[3:]], "APP"),
        ([*ADD, "--provider", "google", "--scope", 'a"b'], "--scope"),
        ([*ADD, "--provider", "oidc", "--imap-host", "h"], "--imap-port"),
        ([*ADD, "--provider", "oidc", "--issuer", "ftp://x"], "--issuer"),
        (["connect-url", "--account", "a", "--redirect", "javascript:x"], "--redirect"),
        ([*LINK, "--app=-x"], "--app"),
        ([*LINK, "--expires-in", "5"], "--expires-in"),
    ],
    ids=["app-id", "scope", "imap-port", "issuer", "redirect", "app", "expires-in"],
)
def test_bad_options_are_refused_naming_the_option_before_sending(
    args: list[str], named: str
) -> None:
    # Nothing listens at the URL: had the command sent anything, it would say so instead.
    result = subprocess.run(
        [*imapapi_command(), "oauth2", *args, "--url", f"http://{LOOPBACK}:{free_port()}"],
        env=base_env(), input="secret\n" if args[0] == "app" else "", capture_output=True,
        text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("imapapi: invalid "), line
    assert f"({named})" in line, line
