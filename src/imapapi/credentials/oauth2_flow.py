"""Pure parts of built-in OAuth2 (issue 19): provider defaults, PKCE, the signed `state`, the
authorization URL and the ID token's claims. No I/O: `oauth2_client.py` talks to providers.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from imapapi.errors import InvalidInputError, OAuth2ProviderError
from imapapi.servers import ServerConfig, StartTls

STATE_TTL = 600.0  # seconds a consent may take, from the authorize call to the callback
STATE_CONTEXT = "oauth2:state"  # what the MAC of a state is bound to (SecretBox.mac)
_MAX_STATE = 2048  # a state is ~300 characters; anything longer is not ours


class Provider(enum.StrEnum):
    GOOGLE = "google"
    MICROSOFT = "microsoft"
    OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a provider authorizes, issues tokens and tells who the user is."""

    authorization_url: str
    token_url: str
    userinfo_url: str | None = None
    issuer: str | None = None  # checked against the ID token's `iss` when known


DEFAULT_SCOPES: dict[Provider, tuple[str, ...]] = {
    # https://mail.google.com/ is the only Google scope that allows IMAP and SMTP.
    Provider.GOOGLE: ("https://mail.google.com/", "openid", "email"),
    Provider.MICROSOFT: (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
        "openid",
        "email",
    ),
    Provider.OIDC: ("openid", "email", "offline_access"),
}

# Google issues a refresh token only with access_type=offline, and again for a user who
# consented before only with prompt=consent (Google's "Using OAuth 2.0 for Web Server
# Applications"). Microsoft and OpenID providers use the `offline_access` scope instead.
EXTRA_PARAMS: dict[Provider, dict[str, str]] = {
    Provider.GOOGLE: {"access_type": "offline", "prompt": "consent"},
    Provider.MICROSOFT: {},
    Provider.OIDC: {"prompt": "consent"},  # OIDC Core §11: offline_access needs a consent
}

_GOOGLE = Endpoints(
    authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (a URL, not a password)
    userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
    issuer="https://accounts.google.com",
)
_MICROSOFT_BASE = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0"

HOSTS: dict[Provider, tuple[ServerConfig, ServerConfig]] = {
    Provider.GOOGLE: (
        ServerConfig("imap.gmail.com", 993, secure=True),
        ServerConfig("smtp.gmail.com", 465, secure=True),
    ),
    Provider.MICROSOFT: (
        ServerConfig("outlook.office365.com", 993, secure=True),
        ServerConfig("smtp.office365.com", 587, secure=False, starttls=StartTls.REQUIRED),
    ),
}


def fixed_endpoints(provider: Provider, tenant: str = "common") -> Endpoints | None:
    """The endpoints Google and Microsoft publish; None for `oidc` (discovery or explicit)."""
    if provider is Provider.GOOGLE:
        return _GOOGLE
    if provider is Provider.MICROSOFT:
        base = _MICROSOFT_BASE.format(tenant=tenant)
        # Multi-tenant ("common", "organizations") ID tokens carry the user's own tenant in
        # `iss`, so the issuer is checked only for a single tenant.
        issuer = None
        if tenant not in ("common", "organizations", "consumers"):
            issuer = f"https://login.microsoftonline.com/{tenant}/v2.0"
        return Endpoints(f"{base}/authorize", f"{base}/token", None, issuer)
    return None


def endpoints_from_discovery(doc: Any, issuer: str) -> Endpoints:
    """Endpoints from an OpenID Provider Configuration document (OIDC Discovery §3)."""
    if not isinstance(doc, dict):
        raise OAuth2ProviderError("the provider's discovery document is not a JSON object")
    # OIDC Discovery §4.3: the document's issuer must be the one it was fetched for.
    if str(doc.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise OAuth2ProviderError("the provider's discovery document names another issuer")
    auth, token = doc.get("authorization_endpoint"), doc.get("token_endpoint")
    if not isinstance(auth, str) or not isinstance(token, str):
        raise OAuth2ProviderError("the provider's discovery document lacks its endpoints")
    userinfo = doc.get("userinfo_endpoint")
    return Endpoints(auth, token, userinfo if isinstance(userinfo, str) else None, doc["issuer"])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) (RFC 7636 §4.1, §4.2): 43 characters of 32 random
    bytes, and the base64url SHA-256 of them."""
    verifier = _b64(secrets.token_bytes(32))
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class StateClaims:
    """What a signed `state` carries: whose consent, for which app, where the user goes back,
    the key of the consent kept server-side (also the ID token's nonce) and its expiry."""

    account: str
    app: str
    redirect: str
    nonce: str
    expires: float


class StateError(InvalidInputError):
    """A callback's `state` is not one this service issued, was altered, or is too old."""

    def __init__(self, reason: str) -> None:
        super().__init__("state", reason)


Mac = Callable[[bytes], bytes]


def sign_document(doc: Mapping[str, Any], mac: Mac) -> str:
    """`doc` as compact JSON, base64url, and its MAC: readable by anyone, alterable by no one
    (the consent's `state`, the hosted page's link)."""
    body = json.dumps(doc, separators=(",", ":")).encode()
    return f"{_b64(body)}.{_b64(mac(body))}"


def read_document(
    text: str,
    mac: Mac,
    error: Callable[[str], Exception],
    *,
    what: str = "state",
    max_length: int = _MAX_STATE,
) -> dict[str, Any]:
    """The JSON object `sign_document` signed; `error(reason)` is raised when it is not one."""
    foreign = f"is not a {what} this service issued"
    if not text or len(text) > max_length or text.count(".") != 1:
        raise error(foreign)
    encoded, signature = text.split(".")
    try:
        body, given = _unb64(encoded), _unb64(signature)
    except ValueError as exc:
        raise error(foreign) from exc
    if not hmac.compare_digest(mac(body), given):
        raise error("was altered or not issued by this service")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise error(foreign) from exc
    if not isinstance(doc, dict):
        raise error(foreign)
    return doc


def sign_state(claims: StateClaims, mac: Mac) -> str:
    return sign_document(
        {
            "acc": claims.account,
            "app": claims.app,
            "r": claims.redirect,
            "n": claims.nonce,
            "exp": int(claims.expires),
        },
        mac,
    )


def read_state(state: str, mac: Mac, now: float) -> StateClaims:
    """The claims of a state this service signed, or StateError saying what is wrong."""
    doc = read_document(state, mac, StateError)
    try:
        claims = StateClaims(
            account=str(doc["acc"]),
            app=str(doc["app"]),
            redirect=str(doc["r"]),
            nonce=str(doc["n"]),
            expires=float(doc["exp"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError("is not a state this service issued") from exc
    if claims.expires <= now:
        raise StateError("has expired: start the consent again")
    return claims


def authorization_url(
    endpoints: Endpoints,
    provider: Provider,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: tuple[str, ...],
    state: str,
    challenge: str,
    nonce: str,
    login_hint: str | None = None,
) -> str:
    """The provider's authorization request (RFC 6749 §4.1.1 with RFC 7636 §4.3 PKCE)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **EXTRA_PARAMS[provider],
    }
    if "openid" in scopes:
        params["nonce"] = nonce  # OIDC Core §3.1.2.1: echoed in the ID token, checked there
    if login_hint:
        params["login_hint"] = login_hint
    separator = "&" if "?" in endpoints.authorization_url else "?"
    return f"{endpoints.authorization_url}{separator}{urlencode(params)}"


def id_token_claims(
    id_token: str, *, client_id: str, issuer: str | None, nonce: str, now: float
) -> Mapping[str, Any]:
    """The claims of an ID token received straight from the token endpoint.

    The signature is not checked: OIDC Core §3.1.3.7 (6) lets a client that got the token
    directly from the token endpoint over TLS rely on that channel instead. `aud`, `iss`
    (when the issuer is known), `exp` and `nonce` are checked as §3.1.3.7 asks.
    """
    parts = id_token.split(".")
    try:
        claims = json.loads(_unb64(parts[1])) if len(parts) == 3 else None
    except (ValueError, UnicodeDecodeError):
        claims = None
    if not isinstance(claims, dict):
        raise OAuth2ProviderError("the provider's ID token is not a JWT")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise OAuth2ProviderError("the provider's ID token is for another client")
    if issuer is not None and str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
        raise OAuth2ProviderError("the provider's ID token comes from another issuer")
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= now:
        raise OAuth2ProviderError("the provider's ID token has expired")
    if "nonce" in claims and claims["nonce"] != nonce:
        raise OAuth2ProviderError("the provider's ID token answers another request")
    return claims


def email_of(claims: Mapping[str, Any], provider: Provider) -> str | None:
    """The user's address in ID token or userinfo claims; None when not stated or stated as
    unverified (`email_verified: false`)."""
    email = claims.get("email")
    if claims.get("email_verified") is False:
        return None
    if not email and provider is Provider.MICROSOFT:
        # Work accounts often have no `email` claim; their sign-in name is the mailbox address.
        email = claims.get("preferred_username")
    if isinstance(email, str) and "@" in email:
        return email
    return None
