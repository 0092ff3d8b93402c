"""Runtime settings models (seed README "Set up webhook target", "Using OAuth2")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, GetJsonSchemaHandler, UrlConstraints
from pydantic_core import CoreSchema

from imapapi.api.schemas.common import ApiModel, SafeText
from imapapi.events.model import EventName


class _HttpSchemeInSchema:
    """States the http(s) scheme in the document too: `format: uri` alone admits any scheme
    (`localhost:*` is a URI), which clients and generators then send and get 400 for."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema = dict(handler(core_schema))
        schema["pattern"] = "^[hH][tT][tT][pP][sS]?://"
        return schema


WebUrl = Annotated[
    AnyHttpUrl,
    UrlConstraints(max_length=2048, allowed_schemes=["http", "https"]),
    _HttpSchemeInSchema(),
]


class SettingsIn(ApiModel):
    """Fields to change; a field set to `null` is cleared, an absent field is left as it is."""

    webhooks: WebUrl | None = Field(
        None,
        description=(
            "URL that receives every event as a JSON POST (HTTP/1.1, kept-alive connections). "
            "A 2xx answer is delivered; anything else, a redirect too (not followed), is "
            "retried with backoff. Credentials in the URL are sent as Basic authorization."
        ),
        examples=["https://example.com/imapapi/webhooks"],
    )
    webhookEvents: list[EventName | Literal["*"]] | None = Field(
        None,
        description='Event names to send, or `["*"]` for all (the default).',
        examples=[["messageNew", "messageDeleted"]],
    )
    authServer: WebUrl | None = Field(
        None,
        description="URL asked for credentials of accounts with `useAuthServer: true`.",
        examples=["https://example.com/imapapi/auth"],
    )
    serviceSecret: Annotated[SafeText, Field(min_length=16, max_length=512)] | None = Field(
        None,
        description="Key for the `X-Imapapi-Signature` HMAC-SHA256 of every webhook body. "
        "Stored encrypted; never shown again.",
    )


class SettingsOut(ApiModel):
    webhooks: str | None = None
    webhookEvents: list[str] = Field(default_factory=lambda: ["*"])
    authServer: str | None = None
    serviceSecretSet: bool = Field(
        False, description="Whether a service secret is configured (its value is never shown)."
    )
