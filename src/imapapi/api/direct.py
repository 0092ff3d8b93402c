"""The hot read routes called straight from api/guard.py, past FastAPI's per-request machinery.

A profile of `GET /v1/account/{account}/message/{id}` with 8 clients (bench/README.md, "list")
put about a quarter of the service's CPU per request in the layers between the guard and the
endpoint: the router's second match, FastAPI's dependency solving (a generic walk of every
parameter, ~11 %), the exception and exit-stack middleware. The guard has already found the
route (api/routeindex.py), so for a route of the plain shape below it calls the same endpoint
itself, with the arguments FastAPI would pass:

- the path and query parameters validated by the route's own fields (FastAPI's `ModelField`,
  the same pydantic validation FastAPI runs), defaults as declared;
- the session from `deps.get_session`, the one dependency such a route has;
- errors answered by the exception handlers' own functions (`errors.answer_exception`).

A request that is not plainly valid (a parameter missing, empty, repeated or refused by its
field) is left to FastAPI, which answers it as always, so no error is shaped here. A route of
any other shape (a body, headers, other dependencies, a response model to serialize, a plain
`def`), a HEAD, and every request while `app.dependency_overrides` is set go through FastAPI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, get_origin, get_type_hints

from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Scope

from imapapi import errors
from imapapi.api.deps import get_session
from imapapi.api.errors import answer_exception

# What a direct route may take from the query: one value each, of a scalar type.
_SCALARS = (str, int, bool, float)
# Dependant attributes that name a special parameter (the request, the response, ...): a route
# that takes any of them goes through FastAPI. Looked up with a default, as FastAPI versions
# differ in which they have.
_SPECIAL = (
    "request_param_name",
    "websocket_param_name",
    "http_connection_param_name",
    "response_param_name",
    "background_tasks_param_name",
    "security_scopes_param_name",
)


@dataclass(frozen=True, slots=True)
class DirectRoute:
    """One route's endpoint and the fields of its arguments."""

    endpoint: Callable[..., Awaitable[Response]]
    session_name: str  # the endpoint's parameter that takes the session
    account: Any  # the `account` path field of `get_session` (a FastAPI ModelField)
    path: tuple[Any, ...]  # the endpoint's own path fields
    query: tuple[Any, ...]  # its query fields

    async def serve(
        self, scope: Scope, request: Request, params: dict[str, str]
    ) -> Response | None:
        """The endpoint's response, or None when FastAPI must answer (see the module doc)."""
        account = _valid(self.account, params.get(self.account.alias), "path")
        if account is _INVALID:
            return None
        arguments: dict[str, Any] = {}
        for field in self.path:
            value = _valid(field, params.get(field.alias), "path")
            if value is _INVALID:
                return None
            arguments[field.name] = value
        if self.query:
            given = QueryParams(scope["query_string"])  # as Starlette's Request parses it
            for field in self.query:
                found = given.getlist(field.alias)
                if not found:
                    if field.field_info.is_required():
                        return None
                    arguments[field.name] = field.default
                    continue
                if len(found) > 1:
                    return None
                value = _valid(field, found[0], "query")
                if value is _INVALID:
                    return None
                arguments[field.name] = value
        try:
            arguments[self.session_name] = await get_session(account=account, request=request)
            return await self.endpoint(**arguments)
        except (errors.ImapApiError, StarletteHTTPException) as exc:
            return await answer_exception(request, exc)


_INVALID = object()


def _valid(field: Any, value: str | None, where: str) -> Any:
    """`value` as the field validates it, or `_INVALID` (missing, empty or refused)."""
    if not value:
        return _INVALID
    checked, problems = field.validate(value, {}, loc=(where, field.alias))
    return _INVALID if problems else checked


class DirectRoutes:
    """The direct routes of an app, by route (see the module docstring)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        # By the route's id: routes do not hash, and the app keeps them for its whole life.
        self._routes: dict[int, DirectRoute] = {}
        for route in routes:
            direct = _direct(route)
            if direct is not None:
                self._routes[id(route)] = direct

    def get(self, scope: Scope, route: BaseRoute) -> DirectRoute | None:
        """The direct form of `route` for this request, or None: FastAPI serves it."""
        if scope["method"] != "GET":
            return None
        direct = self._routes.get(id(route))
        if direct is None or getattr(scope.get("app"), "dependency_overrides", None):
            return None
        return direct


def _direct(route: BaseRoute) -> DirectRoute | None:
    """`route` as a DirectRoute when it has the plain shape, else None."""
    if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
        return None
    if not asyncio.iscoroutinefunction(route.endpoint) or not _answers_json(route.endpoint):
        return None
    dependant = route.dependant
    if not _plain(dependant) or len(dependant.dependencies) != 1:
        return None
    session = dependant.dependencies[0]
    if (
        session.call is not get_session
        or getattr(session, "request_param_name", None) != "request"
        or session.dependencies
        or session.query_params
        or session.header_params
        or session.cookie_params
        or session.body_params
        or [field.name for field in session.path_params] != ["account"]
        or session.name is None
    ):
        return None
    fields = [*dependant.path_params, *dependant.query_params]
    if not all(_scalar(field) for field in [*fields, *session.path_params]):
        return None
    return DirectRoute(
        endpoint=route.endpoint,
        session_name=session.name,
        account=session.path_params[0],
        path=tuple(dependant.path_params),
        query=tuple(dependant.query_params),
    )


def _plain(dependant: Any) -> bool:
    """No body, headers, cookies or special parameters."""
    return not (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or any(getattr(dependant, name, None) for name in _SPECIAL)
    )


def _answers_json(endpoint: Callable[..., Any]) -> bool:
    """The endpoint returns a JSONResponse (rendered whole before it is returned), so nothing
    is left for a response model to validate or serialize."""
    try:
        answer = get_type_hints(endpoint).get("return")
    except Exception:  # an annotation that does not resolve: leave the route to FastAPI
        return False
    return isinstance(answer, type) and issubclass(answer, JSONResponse)


def _scalar(field: Any) -> bool:
    """One plain value under its own name, with an immutable default."""
    annotation = field.field_info.annotation
    scalar = annotation in _SCALARS or get_origin(annotation) is Literal
    default = None if field.field_info.is_required() else field.default
    default_ok = default is None or isinstance(default, _SCALARS)
    return scalar and default_ok and field.alias == field.name
