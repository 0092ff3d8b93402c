"""The hosted page's link: what it carries survives signing; changed, foreign or old links are
refused with their reason."""

from __future__ import annotations

import base64
import json

import pytest

from imapapi.credentials.connect_link import (
    ConnectLink,
    LinkError,
    link_mac,
    read_link,
    sign_link,
)
from imapapi.credentials.crypto import SecretBox
from imapapi.credentials.oauth2_flow import STATE_CONTEXT, StateClaims, sign_state

BOX = SecretBox(b"k" * 32)
MAC = link_mac(BOX)
LINK = ConnectLink(
    account="carol",
    redirect="https://crm.example/back?x=1",
    apps=("gmail", "corp"),
    name="Carol",
    email="carol@example.com",
    expires=2000.0,
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_link_reads_back_as_signed() -> None:
    assert read_link(sign_link(LINK, MAC), MAC, now=1999.0) == LINK
    every_app = ConnectLink("a", "https://x.example/", None, None, None, 2000.0)
    assert read_link(sign_link(every_app, MAC), MAC, now=0.0).offers("anything")
    assert not LINK.offers("other")


def _resigned_body(doc: dict[str, object]) -> str:
    """A link whose body was rewritten, keeping the old signature."""
    _, signature = sign_link(LINK, MAC).split(".")
    return f"{_b64(json.dumps(doc).encode())}.{signature}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(lambda: sign_link(LINK, MAC), "has expired", id="expired"),
        pytest.param(
            lambda: _resigned_body({"acc": "mallory", "r": LINK.redirect}),
            "was altered",
            id="body-changed",
        ),
        pytest.param(
            lambda: sign_link(LINK, link_mac(SecretBox(b"o" * 32))),
            "was altered",
            id="other-secret",
        ),
        pytest.param(
            lambda: sign_state(
                StateClaims("carol", "corp", LINK.redirect, "n", 9e9),
                lambda body: BOX.mac(body, STATE_CONTEXT),
            ),
            "was altered",
            id="a-consent-state",
        ),
        pytest.param(lambda: "x" * 9000 + ".y", "not a link", id="too-long"),
        pytest.param(lambda: "no-dot", "not a link", id="no-signature"),
        pytest.param(
            lambda: f"{_b64(b'[1]')}.{_b64(MAC(b'[1]'))}", "not a link", id="not-an-object"
        ),
        pytest.param(
            lambda: f"{_b64(b'{}')}.{_b64(MAC(b'{}'))}", "not a link", id="missing-claims"
        ),
    ],
)
def test_a_bad_link_is_refused_with_its_reason(make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LinkError, match=reason) as caught:
        read_link(make(), MAC, now=2000.0)
    assert caught.value.field == "link"
