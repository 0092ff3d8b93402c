"""API tokens: required by default, refused when unknown or revoked; insecure mode is explicit."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from imapapi.credentials.tokens import create_token, hash_token
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api

pytestmark = pytest.mark.integration


async def test_no_token_is_401(api: Api) -> None:
    response = await api.client.get("/v1/accounts", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_unknown_token_is_401(api: Api) -> None:
    response = await api.client.get("/v1/accounts", headers={"Authorization": "Bearer " + "0" * 64})
    assert response.status_code == 401


async def test_revoked_token_is_403(api: Api) -> None:
    record, token = await create_token(api.service.store, "to revoke")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/v1/accounts", headers=headers)).status_code == 200
    assert await api.service.store.revoke_token(record.id, time.time())
    response = await api.client.get("/v1/accounts", headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "Forbidden"


async def test_every_v1_route_is_protected(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    anonymous = httpx.AsyncClient(transport=api.client._transport, base_url="http://imapapi.test")
    async with anonymous:
        for path, methods in schema["paths"].items():
            if not path.startswith("/v1"):
                continue
            concrete = path.replace("{account}", "someone")
            for method in methods:
                response = await anonymous.request(method.upper(), concrete)
                assert response.status_code == 401, (method, path, response.text)


async def test_tokens_are_stored_hashed(api: Api) -> None:
    raw = await api.stored_bytes()
    assert hash_token(api.token).encode() in raw  # the token's record is there...
    assert api.token.encode() not in raw  # ...but never the token


async def test_insecure_mode_needs_no_token(tmp_path: Path, store_backend: StoreBackend) -> None:
    async with running_api(tmp_path / "data", store_backend, insecure=True) as insecure:
        response = await insecure.client.get("/v1/accounts", headers={"Authorization": ""})
        assert response.status_code == 200
