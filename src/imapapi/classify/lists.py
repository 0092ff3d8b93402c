"""Mailing-list and bulk mail: RFC 2369 List-* fields, RFC 2919 List-Id, Precedence."""

from __future__ import annotations

from imapapi.classify.fields import Headers, keyword

# RFC 2919 List-Id, RFC 2369 List-Unsubscribe / List-Post. The other RFC 2369 fields
# (List-Help, List-Archive, …) practically never appear without one of these.
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post")
# Precedence is not standardised (RFC 2076 §3.9 lists it as non-standard); these are the
# values list managers and bulk senders use.
_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})


def list_header_reasons(headers: Headers) -> list[str]:
    """List-* fields present: the message went through a list or a bulk sender."""
    return [name for name in _LIST_HEADERS if name in headers]


def precedence_reasons(headers: Headers) -> list[str]:
    for value in headers.get("precedence", ()):
        word = keyword(value)
        if word in _BULK_PRECEDENCE:
            return [f"precedence:{word}"]
    return []
