"""ENVELOPE addresses (RFC 3501 §7.4.2) as the API's `{name, address}` objects."""

from __future__ import annotations

from collections.abc import Iterable

from imapapi.imap.types import Address
from imapapi.mail.headers import decode_header_value, looks_encoded


def format_address(address: Address) -> dict[str, str] | None:
    """`{name, address}` for one mailbox, or None for a group syntax marker.

    RFC 3501 §7.4.2 marks the start and end of an RFC 5322 group with NIL-host entries, which
    the parser hands over with an empty `address`; they name no mailbox, so they are dropped.
    """
    if not address.address:
        return None
    name = address.name.strip()
    if looks_encoded(name):  # the parser decodes names; some servers double-encode them
        name = decode_header_value(name)
    return {"name": name, "address": address.address.strip()}


def format_address_list(addresses: Iterable[Address]) -> list[dict[str, str]]:
    """The mailboxes of an ENVELOPE address list, group markers skipped, order kept."""
    formatted = (format_address(address) for address in addresses)
    return [entry for entry in formatted if entry is not None]
