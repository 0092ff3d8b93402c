"""The one place where errors become HTTP answers (STYLE.md 9).

Every failure leaves as `{"error", "code", "statusCode", "details"}`. Unexpected exceptions are
logged once here, with their traceback, and answered with a 500 that carries no internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from imapapi import errors

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type[errors.ImapApiError], int]] = [
    (errors.UnprocessableError, 422),
    (errors.InvalidInputError, 400),
    (errors.UnauthorizedError, 401),
    (errors.ForbiddenError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.PayloadTooLargeError, 413),
    # The mail server refused a well-formed request (IMAP NO, a missing extension).
    (errors.CapabilityError, 422),
    (errors.CommandFailedError, 422),
    (errors.ServerTimeoutError, 504),
    (errors.OAuth2ProviderError, 502),  # the provider, a gateway of ours, failed
    (errors.AuthenticationFailedError, 503),
    (errors.NetworkError, 503),
    (errors.NotConnectedError, 503),
    (errors.ProtocolError, 502),
    (errors.SendError, 502),
    (errors.MailServerError, 502),
    (errors.StoreError, 500),
]

HTTP_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "Unprocessable",
    429: "TooManyRequests",
}


class BodyTooLarge(StarletteHTTPException):
    """A request body over the cap of its route (api/guard.py counts it as it arrives). An
    HTTPException so FastAPI's body reader passes it on instead of answering 400."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            413, f"the request body is over the {limit}-byte limit of this route ({setting})"
        )
        self.limit = limit
        self.setting = setting


def status_for(exc: errors.ImapApiError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": message, "code": code, "statusCode": status, "details": details}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(
        error_body(status, code, message, details), status_code=status, headers=all_headers
    )


# Steps pydantic adds to a location for validators and for the members of a union
# (`search.uid` is a string or an integer): not fields, so not named to the caller.
_NOT_FIELDS = ("function-", "constrained-")
_UNION_MEMBERS = frozenset({"str", "int", "bool", "float", "date", "datetime"})


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "imap", "port") -> "imap.port"; ("query", "page") -> "page"
    parts = [
        str(p)
        for p in loc[1:]
        if not str(p).startswith(_NOT_FIELDS) and str(p) not in _UNION_MEMBERS
    ]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _on_imapapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.ImapApiError)
    status = status_for(exc)
    details = exc.details
    if isinstance(exc, errors.InvalidInputError) and details is None:
        details = [{"field": exc.field, "reason": exc.reason}]
    if status >= 500 and not isinstance(exc, errors.MailServerError):
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return error_response(status, exc.code, exc.message, details)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        field = _field(tuple(err.get("loc", ())))
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append({"field": field, "reason": reason})
    message = "; ".join(f"{p['field']}: {p['reason']}" for p in problems) or "invalid request"
    return error_response(400, "InvalidInput", message, problems)


async def _on_body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return body_too_large_response(exc)


def body_too_large_response(exc: BodyTooLarge) -> JSONResponse:
    reason = f"over {exc.limit} bytes (setting {exc.setting})"
    return error_response(
        413, "PayloadTooLarge", str(exc.detail), [{"field": "body", "reason": reason}]
    )


async def answer_exception(request: Request, exc: Exception) -> JSONResponse:
    """The answer the handlers below give to `exc`, for code that runs outside them (the
    middleware of api/guard.py sits above FastAPI's exception handling)."""
    if isinstance(exc, errors.ImapApiError):
        return await _on_imapapi_error(request, exc)
    if isinstance(exc, StarletteHTTPException):
        return await _on_http_error(request, exc)
    return await _on_unexpected(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "HttpError")
    message = exc.detail if isinstance(exc.detail, str) else code
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # RFC 9110 §15.5.6: a 405 lists every method of the path in `Allow`. Starlette fills it
        # from the one route (FastAPI: one per method) that matched first, so collect them all.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods.update(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return error_response(500, "InternalError", "internal error; see the service log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.ImapApiError, _on_imapapi_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(BodyTooLarge, _on_body_too_large)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
