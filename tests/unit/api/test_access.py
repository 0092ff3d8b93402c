"""Every /v1 route has a scope (api/access.py), and the route index the guard decides by picks
the route Starlette's router picks (api/routeindex.py)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Mount, Route

from imapapi.api.access import ROUTE_SCOPES
from imapapi.api.routeindex import RouteIndex, flatten
from imapapi.config import Settings
from imapapi.service import Service
from imapapi.web import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    # Not started: building the routes reads nothing.
    data_dir = tmp_path_factory.mktemp("data")
    service = Service.create(Settings(data_dir=data_dir, secret="s" * 32), sessions=False)
    return create_app(service, manage_lifespan=False)


def v1_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in flatten(app.router.routes)
        if isinstance(route, Route) and route.path.startswith("/v1")
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_every_v1_route_has_a_scope(app: FastAPI) -> None:
    # A route added without a row here is refused to every token: this says which.
    missing = v1_operations(app) - set(ROUTE_SCOPES)
    assert not missing, f"routes without a scope in api/access.py ROUTE_SCOPES: {missing}"


def test_every_scope_row_is_a_route(app: FastAPI) -> None:
    assert set(ROUTE_SCOPES) - v1_operations(app) == set()


Pick = tuple[BaseRoute, bool, dict[str, str]]


def router_pick(routes: list[BaseRoute], scope: dict[str, object]) -> Pick | None:
    """What Starlette's router does: the first full match, else the first partial one."""
    partial = None
    for route in flatten(routes):
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, True, child.get("path_params", {})
        if match == Match.PARTIAL and partial is None:
            partial = (route, False, child.get("path_params", {}))
    return partial


def sample_paths(app: FastAPI) -> list[str]:
    """Each route's template with its parameters filled in, and some paths near them."""
    paths = {"/", "/v1", "/v1/", "/v1/nowhere", "/v1/account//messages", "/static/x.css"}
    for route in flatten(app.router.routes):
        path = getattr(route, "path", "")
        filled = re.sub(r"\{[^}]+\}", "some.id", path)
        paths |= {filled, filled + "/", filled + "/extra", filled.replace("some.id", "accounts")}
    return sorted(paths)


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"])
def test_route_index_picks_what_the_router_picks(app: FastAPI, method: str) -> None:
    index = RouteIndex(app.router.routes)
    for path in sample_paths(app):
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        expected = router_pick(app.router.routes, scope)
        found = index.find(scope)
        got = None if found is None else (found.route, found.full, found.params)
        assert got == expected, (method, path)


def test_route_index_tries_other_routes_in_order() -> None:
    async def endpoint(request: object) -> None: ...

    routes: list[BaseRoute] = [
        Route("/v1/a/{x}", endpoint, methods=["GET"]),
        Route("/v1/f/file-{name}.txt", endpoint, methods=["GET"]),
        Mount("/v1/m", routes=[Route("/{rest:path}", endpoint)]),
        Route("/v1/m/{x}", endpoint, methods=["GET"]),
    ]
    index = RouteIndex(routes)
    for path, root in [
        *((p, "") for p in ("/v1/a/1", "/v1/m/1", "/v1/m/1/2", "/v1/zzz", "/v1/f/file-x.txt")),
        ("/base/v1/a/1", "/base"),  # served under a root path
    ]:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": root}
        found = index.find(scope)
        expected = router_pick(routes, scope)
        got = None if found is None else (found.route, found.full, found.params)
        assert got == expected, path
