"""Which `smtp` settings the accounts API takes (issue 7): no credentials at all means sending
without a login; IMAP still needs a login; contradictory settings are a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

# A port on loopback where nothing listens: sessions fail fast, no network.
CLOSED = {"host": "127.0.0.1", "port": 9, "secure": False}
AUTH = {"user": "u@example.test", "pass": "secret-pass"}


def body(smtp: dict[str, Any] | None, imap: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"account": "relay", "imap": imap or {**CLOSED, "auth": AUTH}, "smtp": smtp}


async def test_smtp_without_credentials_is_stored_as_no_login(api: Api) -> None:
    response = await api.client.post("/v1/account", json=body({**CLOSED, "port": 25}))
    assert response.status_code == 200, response.text
    smtp = (await api.client.get("/v1/account/relay")).json()["smtp"]
    assert (smtp["port"], smtp["auth"], smtp["useAuthServer"]) == (25, None, False)


async def test_put_can_remove_and_restore_the_smtp_login(api: Api) -> None:
    created = await api.client.post("/v1/account", json=body({**CLOSED, "auth": AUTH}))
    assert created.status_code == 200, created.text

    removed = await api.client.put("/v1/account/relay", json={"smtp": {"auth": None}})
    assert removed.status_code == 200, removed.text
    smtp = (await api.client.get("/v1/account/relay")).json()["smtp"]
    assert (smtp["auth"], smtp["useAuthServer"]) == (None, False)

    restored = await api.client.put("/v1/account/relay", json={"smtp": {"auth": AUTH}})
    assert restored.status_code == 200, restored.text
    smtp = (await api.client.get("/v1/account/relay")).json()["smtp"]
    assert smtp["auth"] == {"user": AUTH["user"]}


# 400 where the request breaks the documented schema; 422 where it is only wrong for this
# account (a PUT that would leave the stored IMAP settings without a login).
@pytest.mark.parametrize(
    ("method", "request_body", "field", "status"),
    [
        pytest.param("POST", body(None, imap={**CLOSED}), "imap", 400, id="imap-without-auth"),
        pytest.param(
            "POST",
            body({**CLOSED, "auth": AUTH, "useAuthServer": True}),
            "smtp",
            400,
            id="smtp-auth-and-auth-server",
        ),
        pytest.param("PUT", {"imap": {"auth": None}}, "imap.auth", 422, id="put-imap-auth-null"),
        pytest.param(
            "PUT",
            {"smtp": {"auth": AUTH, "useAuthServer": True}},
            "smtp",
            400,
            id="put-smtp-auth-and-auth-server",
        ),
    ],
)
async def test_contradictory_or_missing_auth_is_refused_naming_the_field(
    api: Api, method: str, request_body: dict[str, Any], field: str, status: int
) -> None:
    if method == "PUT":
        created = await api.client.post("/v1/account", json=body({**CLOSED, "auth": AUTH}))
        assert created.status_code == 200, created.text
        response = await api.client.put("/v1/account/relay", json=request_body)
    else:
        response = await api.client.post("/v1/account", json=request_body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["code"] == "InvalidInput"
    assert any(d["field"] == field for d in error["details"]), error
