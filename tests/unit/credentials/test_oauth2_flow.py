"""The pure parts of built-in OAuth2: PKCE, the signed state, provider defaults, the
authorization URL, ID token claims and token answers."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2_apps import OAuth2App
from imapapi.credentials.oauth2_client import basic_auth, parse_token_answer
from imapapi.credentials.oauth2_flow import (
    DEFAULT_SCOPES,
    STATE_CONTEXT,
    Endpoints,
    Provider,
    StateClaims,
    StateError,
    authorization_url,
    email_of,
    endpoints_from_discovery,
    id_token_claims,
    pkce_challenge,
    pkce_pair,
    read_state,
    sign_state,
)
from imapapi.errors import ConsentRequiredError, OAuth2ProviderError
from imapapi.servers import ServerConfig, StartTls

BOX = SecretBox(b"k" * 32)
OTHER_BOX = SecretBox(b"o" * 32)
NOW = 1_800_000_000.0


def mac(body: bytes) -> bytes:
    return BOX.mac(body, STATE_CONTEXT)


def claims(**changes: object) -> StateClaims:
    fields: dict[str, object] = {
        "account": "alice",
        "app": "gmail",
        "redirect": "https://crm.example/back?x=1",
        "nonce": "n0nce",
        "expires": NOW + 600,
    }
    fields.update(changes)
    return StateClaims(**fields)  # type: ignore[arg-type]


# --- PKCE (RFC 7636) ---------------------------------------------------------------------------


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_pairs_are_random_and_of_the_allowed_length() -> None:
    (v1, c1), (v2, c2) = pkce_pair(), pkce_pair()
    assert v1 != v2 and c1 != c2
    assert 43 <= len(v1) <= 128  # RFC 7636 §4.1
    assert set(v1) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    assert pkce_challenge(v1) == c1


# --- the signed state ---------------------------------------------------------------------------


def test_a_signed_state_reads_back() -> None:
    state = sign_state(claims(), mac)
    assert read_state(state, mac, NOW) == claims(expires=float(int(NOW + 600)))


def _tamper(state: str) -> str:
    body, signature = state.split(".")
    doc = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    doc["acc"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: _tamper(s), "altered"),
        (lambda s: sign_state(claims(), lambda b: OTHER_BOX.mac(b, STATE_CONTEXT)), "altered"),
        (lambda s: s.split(".")[0], "not a state"),
        (lambda s: "", "not a state"),
        (lambda s: s + ".x", "not a state"),
        (lambda s: "a" * 3000 + "." + "b", "not a state"),
        (lambda s: sign_state(claims(expires=NOW - 1), mac), "expired"),
    ],
    ids=["tampered", "other-key", "no-signature", "empty", "extra-part", "too-long", "expired"],
)
def test_a_bad_state_is_refused_with_its_reason(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StateError, match=reason) as caught:
        read_state(make(sign_state(claims(), mac)), mac, NOW)
    assert caught.value.field == "state"


def test_the_state_mac_is_bound_to_its_purpose() -> None:
    assert BOX.mac(b"x", STATE_CONTEXT) != BOX.mac(b"x", "something-else")


# --- provider defaults and endpoints --------------------------------------------------------


def app(provider: Provider, **changes: object) -> OAuth2App:
    return OAuth2App(
        id="a", name="A", provider=provider, client_id="cid", client_secret="s3cr3t", **changes
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("provider", "scopes"),
    [
        (Provider.GOOGLE, "https://mail.google.com/ openid email"),
        (
            Provider.MICROSOFT,
            "https://outlook.office.com/IMAP.AccessAsUser.All "
            "https://outlook.office.com/SMTP.Send offline_access openid email",
        ),
        (Provider.OIDC, "openid email offline_access"),
    ],
    ids=["google", "microsoft", "oidc"],
)
def test_default_scopes_by_provider(provider: Provider, scopes: str) -> None:
    assert " ".join(app(provider).effective_scopes) == scopes
    assert app(provider, scopes=("x",)).effective_scopes == ("x",)
    assert DEFAULT_SCOPES[provider] == tuple(scopes.split())


@pytest.mark.parametrize(
    ("made", "authorize", "token", "issuer"),
    [
        (
            app(Provider.GOOGLE),
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://accounts.google.com",
        ),
        (
            app(Provider.MICROSOFT),
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            None,  # multi-tenant: `iss` names the user's tenant
        ),
        (
            app(Provider.MICROSOFT, tenant="contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0",
        ),
        (
            app(Provider.OIDC, authorization_url="https://id/a", token_url="https://id/t"),
            "https://id/a",
            "https://id/t",
            None,
        ),
    ],
    ids=["google", "microsoft-common", "microsoft-tenant", "oidc-explicit"],
)
def test_endpoints_by_provider(
    made: OAuth2App, authorize: str, token: str, issuer: str | None
) -> None:
    endpoints = made.fixed_endpoints()
    assert endpoints is not None
    assert (endpoints.authorization_url, endpoints.token_url, endpoints.issuer) == (
        authorize,
        token,
        issuer,
    )


def test_an_oidc_app_with_an_issuer_discovers_its_endpoints() -> None:
    assert app(Provider.OIDC, issuer="https://id.example").fixed_endpoints() is None
    doc = {
        "issuer": "https://id.example",
        "authorization_endpoint": "https://id.example/auth",
        "token_endpoint": "https://id.example/token",
        "userinfo_endpoint": "https://id.example/me",
    }
    assert endpoints_from_discovery(doc, "https://id.example/") == Endpoints(
        "https://id.example/auth", "https://id.example/token", "https://id.example/me",
        "https://id.example",
    )  # fmt: skip
    with pytest.raises(OAuth2ProviderError, match="another issuer"):
        endpoints_from_discovery({**doc, "issuer": "https://evil.example"}, "https://id.example")
    with pytest.raises(OAuth2ProviderError, match="lacks"):
        endpoints_from_discovery({"issuer": "https://id.example"}, "https://id.example")


def test_hosts_by_provider() -> None:
    imap, smtp = app(Provider.GOOGLE).hosts()
    assert (imap, smtp) == (
        ServerConfig("imap.gmail.com", 993, secure=True),
        ServerConfig("smtp.gmail.com", 465, secure=True),
    )
    imap, smtp = app(Provider.MICROSOFT).hosts()
    assert imap == ServerConfig("outlook.office365.com", 993, secure=True)
    assert smtp == ServerConfig("smtp.office365.com", 587, starttls=StartTls.REQUIRED)
    own = ServerConfig("imap.example", 143)
    assert app(Provider.OIDC, imap=own).hosts() == (own, None)


def test_client_secret_never_in_repr() -> None:
    assert "s3cr3t" not in repr(app(Provider.GOOGLE))


# --- the authorization URL ----------------------------------------------------------------------


def test_google_authorization_url_asks_for_offline_access_with_pkce() -> None:
    google = app(Provider.GOOGLE)
    endpoints = google.fixed_endpoints()
    assert endpoints is not None
    url = authorization_url(
        endpoints, Provider.GOOGLE, client_id="cid", redirect_uri="https://me/oauth2/callback",
        scopes=google.effective_scopes, state="st", challenge="ch", nonce="nn",
        login_hint="a@b.example",
    )  # fmt: skip
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == endpoints.authorization_url
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": "https://me/oauth2/callback",
        "scope": "https://mail.google.com/ openid email",
        "state": "st",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
        "nonce": "nn",
        "login_hint": "a@b.example",
    }


# --- ID token and userinfo claims -------------------------------------------------------------


def jwt(claims: dict[str, object]) -> str:
    def part(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


GOOD = {"iss": "https://id", "aud": "cid", "exp": NOW + 60, "nonce": "nn", "email": "a@b.c"}


def test_id_token_claims_are_checked() -> None:
    got = id_token_claims(jwt(GOOD), client_id="cid", issuer="https://id/", nonce="nn", now=NOW)
    assert got["email"] == "a@b.c"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "other"}, "another client"),
        ({"iss": "https://evil"}, "another issuer"),
        ({"exp": NOW - 1}, "expired"),
        ({"nonce": "replayed"}, "another request"),
    ],
    ids=["audience", "issuer", "expired", "nonce"],
)
def test_a_wrong_id_token_is_refused(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(OAuth2ProviderError, match=reason):
        id_token_claims(
            jwt({**GOOD, **changes}), client_id="cid", issuer="https://id", nonce="nn", now=NOW
        )


def test_garbage_is_not_an_id_token() -> None:
    with pytest.raises(OAuth2ProviderError, match="not a JWT"):
        id_token_claims("nope", client_id="cid", issuer=None, nonce="nn", now=NOW)


@pytest.mark.parametrize(
    ("claims", "provider", "email"),
    [
        ({"email": "a@b.c"}, Provider.OIDC, "a@b.c"),
        ({"email": "a@b.c", "email_verified": True}, Provider.GOOGLE, "a@b.c"),
        ({"email": "a@b.c", "email_verified": False}, Provider.GOOGLE, None),
        ({"preferred_username": "u@corp.example"}, Provider.MICROSOFT, "u@corp.example"),
        ({"preferred_username": "u@corp.example"}, Provider.OIDC, None),
        ({"email": "no-at-sign"}, Provider.OIDC, None),
    ],
    ids=["email", "verified", "unverified", "ms-upn", "oidc-no-email", "not-an-address"],
)
def test_email_of(claims: dict[str, object], provider: Provider, email: str | None) -> None:
    assert email_of(claims, provider) == email


# --- token answers (RFC 6749 §5) -------------------------------------------------------------


def test_a_token_answer_is_read() -> None:
    body = json.dumps(
        {"access_token": "AT-1", "expires_in": "120", "refresh_token": "RT-1", "token_type": "x"}
    ).encode()
    answer = parse_token_answer(200, body)
    assert (answer.access_token, answer.expires_in, answer.refresh_token) == ("AT-1", 120.0, "RT-1")
    assert "AT-1" not in repr(answer) and "RT-1" not in repr(answer)


def test_invalid_grant_asks_for_a_new_consent() -> None:
    body = b'{"error":"invalid_grant","error_description":"grant request is invalid"}'
    with pytest.raises(ConsentRequiredError, match="consent again"):
        parse_token_answer(400, body)


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (401, b'{"error":"invalid_client"}', "invalid_client"),
        (502, b"<html>bad gateway</html>", "not JSON"),
        (200, b'{"token_type":"Bearer"}', "no access_token"),
    ],
    ids=["client", "html", "no-token"],
)
def test_other_token_errors_are_provider_errors(status: int, body: bytes, reason: str) -> None:
    with pytest.raises(OAuth2ProviderError, match=reason):
        parse_token_answer(status, body)


def test_basic_auth_form_encodes_both_parts() -> None:
    # RFC 6749 §2.3.1: "a:b" would otherwise split at the wrong colon.
    raw = base64.b64decode(basic_auth("id:1", "p@ss w").removeprefix("Basic ")).decode()
    assert raw == "id%3A1:p%40ss%20w"
