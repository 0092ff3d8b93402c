"""A real OpenID provider for tests: oidc-provider (npm), run by oidc_launcher.mjs.

HTTP on a free loopback port; the issuer is `http://127.0.0.1:<port>` (discovery at
`/.well-known/openid-configuration`). It knows:

- `client`: the application's confidential client (client_secret_basic at the token,
  revocation and introspection endpoints), grant types authorization_code + refresh_token,
  PKCE (S256) required, refresh tokens rotated on every use, access tokens opaque and valid
  for an hour unless `access_token_ttl` says otherwise. :meth:`OidcProvider.add_client`
  registers more at run time (a short TTL for a test of expiry, other redirect URIs).
- `introspector`: the mail servers' own credentials for the introspection endpoint, as a
  resource server has them (Dovecot's oauth2 passdb and the SMTP server's introspection mode
  use :meth:`OidcProvider.introspection_url_for_servers`). An introspection answer carries
  `active`, `sub`, `client_id`, `scope`, `exp` and the user's `email` (also as `username`).
- `users`: email + password accounts for the login page; :meth:`OidcProvider.add_user` adds
  more. Consent is asked on every authorization with `prompt=consent` (which oidc-provider
  wants before it issues a refresh token for `offline_access`).

Quirks of oidc-provider 9 worth knowing: a refresh token used twice (after it was rotated)
revokes the whole grant, so the new refresh token dies too (RFC 9700 §4.14.2); revoking any
token at the revocation endpoint revokes every token of its grant, the refresh token too (RFC
7009 §2.1 allows it), and a refresh token also ends the grant itself; `offline_access` is
dropped from a request without `prompt=consent`.

Walking the flow without a browser, and the token calls: tests/servers/oidc_flow.py.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.servers.launcher import NodeLauncher
from tests.servers.ports import LOOPBACK, free_port

HERE = Path(__file__).resolve().parent
DEFAULT_REDIRECT_URI = "http://127.0.0.1:9/oauth2/callback"  # nothing listens on port 9
EMAIL_DOMAIN = "example.test"


class OidcError(RuntimeError):
    """The provider could not be installed or started, or refused a control command."""


@dataclass(frozen=True)
class OidcUser:
    """An account on the provider's login page; `email` is also the mailbox's login name."""

    email: str
    password: str
    sub: str = field(default_factory=lambda: f"sub-{uuid.uuid4().hex[:12]}")


@dataclass(frozen=True)
class OidcClient:
    """A registered client; `redirect_uris[0]` is the one the flow helpers use by default."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    access_token_ttl: int | None = None

    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": list(self.redirect_uris),
        }
        if self.access_token_ttl is not None:
            metadata["access_token_ttl"] = self.access_token_ttl
        return metadata


def new_user(prefix: str = "user") -> OidcUser:
    """A user with a unique address, so tests never share a mailbox."""
    return OidcUser(
        email=f"{prefix}-{uuid.uuid4().hex[:8]}@{EMAIL_DOMAIN}",
        password=secrets.token_urlsafe(12),
    )


def new_client(
    redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,), *, access_token_ttl: int | None = None
) -> OidcClient:
    return OidcClient(
        client_id=f"client-{uuid.uuid4().hex[:8]}",
        client_secret=secrets.token_urlsafe(24),
        redirect_uris=redirect_uris,
        access_token_ttl=access_token_ttl,
    )


class OidcProvider(NodeLauncher):
    """One oidc-provider on a free loopback port (`start()` / `stop()`, or `with`).

    The port is picked here, so the issuer and endpoints are known before `start()` (a Dovecot
    configured with :meth:`introspection_url_for_servers` can be written first).
    """

    script = HERE / "oidc_launcher.mjs"
    package = "oidc-provider"
    error = OidcError

    def __init__(
        self,
        *,
        users: list[OidcUser] | None = None,
        redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,),
        access_token_ttl: int | None = None,
        host: str = LOOPBACK,
    ) -> None:
        super().__init__()
        self.host = host
        self.port = free_port(host)
        self.issuer = f"http://{host}:{self.port}"
        # Routes of oidc-provider 9 (also in the discovery document).
        self.discovery_url = f"{self.issuer}/.well-known/openid-configuration"
        self.authorization_endpoint = f"{self.issuer}/auth"
        self.token_endpoint = f"{self.issuer}/token"
        self.introspection_endpoint = f"{self.issuer}/token/introspection"
        self.revocation_endpoint = f"{self.issuer}/token/revocation"
        self.userinfo_endpoint = f"{self.issuer}/me"
        self.users: list[OidcUser] = list(users) if users is not None else [new_user()]
        self.client = new_client(redirect_uris, access_token_ttl=access_token_ttl)
        # A resource server's credentials: it introspects, it never asks for tokens.
        self.introspector = OidcClient(
            client_id=f"mail-servers-{uuid.uuid4().hex[:8]}",
            client_secret=secrets.token_urlsafe(24),
            redirect_uris=(),
        )

    def introspection_url_for_servers(self) -> str:
        """The introspection endpoint with `introspector`'s credentials as URL userinfo, the
        form Dovecot's `introspection_url` takes (it sends them as HTTP Basic auth)."""
        user = quote(self.introspector.client_id, safe="")
        secret = quote(self.introspector.client_secret, safe="")
        return self.introspection_endpoint.replace("://", f"://{user}:{secret}@", 1)

    def _config(self) -> dict[str, Any]:
        introspector = {
            **self.introspector.metadata(),
            "grant_types": [],
            "response_types": [],
        }
        return {
            "host": self.host,
            "port": self.port,
            "clients": [self.client.metadata(), introspector],
            "users": [vars(user) for user in self.users],
        }

    # -- control channel -------------------------------------------------------------------

    def add_client(
        self,
        redirect_uris: tuple[str, ...] = (DEFAULT_REDIRECT_URI,),
        *,
        access_token_ttl: int | None = None,
    ) -> OidcClient:
        """Register another confidential client (same grant types, PKCE, rotation) while the
        provider runs; `access_token_ttl` in seconds for its access tokens."""
        client = new_client(redirect_uris, access_token_ttl=access_token_ttl)
        self.control("add_client", client=client.metadata())
        return client

    def add_user(self, user: OidcUser | None = None) -> OidcUser:
        """Add an account to the login page (a fresh unique one by default)."""
        user = user or new_user()
        self.control("add_user", user=vars(user))
        self.users.append(user)
        return user

    def revoke_grants(self, user: OidcUser, client: OidcClient | None = None) -> int:
        """The user withdraws consent (for `client`, or for every client): the grants and all
        their tokens go, so the next refresh is `invalid_grant` and every access token
        introspects as inactive. Returns how many grants there were."""
        args: dict[str, Any] = {"email": user.email}
        if client is not None:
            args["client_id"] = client.client_id
        revoked: int = self.control("revoke_grants", **args)["revoked"]
        return revoked
