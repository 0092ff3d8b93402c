"""Account request/response models (seed README "Register an email account")."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, JsonValue, StrictBool, model_validator
from pydantic.config import JsonDict

from imapapi.accounts.model import AccountConfig, AccountState
from imapapi.api.schemas.common import AccountId, ApiModel, Hostname, IsoDateTime, Port, SafeText
from imapapi.servers import ServerAuth, ServerConfig, StartTls

# The auth rules of the validators below, stated in the OpenAPI document (JSON Schema).
_BOTH_AUTH: JsonDict = {
    "required": ["auth", "useAuthServer"],
    "properties": {"auth": {"type": "object"}, "useAuthServer": {"const": True}},
}
_ONE_AUTH: list[JsonValue] = [
    {
        "required": ["auth"],
        "properties": {"auth": {"type": "object"}, "useAuthServer": {"const": False}},
    },
    {
        "required": ["useAuthServer"],
        "properties": {"auth": {"type": "null"}, "useAuthServer": {"const": True}},
    },
]


def _given(name: str) -> JsonDict:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


# `account` is needed when a server asks the auth server (VerifyIn).
_USES_AUTH_SERVER: JsonDict = {
    "required": ["useAuthServer"],
    "properties": {"useAuthServer": {"const": True}},
}
_NO_AUTH_SERVER: JsonDict = {
    "properties": {
        "imap": {"anyOf": [{"type": "null"}, {"not": _USES_AUTH_SERVER}]},
        "smtp": {"anyOf": [{"type": "null"}, {"not": _USES_AUTH_SERVER}]},
    }
}


class AuthIn(ApiModel):
    """Password login for a server."""

    user: Annotated[SafeText, Field(min_length=1, max_length=512, examples=["myuser@gmail.com"])]
    password: Annotated[
        SafeText, Field(alias="pass", min_length=1, max_length=4096, examples=["verysecret"])
    ]


class TlsIn(ApiModel):
    """TLS options."""

    rejectUnauthorized: StrictBool = Field(
        True,
        description="Verify the server certificate. Set to false only for servers with "
        "self-signed certificates you trust.",
    )


class HostIn(ApiModel):
    """Where a server is and how to secure the connection (no login)."""

    host: Hostname
    port: Port
    secure: StrictBool = Field(
        False, description="Implicit TLS from the first byte (993 for IMAP, 465 for SMTP)."
    )
    starttls: StartTls = Field(
        StartTls.AUTO,
        description="On a non-secure connection: `auto` upgrades with STARTTLS when offered, "
        "`required` refuses servers that do not offer it, `never` stays in plain text.",
    )
    tls: TlsIn = Field(default_factory=TlsIn)

    def to_config(self) -> ServerConfig:
        return ServerConfig(
            host=self.host,
            port=self.port,
            secure=self.secure,
            starttls=self.starttls,
            tls_verify=self.tls.rejectUnauthorized,
        )


class ServerIn(HostIn):
    """Server settings shared by IMAP and SMTP; at most one of `auth` or `useAuthServer`."""

    auth: AuthIn | None = Field(None, description="Username and password.")
    useAuthServer: StrictBool = Field(
        False, description="Ask the configured auth server for credentials before each login."
    )

    model_config = ConfigDict(json_schema_extra={"not": _BOTH_AUTH})

    @model_validator(mode="after")
    def _at_most_one_auth(self) -> ServerIn:
        if self.auth is not None and self.useAuthServer:
            raise ValueError("`auth` and `useAuthServer` cannot both be set")
        return self

    def to_config(self) -> ServerConfig:
        return replace(
            super().to_config(),
            auth=ServerAuth(self.auth.user, self.auth.password) if self.auth else None,
            use_auth_server=self.useAuthServer,
        )


class ImapServerIn(ServerIn):
    """IMAP server settings: exactly one of `auth` or `useAuthServer: true`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": _ONE_AUTH})

    @model_validator(mode="after")
    def _one_auth(self) -> ImapServerIn:
        if self.auth is None and not self.useAuthServer:
            raise ValueError("either `auth` or `useAuthServer: true` is required")
        return self


class SmtpServerIn(ServerIn):
    """SMTP server settings: `auth`, `useAuthServer: true`, or neither for a server that takes
    mail without a login (a relay that trusts its network). With `auth` or `useAuthServer`,
    a server that offers no AUTH is an error: credentials are never silently left unused."""

    auth: AuthIn | None = Field(
        None,
        description="Username and password. Leave out (with `useAuthServer` false) to send "
        "without logging in; when given, the server must offer AUTH (RFC 4954), else sending "
        "fails with `MissingCapability`.",
    )


_IMAP_EXAMPLE = {
    "host": "imap.gmail.com",
    "port": 993,
    "secure": True,
    "auth": {"user": "myuser@gmail.com", "pass": "verysecret"},
}
_SMTP_EXAMPLE = {
    "host": "smtp.gmail.com",
    "port": 465,
    "secure": True,
    "auth": {"user": "myuser@gmail.com", "pass": "verysecret"},
}


class AccountCreate(ApiModel):
    """Register an account, or update it when the id exists (upsert)."""

    account: AccountId
    name: Annotated[SafeText, Field(max_length=256)] | None = Field(
        None, examples=["My Example Account"]
    )
    email: Annotated[SafeText, Field(max_length=320)] | None = Field(
        None, description="The account's own address (used as a default sender)."
    )
    imap: ImapServerIn = Field(examples=[_IMAP_EXAMPLE])
    smtp: SmtpServerIn | None = Field(
        None,
        examples=[_SMTP_EXAMPLE],
        description="Where /submit sends mail. Without `auth` and `useAuthServer` the server is "
        "used without a login.",
    )
    notifyFrom: IsoDateTime | None = Field(
        None,
        description="ISO 8601 date-time with a time zone. Messages dated after this moment "
        "that are already in the mailbox when the account is first synced are reported as "
        "`messageNew`. By default only mail that arrives after registration is new.",
    )

    def to_config(self) -> AccountConfig:
        return AccountConfig(
            account=self.account,
            name=self.name,
            email=self.email,
            imap=self.imap.to_config(),
            smtp=self.smtp.to_config() if self.smtp else None,
            notify_from=self.notifyFrom.isoformat() if self.notifyFrom else None,
        )


class ServerPatch(ApiModel):
    """Partial server settings: given fields replace the stored ones. For `smtp`, `"auth":
    null` (with `useAuthServer` false) removes the login: mail is then sent without one."""

    host: Hostname | None = None
    port: Port | None = None
    secure: StrictBool | None = None
    starttls: StartTls | None = None
    tls: TlsIn | None = None
    auth: AuthIn | None = None
    useAuthServer: StrictBool | None = None

    model_config = ConfigDict(json_schema_extra={"not": _BOTH_AUTH})

    @model_validator(mode="after")
    def _at_most_one_auth(self) -> ServerPatch:
        if self.auth is not None and self.useAuthServer:
            raise ValueError("`auth` and `useAuthServer: true` cannot both be set")
        return self


class AccountUpdate(ApiModel):
    """Partial account update: only the given fields change (nested server fields too)."""

    name: Annotated[SafeText, Field(max_length=256)] | None = None
    email: Annotated[SafeText, Field(max_length=320)] | None = None
    imap: ServerPatch | None = None
    smtp: ServerPatch | None = None
    notifyFrom: IsoDateTime | None = Field(
        None, description="ISO 8601 date-time with a time zone, as at registration."
    )


class AuthOut(ApiModel):
    user: str


class HostOut(ApiModel):
    host: str
    port: int
    secure: bool
    starttls: StartTls
    tls: TlsIn

    @classmethod
    def of(cls, server: ServerConfig) -> HostOut:
        return cls(
            host=server.host,
            port=server.port,
            secure=server.secure,
            starttls=server.starttls,
            tls=TlsIn(rejectUnauthorized=server.tls_verify),
        )


class ServerOut(HostOut):
    auth: AuthOut | None = None
    useAuthServer: bool

    @classmethod
    def of(cls, server: ServerConfig) -> ServerOut:
        return cls(
            **HostOut.of(server).model_dump(),
            auth=AuthOut(user=server.auth.user) if server.auth else None,
            useAuthServer=server.use_auth_server,
        )


class OAuth2LinkOut(ApiModel):
    app: str = Field(description="The OAuth2 app the user consented to.")
    user: str = Field(description="The address the user consented as (the login).")


class AccountOut(ApiModel):
    """An account as the API shows it: never a password."""

    account: str
    name: str | None = None
    email: str | None = None
    state: AccountState = Field(
        description="Connection state of the account's IMAP session. After a failure the "
        "account stays in `connectError` or `authenticationError` while it retries, until an "
        "attempt succeeds (`connected`)."
    )
    lastError: str | None = Field(
        None, description="The error of the latest failed attempt; null once connected."
    )
    attempts: int = Field(
        0,
        description="Failed connection attempts since the account was last connected (0 while "
        "connected). Counts every retry, while the `connectError`/`authenticationError` "
        "webhook is sent once per state and error code.",
    )
    nextAttempt: datetime | None = Field(
        None,
        description="When the next connection attempt is due (ISO 8601, UTC); null while "
        "connected or while an attempt is under way.",
    )
    imap: ServerOut
    smtp: ServerOut | None = None
    oauth2: OAuth2LinkOut | None = Field(
        None,
        description="Set for accounts connected through a built-in OAuth2 app (issue 19): "
        "logins use the access tokens of the user's consent, never a password.",
    )
    notifyFrom: str | None = None
    created: datetime
    updated: datetime


class AccountSummary(ApiModel):
    account: str
    name: str | None = None
    email: str | None = None
    state: AccountState
    lastError: str | None = None
    attempts: int = Field(0, description="As in the account details.")
    nextAttempt: datetime | None = Field(None, description="As in the account details.")


class AccountUpserted(ApiModel):
    account: str = Field(examples=["example"])
    state: AccountState = Field(examples=["connecting"])
    created: bool = Field(description="True when the account is new, false when it was updated.")


class AccountDeleted(ApiModel):
    account: str
    deleted: Literal[True] = True


class AccountReconnect(ApiModel):
    account: str
    reconnect: Literal[True] = True


class AccountList(ApiModel):
    accounts: list[AccountSummary]
    page: int = Field(description="Zero-based page number.")
    pages: int = Field(description="How many pages there are.")
    total: int = Field(description="How many accounts match.")


class VerifyIn(ApiModel):
    """Settings to test: nothing is stored."""

    account: AccountId | None = Field(
        None,
        description="With `useAuthServer: true`, the account id the auth server is asked "
        "about (`?account=<id>&proto=imap|smtp`).",
    )
    imap: ImapServerIn | None = None
    smtp: SmtpServerIn | None = Field(
        None,
        description="Without `auth` and `useAuthServer`: checks that the server takes mail "
        "without a login (a MAIL FROM:<> that is then reset).",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"anyOf": [_given("imap"), _given("smtp")]},
                {"anyOf": [_given("account"), _NO_AUTH_SERVER]},
            ]
        }
    )

    @model_validator(mode="after")
    def _something(self) -> VerifyIn:
        if self.imap is None and self.smtp is None:
            raise ValueError("give `imap`, `smtp` or both")
        return self


class VerifyResult(ApiModel):
    success: bool
    error: str | None = Field(None, description="The server's error when `success` is false.")
    code: str | None = Field(None, description="Machine readable error code.")


class VerifyOut(ApiModel):
    imap: VerifyResult | None = None
    smtp: VerifyResult | None = None
