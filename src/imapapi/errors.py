"""The one exception hierarchy of imapapi.

Lower layers raise these; `api/errors.py` is the only place that maps them to HTTP statuses.
Foreign exceptions (OSError, ssl, aiosmtplib, sqlite) are translated at the layer boundary with
`raise ... from exc` so they never leak upward.
"""

from __future__ import annotations

from typing import Any


class ImapApiError(Exception):
    """Base of every error imapapi raises on purpose."""

    code = "InternalError"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


# --- bad input and missing things -------------------------------------------------------------


class InvalidInputError(ImapApiError):
    """A value from the caller is not acceptable; `field` names it."""

    code = "InvalidInput"

    def __init__(self, field: str, reason: str, *, details: Any = None) -> None:
        super().__init__(f"{field}: {reason}", details=details)
        self.field = field
        self.reason = reason


class UnprocessableError(InvalidInputError):
    """A well-formed value refused by a rule the API's schema cannot state: one that depends on
    the account (labels on a server without them, `from` when the account has no address) or
    on more than a pattern can say (an id that decodes to nothing). Answered 422, where 400
    means the request breaks its documented schema."""


class NotFoundError(ImapApiError):
    """The account, message, folder or other named thing does not exist."""

    code = "NotFound"


class AccountNotFoundError(NotFoundError):
    """No account is registered under this id."""

    code = "AccountNotFound"


class ConflictError(ImapApiError):
    """The request conflicts with the current state (e.g. a folder that already exists)."""

    code = "Conflict"


class PayloadTooLargeError(ImapApiError):
    """The request body or a value inside it is over a configured limit."""

    code = "PayloadTooLarge"


# --- API authentication ------------------------------------------------------------------------


class UnauthorizedError(ImapApiError):
    """No usable credentials came with the request."""

    code = "Unauthorized"


class ForbiddenError(ImapApiError):
    """The credentials are known but not (or no longer) allowed, e.g. a revoked token."""

    code = "Forbidden"


# --- mail servers ------------------------------------------------------------------------------


class MailServerError(ImapApiError):
    """Base for failures talking to an IMAP or SMTP server."""

    code = "MailServerError"


class NetworkError(MailServerError):
    """The server could not be reached or the connection broke (DNS, refused, reset, TLS)."""

    code = "NetworkError"


class ServerTimeoutError(MailServerError):
    """The server did not answer in time."""

    code = "Timeout"


class NotConnectedError(MailServerError):
    """The account's connection is not up, so the request cannot be served now."""

    code = "NotConnected"


class AuthenticationFailedError(MailServerError):
    """The server refused the account's credentials."""

    code = "AuthenticationFailed"


class AuthServerError(AuthenticationFailedError):
    """The OAuth2 auth server gave no usable credentials (unreachable, timeout, non-200, bad
    JSON, missing fields). Usually transient, so sessions retry sooner than after a refusal."""

    code = "AuthServerError"


class OAuth2ProviderError(AuthServerError):
    """An OAuth2 provider's endpoint (discovery, token, userinfo) failed or answered something
    unusable. Like an auth-server outage it is usually transient, so sessions retry soon."""

    code = "OAuth2ProviderError"


class ConsentRequiredError(AuthenticationFailedError):
    """The provider refused the account's stored grant (`invalid_grant`: consent revoked, the
    refresh token expired): only a new consent (`POST /v1/oauth2/authorize`) helps, so nothing
    retries until the account is updated by one."""

    code = "OAuth2ConsentRequired"


class ProtocolError(MailServerError):
    """The server said something we could not understand (garbled or unexpected response)."""

    code = "ProtocolError"


class CommandFailedError(MailServerError):
    """The IMAP server answered NO or BAD; `status`, `text` and `response_code` tell why."""

    code = "CommandFailed"

    def __init__(
        self,
        command: str,
        status: str,
        text: str,
        *,
        response_code: str | None = None,
    ) -> None:
        super().__init__(f"{command} failed: {status} {text}".strip())
        self.command = command
        self.status = status
        self.text = text
        self.response_code = response_code


class CapabilityError(MailServerError):
    """The server lacks a capability the operation needs."""

    code = "MissingCapability"


class SendError(MailServerError):
    """The SMTP server refused or failed a submission; `permanent` tells whether to retry."""

    code = "SendFailed"

    def __init__(self, message: str, *, permanent: bool, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.smtp_code = smtp_code


# --- our own storage ---------------------------------------------------------------------------


class StoreError(ImapApiError):
    """The store failed or holds data we cannot read."""

    code = "StoreError"


class CorruptRecordError(StoreError):
    """A stored payload could not be decoded (bad JSON, unknown version, bad ciphertext)."""

    code = "CorruptRecord"


class LeaseLostError(StoreError):
    """A sync state write was refused: another node took the account over (its fencing token
    moved on), so this node's view of the account is stale and must not be written."""

    code = "LeaseLost"
