"""The accounts API as a client uses it: register, upsert, list, page, read, update, delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

# A port on loopback where nothing listens: sessions fail fast with connectError, no network.
CLOSED = {"host": "127.0.0.1", "port": 9, "secure": False}


def account_body(account: str, password: str = "hunter2-secret", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": account,
        "name": f"Account {account}",
        "imap": {**CLOSED, "auth": {"user": f"{account}@example.test", "pass": password}},
        "smtp": {**CLOSED, "port": 25, "auth": {"user": account, "pass": password}},
    }
    body.update(extra)
    return body


async def test_create_then_post_again_updates(api: Api) -> None:
    first = await api.client.post("/v1/account", json=account_body("alice"))
    assert first.status_code == 200, first.text
    assert first.json()["account"] == "alice"
    assert first.json()["created"] is True

    second = await api.client.post(
        "/v1/account", json=account_body("alice", name="Renamed", password="other-pass")
    )
    assert second.status_code == 200
    assert second.json()["created"] is False

    details = (await api.client.get("/v1/account/alice")).json()
    assert details["name"] == "Renamed"
    listing = (await api.client.get("/v1/accounts")).json()
    assert [a["account"] for a in listing["accounts"]] == ["alice"]


async def test_list_pages_are_zero_based_and_complete(api: Api) -> None:
    ids = [f"user{i:02d}" for i in range(23)]
    for account in ids:
        assert (await api.client.post("/v1/account", json=account_body(account))).status_code == 200

    seen: list[str] = []
    for page in range(3):
        body = (await api.client.get(f"/v1/accounts?page={page}&pageSize=10")).json()
        assert body["page"] == page
        assert body["pages"] == 3
        assert body["total"] == 23
        seen += [a["account"] for a in body["accounts"]]
    assert seen == ids
    past_end = (await api.client.get("/v1/accounts?page=7&pageSize=10")).json()
    assert past_end["accounts"] == []
    assert past_end["total"] == 23


async def test_delete_forgets_the_account(api: Api) -> None:
    await api.client.post("/v1/account", json=account_body("bob"))
    deleted = await api.client.delete("/v1/account/bob")
    assert deleted.status_code == 200
    assert deleted.json() == {"account": "bob", "deleted": True}

    missing = await api.client.get("/v1/account/bob")
    assert missing.status_code == 404
    assert missing.json()["code"] == "AccountNotFound"
    assert (await api.client.delete("/v1/account/bob")).status_code == 404
    assert (await api.client.get("/v1/accounts")).json()["total"] == 0


async def test_put_changes_only_given_fields(api: Api) -> None:
    await api.client.post("/v1/account", json=account_body("carol"))
    changed = await api.client.put("/v1/account/carol", json={"imap": {"port": 10}})
    assert changed.status_code == 200, changed.text
    details = (await api.client.get("/v1/account/carol")).json()
    assert details["imap"]["port"] == 10
    assert details["imap"]["host"] == "127.0.0.1"
    assert details["imap"]["auth"] == {"user": "carol@example.test"}
    assert details["name"] == "Account carol"
    assert details["smtp"]["port"] == 25

    renamed = await api.client.put("/v1/account/carol", json={"name": "Carol"})
    assert renamed.status_code == 200
    assert (await api.client.get("/v1/account/carol")).json()["name"] == "Carol"
    unknown = await api.client.put("/v1/account/nobody", json={"name": "x"})
    assert unknown.status_code == 404


async def test_passwords_never_leave_and_are_not_stored_in_clear(api: Api) -> None:
    password = "Very-Distinctive-Password-4711"
    await api.client.post("/v1/account", json=account_body("dave", password=password))
    responses = [
        await api.client.get("/v1/account/dave"),
        await api.client.get("/v1/accounts"),
        await api.client.put("/v1/account/dave", json={"name": "D"}),
        await api.client.post("/v1/account", json=account_body("dave", password=password)),
    ]
    for response in responses:
        assert response.status_code == 200
        assert password not in response.text
        assert "pass" not in response.json().get("imap", {}).get("auth", {})

    raw = await api.stored_bytes()
    assert b"dave@example.test" in raw  # the data is there...
    assert password.encode() not in raw  # ...but never the password


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"account": "x"}, "imap", id="missing-imap"),
        pytest.param(account_body("x") | {"account": ""}, "account", id="empty-id"),
        pytest.param(account_body("x") | {"account": "a/b"}, "account", id="slash-in-id"),
        pytest.param(account_body("x") | {"account": "x" * 129}, "account", id="id-too-long"),
        pytest.param(
            account_body("x")
            | {"imap": {**CLOSED, "port": 70000, "auth": {"user": "u", "pass": "p"}}},
            "imap.port",
            id="port-too-big",
        ),
        pytest.param(
            account_body("x") | {"imap": {**CLOSED, "port": 0, "auth": {"user": "u", "pass": "p"}}},
            "imap.port",
            id="port-zero",
        ),
        pytest.param(
            account_body("x")
            | {
                "imap": {
                    **CLOSED,
                    "host": "bad host\r\nA1 LOGOUT",
                    "auth": {"user": "u", "pass": "p"},
                }
            },
            "imap.host",
            id="crlf-host",
        ),
        pytest.param(
            account_body("x") | {"imap": {**CLOSED}},
            "imap",
            id="no-auth",
        ),
        pytest.param(
            account_body("x")
            | {"imap": {**CLOSED, "auth": {"user": "u\r\nA2 DELETE INBOX", "pass": "p"}}},
            "imap.auth.user",
            id="crlf-user",
        ),
        pytest.param(account_body("x") | {"unexpected": 1}, "unexpected", id="unknown-field"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/v1/account", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "InvalidInput"
    assert error["statusCode"] == 400
    assert any(d["field"] == field for d in error["details"]), error
    assert (await api.client.get("/v1/accounts")).json()["total"] == 0


async def test_malformed_json_is_a_400(api: Api) -> None:
    response = await api.client.post(
        "/v1/account", content=b'{"account": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidInput"


async def test_unknown_route_and_method_are_json_errors(api: Api) -> None:
    missing = await api.client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404
    wrong = await api.client.patch("/v1/accounts")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "MethodNotAllowed"
