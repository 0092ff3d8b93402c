"""Reading HTML form posts (application/x-www-form-urlencoded) without python-multipart.

The pages post small forms only, so the standard library's `parse_qs` is enough; the body is
bounded so a large post cannot make us buffer without limit.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request

MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 100


class FormError(Exception):
    """The request is not a form we can read; the message says why."""


class Form:
    """The fields of one posted form; repeated fields (checkboxes) keep every value."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[0] if values else default

    def getall(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))

    def __contains__(self, name: object) -> bool:
        return name in self._fields


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError("expected an HTML form (application/x-www-form-urlencoded)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("the form is too large")
    try:
        fields = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("the form cannot be read") from exc
    return Form(fields)
