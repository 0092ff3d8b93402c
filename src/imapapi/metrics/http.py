"""The route label of HTTP request metrics (counted by api/guard.py, the one ASGI layer in
front of the routes, by method, route template and status).

The route label is the template Starlette matched (`/v1/account/{account}`), never the raw
path: account ids in paths would make one time series per account. Requests that match no
route share the label `unmatched`, so a scan of random URLs cannot grow the series either.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The path template of the route Starlette matched for `scope`, or `unmatched`."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED
