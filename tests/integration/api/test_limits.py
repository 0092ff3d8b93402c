"""Request bodies: refused before they are read when the caller has no token, and cut off at
the route's cap while they arrive (api/guard.py). The same answers in a real process, with its
memory measured, are in tests/e2e/test_limits.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from imapapi.api.schemas.common import ErrorResponse
from tests.integration.backends import StoreBackend
from tests.integration.conftest import Api, running_api

pytestmark = pytest.mark.integration

CHUNK = b"x" * 65536


class Body:
    """A request body of `chunks` chunks that counts how many were read."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.read += 1
            yield CHUNK


def anonymous(api: Api) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=api.client._transport, base_url="http://imapapi.test")


@pytest.mark.parametrize("path", ["/v1/account/x/message", "/v1/settings", "/v1/account"])
async def test_without_a_token_the_body_is_never_read(api: Api, path: str) -> None:
    body = Body(1600)  # 100 MiB
    async with anonymous(api) as client:
        response = await client.post(path, content=body.__aiter__())
    assert response.status_code == 401
    assert response.json()["code"] == "Unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert body.read <= 1  # at most what the transport took before the app answered


async def test_a_revoked_or_unknown_token_is_refused_before_the_body_too(api: Api) -> None:
    body = Body(1600)
    async with anonymous(api) as client:
        response = await client.post(
            "/v1/account", content=body.__aiter__(), headers={"Authorization": "Bearer " + "0" * 64}
        )
    assert response.status_code == 401 and body.read <= 1


def assert_too_large(response: httpx.Response, limit: int, setting: str) -> None:
    assert response.status_code == 413, response.text
    error = ErrorResponse.model_validate(response.json())
    assert error.code == "PayloadTooLarge"
    assert str(limit) in error.error and setting in error.error
    assert error.details == [{"field": "body", "reason": f"over {limit} bytes (setting {setting})"}]


async def test_an_over_cap_body_is_cut_off_while_it_arrives(api: Api) -> None:
    limit = api.service.settings.max_body_size
    body = Body(1600)  # chunked: no Content-Length to refuse up front
    response = await api.client.post("/v1/settings", content=body.__aiter__())
    assert_too_large(response, limit, "IMAPAPI_MAX_BODY_SIZE")
    assert body.read <= limit // len(CHUNK) + 2  # stopped at the cap, not at the end


async def test_a_declared_over_cap_length_is_refused_before_reading(api: Api) -> None:
    limit = api.service.settings.max_body_size
    body = Body(limit // len(CHUNK) + 1)
    response = await api.client.post(
        "/v1/account",
        content=body.__aiter__(),
        headers={"Content-Length": str(len(CHUNK) * body.chunks)},
    )
    assert_too_large(response, limit, "IMAPAPI_MAX_BODY_SIZE")
    assert body.read <= 1


async def test_the_upload_routes_take_a_message_of_max_message_size(
    tmp_path: Path, store_backend: StoreBackend
) -> None:
    # 64 KiB messages: the upload cap is their base64 plus max_body_size (the rest of the JSON).
    async with running_api(
        tmp_path / "data", store_backend, max_message_size=65536, max_body_size=16384
    ) as api:
        upload_cap = api.service.settings.upload_body_size
        assert upload_cap == 65536 * 4 // 3 + 16384 + 1
        within = b"{" + b" " * 40000 + b"}"  # over max_body_size, within the upload cap
        for path in ("/v1/account/x/message", "/v1/account/x/submit"):
            response = await api.client.post(
                path, content=within, headers={"Content-Type": "application/json"}
            )
            assert response.status_code not in (413, 500), response.text  # read and parsed
            over = Body(upload_cap // len(CHUNK) + 2)
            response = await api.client.post(path, content=over.__aiter__())
            assert_too_large(response, upload_cap, "IMAPAPI_MAX_MESSAGE_SIZE")
        # Any other route keeps the small cap.
        response = await api.client.post(
            "/v1/verifyAccount", content=within, headers={"Content-Type": "application/json"}
        )
        assert_too_large(response, 16384, "IMAPAPI_MAX_BODY_SIZE")


async def test_refusals_are_counted_under_their_route(api: Api) -> None:
    async with anonymous(api) as client:
        assert (await client.post("/v1/account", content=b"{}")).status_code == 401
    scraped = (await api.client.get("/metrics")).text
    assert 'route="/v1/account",status="401"' in scraped, scraped
