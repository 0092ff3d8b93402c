"""What the built-in OAuth2 tests share: an app on the test provider, and a consent walked
from `POST /v1/oauth2/authorize` through the provider's pages to imapapi's callback."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.conftest import Api
from tests.servers.dovecot import Dovecot
from tests.servers.oidc import OidcClient, OidcProvider, OidcUser
from tests.servers.oidc_flow import walk_consent
from tests.servers.smtp import SmtpServer

# The test client's base URL (tests/integration/conftest.py): imapapi's callback as the
# provider must know it.
CALLBACK = "http://imapapi.test/oauth2/callback"
DONE = "https://crm.example/connected"


async def create_app(
    api: Api,
    provider: OidcProvider,
    client: OidcClient,
    dovecot: Dovecot,
    smtp: SmtpServer | None = None,
    app: str = "corp",
) -> None:
    body: dict[str, Any] = {
        "id": app,
        "provider": "oidc",
        "clientId": client.client_id,
        "clientSecret": client.client_secret,
        "issuer": provider.issuer,
        "imap": {"host": dovecot.host, "port": dovecot.port, "starttls": "never"},
    }
    if smtp is not None:
        body["smtp"] = {"host": smtp.host, "port": smtp.port, "starttls": "never"}
    answer = await api.client.post("/v1/oauth2/apps", json=body)
    assert answer.status_code == 200, answer.text


async def consent(
    api: Api, user: OidcUser, account: str, app: str = "corp", *, approve: bool = True
) -> dict[str, list[str]]:
    """Authorize, walk the provider's login and consent as `user`, call the callback as the
    browser would (no API token); the query of the redirect to the application."""
    started = await api.client.post(
        "/v1/oauth2/authorize",
        json={"app": app, "account": account, "redirectUrl": DONE, "loginHint": user.email},
    )
    assert started.status_code == 200, started.text
    back = await walk_consent(started.json()["url"], user, approve=approve)
    assert back.url.startswith(CALLBACK + "?"), back.url
    answer = await api.client.get(
        back.url.removeprefix("http://imapapi.test"), headers={"Authorization": ""}
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(DONE + "?"), location
    return parse_qs(urlsplit(location).query)
