"""API token models (`/v1/tokens`; README "API tokens")."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from imapapi.api.schemas.common import AccountId, ApiModel, SafeText
from imapapi.credentials.tokens import SCOPES
from imapapi.events.model import format_date
from imapapi.store.base import TokenRecord

MAX_DESCRIPTION = 200
MAX_ACCOUNTS = 1000


def _known_scope(value: str) -> str:
    if value not in SCOPES:
        raise ValueError(f"unknown scope {value!r} (one of {', '.join(SCOPES)})")
    return value


Scope = Annotated[
    str, AfterValidator(_known_scope), Field(json_schema_extra={"enum": list(SCOPES)})
]


class TokenCreate(ApiModel):
    description: SafeText = Field("", max_length=MAX_DESCRIPTION, examples=["support agent"])
    scopes: list[Scope] = Field(
        ["admin"],
        min_length=1,
        max_length=len(SCOPES),
        description="`read`, `send`, `write`, `admin` (all of /v1 but /metrics) and `metrics`.",
        examples=[["read", "send"]],
    )
    accounts: list[AccountId] = Field(
        [],
        max_length=MAX_ACCOUNTS,
        description="Bind the token to these account ids: every other account answers 404 "
        "to it, account lists show only these, and admin routes are refused. Empty: every "
        "account. The accounts need not be registered yet.",
        examples=[["example"]],
    )


class TokenOut(ApiModel):
    id: str
    description: str
    scopes: list[str]
    accounts: list[str] = Field(description="Empty: not bound, every account.")
    state: str = Field(description="`active` or `revoked`.")
    created: str
    revoked: str | None = None

    @classmethod
    def of(cls, record: TokenRecord) -> TokenOut:
        return cls(
            id=record.id,
            description=record.description,
            scopes=list(record.scopes),
            accounts=list(record.accounts),
            state="revoked" if record.revoked is not None else "active",
            created=format_date(record.created),
            revoked=format_date(record.revoked) if record.revoked is not None else None,
        )


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token: shown only in this answer, never again.")


class TokenList(ApiModel):
    tokens: list[TokenOut]


class TokenRevoked(ApiModel):
    id: str
    revoked: bool
