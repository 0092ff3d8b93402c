"""OAuth2 app and consent models (issue 19, README "Using OAuth2")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from imapapi.api.schemas.accounts import HostIn, HostOut
from imapapi.api.schemas.common import ACCOUNT_ID_PATTERN, AccountId, ApiModel, SafeText
from imapapi.api.schemas.settings import WebUrl
from imapapi.credentials.oauth2_apps import OAuth2App
from imapapi.credentials.oauth2_flow import Provider

AppId = Annotated[
    str,
    Field(
        pattern=ACCOUNT_ID_PATTERN,
        description="Your identifier for the app: 1 to 128 of `A-Z a-z 0-9 . _ @ + -`, "
        "starting with a letter or digit.",
        examples=["gmail"],
    ),
]
Scope = Annotated[str, Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,512}$")]  # RFC 6749 §3.3
Tenant = Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]{1,128}$", examples=["common"])]

_PROVIDER = (
    "`google` (Gmail, Google Workspace), `microsoft` (Microsoft 365, Outlook.com) or `oidc` "
    "(any OpenID provider: give `issuer` for discovery, or `authorizationUrl` and `tokenUrl`)."
)
_SCOPES = (
    "Scopes to ask for; default by provider: google `https://mail.google.com/ openid email`; "
    "microsoft `https://outlook.office.com/IMAP.AccessAsUser.All "
    "https://outlook.office.com/SMTP.Send offline_access openid email`; oidc "
    "`openid email offline_access`."
)
_REDIRECT = (
    "imapapi's callback URL as registered at the provider. Default: "
    "`<IMAPAPI_PUBLIC_URL or the authorize request's base URL>/oauth2/callback`."
)
_HOSTS = (
    "Where the app's accounts connect; default by provider (Gmail: imap.gmail.com:993 TLS, "
    "smtp.gmail.com:465 TLS; Microsoft: outlook.office365.com:993 TLS, smtp.office365.com:587 "
    "STARTTLS). Required for `oidc` (IMAP; SMTP optional)."
)


class AppFields(ApiModel):
    """The fields an app is created with and a PATCH may change."""

    name: Annotated[SafeText, Field(min_length=1, max_length=256)] | None = None
    clientSecret: Annotated[SafeText, Field(min_length=1, max_length=4096)] | None = Field(
        None, description="Stored encrypted; never shown again (answers say `set`)."
    )
    clientId: Annotated[SafeText, Field(min_length=1, max_length=1024)] | None = None
    scopes: list[Scope] | None = Field(None, min_length=1, max_length=64, description=_SCOPES)
    tenant: Tenant | None = Field(
        None, description="Microsoft only: the directory (tenant id or domain). Default `common`."
    )
    issuer: WebUrl | None = Field(
        None, description="oidc: the issuer; endpoints come from its discovery document."
    )
    authorizationUrl: WebUrl | None = Field(None, description="oidc without discovery.")
    tokenUrl: WebUrl | None = Field(None, description="oidc without discovery.")
    userinfoUrl: WebUrl | None = Field(
        None,
        description="oidc without discovery: where the user's address is read when the "
        "ID token does not state it.",
    )
    redirectUrl: WebUrl | None = Field(None, description=_REDIRECT)
    imap: HostIn | None = Field(None, description=_HOSTS)
    smtp: HostIn | None = Field(None, description=_HOSTS)


class AppCreate(AppFields):
    """A new OAuth2 app, or a replacement of the app with this id."""

    id: AppId
    provider: Provider = Field(description=_PROVIDER)
    clientId: Annotated[SafeText, Field(min_length=1, max_length=1024)]
    clientSecret: Annotated[SafeText, Field(min_length=1, max_length=4096)] = Field(
        description="Stored encrypted; never shown again (answers say `set`)."
    )


class AppUpdate(AppFields):
    """Fields to change; an absent field is left as it is, `null` clears an optional one."""


class AppOut(ApiModel):
    """An app as the API shows it: never the client secret."""

    id: str
    name: str
    provider: Provider
    clientId: str
    clientSecret: Literal["set"] = Field("set", description="The secret is never shown.")
    scopes: list[str] = Field(description="The scopes asked for (the defaults when not set).")
    tenant: str | None = None
    issuer: str | None = None
    authorizationUrl: str | None = None
    tokenUrl: str | None = None
    userinfoUrl: str | None = None
    redirectUrl: str | None = Field(None, description=_REDIRECT)
    imap: HostOut | None = None
    smtp: HostOut | None = None
    created: datetime
    updated: datetime

    @classmethod
    def of(cls, app: OAuth2App) -> AppOut:
        imap, smtp = app.hosts()
        return cls(
            id=app.id,
            name=app.name,
            provider=app.provider,
            clientId=app.client_id,
            scopes=list(app.effective_scopes),
            tenant=app.tenant if app.provider is Provider.MICROSOFT else None,
            issuer=app.issuer,
            authorizationUrl=app.authorization_url,
            tokenUrl=app.token_url,
            userinfoUrl=app.userinfo_url,
            redirectUrl=app.redirect_url,
            imap=HostOut.of(imap) if imap else None,
            smtp=HostOut.of(smtp) if smtp else None,
            created=datetime.fromtimestamp(app.created).astimezone(),
            updated=datetime.fromtimestamp(app.updated).astimezone(),
        )


class AppUpserted(ApiModel):
    id: str
    created: bool = Field(description="True when the app is new, false when it was replaced.")


class AppDeleted(ApiModel):
    id: str
    deleted: Literal[True] = True


class AppList(ApiModel):
    apps: list[AppOut]


class AuthorizeIn(ApiModel):
    """Start a consent for one account."""

    app: AppId = Field(description="The OAuth2 app to consent to.")
    account: AccountId = Field(
        description="The account to create, or to update if the id exists (its hosts and "
        "login become the app's and the consenting user's)."
    )
    redirectUrl: WebUrl = Field(
        description="Where the user's browser is sent afterwards: with "
        "`?account=<id>&state=connected`, or `?account=<id>&error=<code>` (`access_denied` "
        "when the user declined)."
    )
    name: Annotated[SafeText, Field(max_length=256)] | None = Field(
        None, description="The account's display name."
    )
    loginHint: Annotated[SafeText, Field(max_length=320)] | None = Field(
        None, description="The address to suggest on the provider's sign-in page."
    )


class AuthorizeOut(ApiModel):
    url: str = Field(
        description="The provider's authorization URL: send the user's browser there. It "
        "works once, for 10 minutes."
    )


class ConnectIn(ApiModel):
    """A link to the hosted "Connect your mailbox" page for one account."""

    account: AccountId = Field(
        description="The account the page registers, or updates if the id exists."
    )
    redirectUrl: WebUrl = Field(
        description="Where the user's browser is sent when the mailbox is connected: with "
        "`?account=<id>&state=connected`; after an OAuth2 consent that failed, "
        "`?account=<id>&error=<code>`."
    )
    apps: list[AppId] | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="The OAuth2 apps the page offers, in this order. Default: every app.",
    )
    name: Annotated[SafeText, Field(max_length=256)] | None = Field(
        None, description="The account's display name."
    )
    email: Annotated[SafeText, Field(max_length=320)] | None = Field(
        None,
        description="The address to fill in on the page's password form and to suggest at "
        "the provider's sign-in.",
    )
    expiresIn: int = Field(
        3600, ge=60, le=7 * 86400, description="Seconds the link works (1 minute to 7 days)."
    )


class ConnectOut(ApiModel):
    url: str = Field(
        description="The page's URL: send the user's browser there. It holds no API token."
    )
    expires: datetime = Field(description="When the link stops working.")
