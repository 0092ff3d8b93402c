"""Shapes shared by every route: the error body and field validators."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_NO_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The same rule as the OpenAPI document states it (JSON Schema `pattern`, ECMA-262 syntax).
NO_CONTROL_PATTERN = r"^[^\u0000-\u001f\u007f]*$"


class ApiModel(BaseModel):
    """Base for every request/response model: unknown fields are refused, names are camelCase."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: str = Field(description="Human readable description of what went wrong.")
    code: str = Field(description="Machine readable error code, e.g. `InvalidInput`.")
    statusCode: int = Field(description="The HTTP status, repeated in the body.")
    details: Any = Field(None, description="Optional specifics, e.g. the offending fields.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": "imap.port: Input should be less than or equal to 65535",
                "code": "InvalidInput",
                "statusCode": 400,
                "details": [{"field": "imap.port", "reason": "less than or equal to 65535"}],
            }
        }
    )


# The rule `_hostname` applies, as the OpenAPI document states it: an ASCII DNS name (RFC 1123
# labels; IDN in its xn-- form), or an IPv4 or IPv6 address (RFC 3986 §3.2.2 forms, optionally
# in brackets).
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_H16 = r"[0-9A-Fa-f]{1,4}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_LS32 = rf"(?:{_H16}:{_H16}|{_V4})"
_V6 = "|".join(
    [
        rf"(?:{_H16}:){{6}}{_LS32}",
        rf"::(?:{_H16}:){{5}}{_LS32}",
        rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        *(rf"(?:(?:{_H16}:){{0,{n - 1}}}{_H16})?::(?:{_H16}:){{{3 - n}}}{_LS32}" for n in (2, 3)),
        rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
)
HOSTNAME_PATTERN = rf"^(?:{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?|{_V6}|\[(?:{_V6})\])$"


def _hostname(value: str) -> str:
    """An ASCII DNS hostname or an IP address; nothing that could carry CR/LF or spaces."""
    candidate = value.strip()
    if candidate != value or not candidate:
        raise ValueError("must be a hostname or IP address without spaces")
    if not candidate.isascii():
        raise ValueError("must be ASCII: write an internationalized name in its xn-- form")
    bare = candidate[1:-1] if candidate.startswith("[") and candidate.endswith("]") else None
    if bare is not None or ":" in candidate:
        address = candidate if bare is None else bare
        try:
            if "%" in address:  # a zone id names an interface of this machine, not a server
                raise ValueError(address)
            ipaddress.IPv6Address(address)
        except ValueError as exc:
            raise ValueError("is not a valid IPv6 address") from exc
        return address
    try:
        ascii_name = candidate.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("is not a valid hostname") from exc
    ascii_name = ascii_name.rstrip(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(p) for p in ascii_name.split(".")):
        raise ValueError("is not a valid hostname")
    return candidate


def _no_control(value: str) -> str:
    if _NO_CONTROL.search(value):
        raise ValueError("must not contain control characters (CR, LF, NUL, …)")
    return value


Hostname = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        examples=["imap.gmail.com"],
        description="A DNS name (internationalized names in their xn-- form), an IPv4 "
        "address, or an IPv6 address (in brackets or not).",
        json_schema_extra={"pattern": HOSTNAME_PATTERN},
    ),
    AfterValidator(_hostname),
]
Port = Annotated[int, Field(ge=1, le=65535, examples=[993])]
# The pattern is stated in the schema only: the validator gives the readable reason.
SafeText = Annotated[
    str, AfterValidator(_no_control), Field(json_schema_extra={"pattern": NO_CONTROL_PATTERN})
]


# Base64 (RFC 4648 §4, padded) with spaces and line breaks anywhere; the routes strip
# BASE64_SPACE and decode with `validate=True`, which is this rule.
BASE64_SPACE = re.compile(r"[ \t\r\n]+")


def base64_pattern(*, empty: bool) -> str:
    char = r"[A-Za-z0-9+/][ \t\r\n]*"
    quad = char * 4
    last = rf"{quad}|{char}{char}=[ \t\r\n]*=|{char}{char}{char}="
    return rf"^[ \t\r\n]*(?:{quad})*(?:{last}){'?' if empty else ''}[ \t\r\n]*$"


def _iso_text(value: Any) -> Any:
    # pydantic would also take a number as Unix time; the API documents ISO 8601 text only.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


ISO_TEXT = BeforeValidator(_iso_text)
IsoDateTime = Annotated[AwareDatetime, ISO_TEXT]
ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"
AccountId = Annotated[
    str,
    Field(
        pattern=ACCOUNT_ID_PATTERN,
        description="Your identifier for the account: 1 to 128 of `A-Z a-z 0-9 . _ @ + -`, "
        "starting with a letter or digit.",
        examples=["example"],
    ),
]
