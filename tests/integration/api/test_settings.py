"""Runtime settings: webhook URL, event filter, auth server, service secret."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration


async def test_settings_round_trip_and_partial_update(api: Api) -> None:
    assert (await api.client.get("/v1/settings")).json() == {
        "webhooks": None,
        "webhookEvents": ["*"],
        "authServer": None,
        "serviceSecretSet": False,
    }
    changed = await api.client.post(
        "/v1/settings",
        json={
            "webhooks": "http://127.0.0.1:8080/hook",
            "webhookEvents": ["messageNew", "messageDeleted"],
            "serviceSecret": "a-long-service-secret-value",
        },
    )
    assert changed.status_code == 200, changed.text
    body = (await api.client.get("/v1/settings")).json()
    assert body["webhooks"] == "http://127.0.0.1:8080/hook"
    assert body["webhookEvents"] == ["messageDeleted", "messageNew"]
    assert body["serviceSecretSet"] is True
    assert "a-long-service-secret-value" not in changed.text

    await api.client.post("/v1/settings", json={"authServer": "https://auth.example.test/x"})
    body = (await api.client.get("/v1/settings")).json()
    assert body["webhooks"] == "http://127.0.0.1:8080/hook"  # untouched
    assert body["authServer"] == "https://auth.example.test/x"

    await api.client.post("/v1/settings", json={"webhooks": None})
    assert (await api.client.get("/v1/settings")).json()["webhooks"] is None


async def test_service_secret_is_encrypted_at_rest(api: Api) -> None:
    await api.client.post("/v1/settings", json={"serviceSecret": "Distinctive-Secret-0815"})
    target = await api.service.runtime.webhook_target()
    assert target.secret == "Distinctive-Secret-0815"
    raw = await api.stored_bytes()
    assert b"Distinctive-Secret-0815" not in raw


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"webhooks": "ftp://example.test/"}, "webhooks", id="ftp-url"),
        pytest.param({"webhooks": "not a url"}, "webhooks", id="not-a-url"),
        pytest.param({"webhookEvents": ["messageNope"]}, "webhookEvents.0", id="unknown-event"),
        pytest.param({"serviceSecret": "short"}, "serviceSecret", id="short-secret"),
        pytest.param({"authServer": "javascript:alert(1)"}, "authServer", id="js-url"),
    ],
)
async def test_bad_settings_are_400(api: Api, body: dict[str, object], field: str) -> None:
    response = await api.client.post("/v1/settings", json=body)
    assert response.status_code == 400, response.text
    assert any(d["field"].startswith(field) for d in response.json()["details"])
