"""Which API token may call which /v1 route: every route's scope in one table, and the account
binding (README "API tokens"). api/guard.py applies `check` to every /v1 request before the
router runs, so no route checks a token again; the token's record is left in the request scope
(`token_of`) for the routes that list accounts.

Deny by default: a route missing from the table is refused to every token (insecure mode
aside), and tests/unit/api/test_access.py fails for a /v1 route added without a scope.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from imapapi.credentials.tokens import require_account, require_scope, require_unbound
from imapapi.errors import ForbiddenError
from imapapi.store.base import TokenRecord

# (method, route template) -> the scope it needs. HEAD is answered as GET.
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    # read: accounts, mailboxes, messages, text, attachments, threads, search
    ("GET", "/v1/accounts"): "read",
    ("GET", "/v1/account/{account}"): "read",
    ("GET", "/v1/account/{account}/mailboxes"): "read",
    ("GET", "/v1/account/{account}/messages"): "read",
    ("POST", "/v1/account/{account}/search"): "read",
    ("GET", "/v1/account/{account}/message/{id}"): "read",
    ("GET", "/v1/account/{account}/message/{id}/source"): "read",
    ("GET", "/v1/account/{account}/text/{textId}"): "read",
    ("GET", "/v1/account/{account}/attachment/{attachmentId}"): "read",
    ("GET", "/v1/account/{account}/thread/{threadId}"): "read",
    # send: submit, the outbox, reply tracking of mail sent by other means
    ("POST", "/v1/account/{account}/submit"): "send",
    ("GET", "/v1/outbox"): "send",
    ("GET", "/v1/outbox/{queueId}"): "send",
    ("DELETE", "/v1/outbox/{queueId}"): "send",
    ("POST", "/v1/account/{account}/tracking"): "send",
    ("DELETE", "/v1/account/{account}/tracking"): "send",
    # write: flags, move, delete, upload, folders, the account's settings
    ("PUT", "/v1/account/{account}/message/{id}"): "write",
    ("PUT", "/v1/account/{account}/message/{id}/move"): "write",
    ("DELETE", "/v1/account/{account}/message/{id}"): "write",
    ("POST", "/v1/account/{account}/message"): "write",
    ("POST", "/v1/account/{account}/mailbox"): "write",
    ("PUT", "/v1/account/{account}/mailbox"): "write",
    ("DELETE", "/v1/account/{account}/mailbox"): "write",
    ("PUT", "/v1/account/{account}"): "write",
    ("PUT", "/v1/account/{account}/reconnect"): "write",
    # admin: accounts created and deleted, settings, tokens, webhooks, logs, OAuth2 apps
    ("POST", "/v1/account"): "admin",
    ("POST", "/v1/verifyAccount"): "admin",
    ("DELETE", "/v1/account/{account}"): "admin",
    ("GET", "/v1/settings"): "admin",
    ("POST", "/v1/settings"): "admin",
    ("GET", "/v1/logs/{account}"): "admin",
    ("GET", "/v1/webhooks/dead"): "admin",
    ("POST", "/v1/webhooks/replay"): "admin",
    ("GET", "/v1/tokens"): "admin",
    ("POST", "/v1/tokens"): "admin",
    ("DELETE", "/v1/tokens/{tokenId}"): "admin",
    ("POST", "/v1/oauth2/apps"): "admin",
    ("GET", "/v1/oauth2/apps"): "admin",
    ("GET", "/v1/oauth2/apps/{app}"): "admin",
    ("PATCH", "/v1/oauth2/apps/{app}"): "admin",
    ("DELETE", "/v1/oauth2/apps/{app}"): "admin",
    ("POST", "/v1/oauth2/authorize"): "admin",
    ("POST", "/v1/oauth2/connect"): "admin",
}

# The request scope key where api/guard.py leaves the admitted token's record.
TOKEN = "imapapi.token"  # noqa: S105 (a key name, not a secret)


def route_scope(method: str, template: str) -> str | None:
    """The scope `method` on `template` needs; None: the route is in no table row."""
    return ROUTE_SCOPES.get(("GET" if method == "HEAD" else method, template))


def check(
    record: TokenRecord | None, method: str, route: BaseRoute, params: dict[str, str]
) -> None:
    """Refuse `record` (None: insecure mode or a signed-in page, allowed everything) the
    request for `route`: `ForbiddenError` without the route's scope, or for a token bound to
    accounts on an admin route; the unknown account's `AccountNotFoundError` for an account
    the token is not bound to, before the route could tell whether it exists."""
    if record is None:
        return
    template = getattr(route, "path", "")
    scope = route_scope(method, template)
    if scope is None:
        raise ForbiddenError(f"{method} {template} is open to no API token")
    require_scope(record, scope)
    if scope == "admin":
        require_unbound(record)
    account = params.get("account")
    if account is not None:
        require_account(record, account)


def token_of(request: Request) -> TokenRecord | None:
    """The token admitted for this request; None in insecure mode or for a signed-in page."""
    record: TokenRecord | None = request.scope.get(TOKEN)
    return record
