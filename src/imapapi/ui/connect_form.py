"""The password form of the hosted "Connect your mailbox" page: its fields, read into the very
`AccountCreate` that `POST /v1/account` validates, and each refusal tied to the form field it is
about (shown next to that field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from imapapi.api.schemas.accounts import AccountCreate
from imapapi.credentials.connect_link import ConnectLink
from imapapi.errors import AuthenticationFailedError, ImapApiError

# Security choices of a server: implicit TLS, STARTTLS (required), or plain text.
SECURITY: dict[str, dict[str, Any]] = {
    "tls": {"secure": True},
    "starttls": {"secure": False, "starttls": "required"},
    "none": {"secure": False, "starttls": "never"},
}
DEFAULTS = {
    "imapPort": "993",
    "imapSecurity": "tls",
    "smtpPort": "465",
    "smtpSecurity": "tls",
}
FIELDS = (
    "email",
    "username",
    "imapHost",
    "imapPort",
    "imapSecurity",
    "smtpHost",
    "smtpPort",
    "smtpSecurity",
)  # the password is never shown back
# Where a refusal of AccountCreate (its `loc`) is shown on the form.
_FIELD_OF = {
    ("email",): "email",
    ("host",): "{proto}Host",
    ("port",): "{proto}Port",
    ("auth", "user"): "username",
    ("auth", "pass"): "password",
}


@dataclass
class Filled:
    """The form as the user filled it in (blank fields with their defaults), and what is wrong."""

    values: dict[str, str]
    password: str
    errors: dict[str, str] = field(default_factory=dict)

    def refuse(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, reason)


def blank(link: ConnectLink) -> Filled:
    return Filled({**dict.fromkeys(FIELDS, ""), **DEFAULTS, "email": link.email or ""}, "")


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def read(field_of: Callable[[str], str]) -> Filled:
    """The posted fields; a blank host becomes `imap.`/`smtp.` + the address's domain, the
    usual names (shown filled in when the login then fails)."""
    values = {name: field_of(name).strip() for name in FIELDS}
    filled = Filled(values, field_of("password"))
    if "@" not in values["email"] or not _domain(values["email"]):
        filled.refuse("email", "Enter your email address, like name@example.com.")
    for proto in ("imap", "smtp"):
        if not values[f"{proto}Port"]:
            values[f"{proto}Port"] = DEFAULTS[f"{proto}Port"]
        if values[f"{proto}Security"] not in SECURITY:
            filled.refuse(f"{proto}Security", "Choose TLS, STARTTLS or none.")
        if not values[f"{proto}Host"] and "email" not in filled.errors:
            values[f"{proto}Host"] = f"{proto}.{_domain(values['email'])}"
    if not filled.password:
        filled.refuse("password", "Enter your password.")
    return filled


def _server(filled: Filled, proto: str) -> dict[str, Any]:
    values = filled.values
    return {
        "host": values[f"{proto}Host"],
        "port": values[f"{proto}Port"],
        **SECURITY.get(values[f"{proto}Security"], {}),
        "auth": {"user": values["username"] or values["email"], "pass": filled.password},
    }


def _field_of(loc: tuple[int | str, ...]) -> str:
    path = tuple(str(part) for part in loc)
    if path and path[0] in ("imap", "smtp"):
        # A rule of the whole server (no field of its own) is shown at its host.
        return _FIELD_OF.get(path[1:], "{proto}Host").format(proto=path[0])
    return _FIELD_OF.get(path, "form")


def to_account(filled: Filled, link: ConnectLink) -> AccountCreate | None:
    """The account to register, validated as `POST /v1/account` validates it; None when the
    form or that validation refused something (then in `filled.errors`)."""
    if filled.errors:
        return None
    body = {
        "account": link.account,
        "name": link.name,
        "email": filled.values["email"],
        "imap": _server(filled, "imap"),
        "smtp": _server(filled, "smtp"),
    }
    try:
        return AccountCreate.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            filled.refuse(_field_of(error["loc"]), error["msg"])
        return None


def refuse_login(filled: Filled, proto: str, error: ImapApiError) -> None:
    """A failed login of the check before storing: a refused login at the password, anything
    else (no connection, TLS, no answer) at the server's host."""
    name = "IMAP" if proto == "imap" else "SMTP"
    if isinstance(error, AuthenticationFailedError):
        filled.refuse("password", f"The {name} server refused this login: {error.message}")
    else:
        filled.refuse(f"{proto}Host", f"Could not log in to the {name} server: {error.message}")
