"""Shapes shared by every route: the error body and field validators."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_NO_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


def _hostname(value: str) -> str:
    """A DNS hostname (IDN allowed) or an IP address; nothing that could carry CR/LF or spaces."""
    candidate = value.strip()
    if candidate != value or not candidate:
        raise ValueError("must be a hostname or IP address without spaces")
    try:
        ipaddress.ip_address(candidate.strip("[]"))
        return candidate.strip("[]")
    except ValueError:
        pass
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
    Field(min_length=1, max_length=253, examples=["imap.gmail.com"]),
    AfterValidator(_hostname),
]
Port = Annotated[int, Field(ge=1, le=65535, examples=[993])]
SafeText = Annotated[str, AfterValidator(_no_control)]
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
