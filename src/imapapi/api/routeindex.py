"""The route Starlette's router will pick for a request, found before the router runs.

api/guard.py decides access before routing (so a refused request's body is never read), and
access depends on the route. Trying every route's regex per request costs a scan of ~40
patterns; this index walks the path's segments through a tree of the route templates instead,
a dict lookup per segment. It picks what the router picks: of the routes whose template fits
the path, the first registered that allows the method, else the first that does not (405).

Only routes whose parameters are plain `{name}` (Starlette's `str` convertor: one non-empty
segment) go in the tree; any other route (a `Mount`, a `{p:path}` parameter) is tried with its
own `matches`, in registration order, as the router would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette._utils import get_route_path  # the router's own (not exported)
from starlette.convertors import StringConvertor
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope


@dataclass(frozen=True, slots=True)
class Found:
    """The route for a request: `full` when it also allows the method (else the router
    answers 405); `params` are the path parameters by name."""

    route: BaseRoute
    full: bool
    params: dict[str, str]


# (registration order, route, (segment position, name) of each of its parameters)
_Leaf = tuple[int, Route, tuple[tuple[int, str], ...]]


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    wildcard: _Node | None = None
    leaves: list[_Leaf] = field(default_factory=list)


def flatten(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes in the order the router tries them."""
    flat: list[BaseRoute] = []
    for route in routes:
        # Recent FastAPI keeps each included router whole; its routes carry the full paths
        # (every router of api/routes/ has its own prefix, none is given at inclusion).
        included = getattr(route, "original_router", None)
        flat.extend(flatten(included.routes) if included is not None else [route])
    return flat


def _indexable(route: BaseRoute) -> bool:
    """A route of literal segments and whole-segment `{name}` parameters (no `a-{b}.txt`)."""
    return (
        isinstance(route, Route)
        and all(isinstance(c, StringConvertor) for c in route.param_convertors.values())
        and all(
            "{" not in segment or (segment[0] == "{" and segment.index("}") == len(segment) - 1)
            for segment in route.path_format.split("/")
        )
    )


class RouteIndex:
    """The routes of an app, as a tree of their path segments (see the module docstring)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self._root = _Node()
        self._others: list[tuple[int, BaseRoute]] = []
        for order, route in enumerate(flatten(routes)):
            if not _indexable(route):
                self._others.append((order, route))
                continue
            assert isinstance(route, Route)
            node = self._root
            params = []
            for position, segment in enumerate(route.path_format.split("/")):
                if segment.startswith("{") and segment.endswith("}"):
                    params.append((position, segment[1:-1]))
                    node.wildcard = node.wildcard or _Node()
                    node = node.wildcard
                else:
                    node = node.literal.setdefault(segment, _Node())
            node.leaves.append((order, route, tuple(params)))

    def find(self, scope: Scope) -> Found | None:
        """The route the router will pick for `scope`, or None (it answers 404)."""
        # The path the router matches: without the app's root path, if it is served under one.
        segments = get_route_path(scope).split("/")
        method = scope["method"]
        full: tuple[int, Found] | None = None
        partial: tuple[int, Found] | None = None
        for order, route, params in _leaves(self._root, segments, 0):
            if full is not None and order > full[0]:
                continue
            allowed = route.methods is None or method in route.methods
            if allowed or partial is None or order < partial[0]:
                found = Found(route, allowed, {name: segments[i] for i, name in params})
                if allowed:
                    full = (order, found)
                else:
                    partial = (order, found)
        for order, other in self._others:
            if full is not None and order > full[0]:
                break  # the router stops at the full match
            match, child = other.matches(scope)
            values = dict(child.get("path_params", {}))
            if match == Match.FULL:
                full = (order, Found(other, True, values))
                break
            if match == Match.PARTIAL and (partial is None or order < partial[0]):
                partial = (order, Found(other, False, values))
        chosen = full or partial
        return chosen[1] if chosen is not None else None


def _leaves(node: _Node, segments: list[str], depth: int) -> list[_Leaf]:
    if depth == len(segments):
        return node.leaves
    segment = segments[depth]
    found: list[_Leaf] = []
    child = node.literal.get(segment)
    if child is not None:
        found = _leaves(child, segments, depth + 1)
    # `{name}` is Starlette's `[^/]+`: any segment but an empty one.
    if node.wildcard is not None and segment:
        found = found + _leaves(node.wildcard, segments, depth + 1)
    return found
