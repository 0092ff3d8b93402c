from __future__ import annotations

from typing import Any

import pytest

from imapapi.events.target import WebhookTarget

URL = "https://hooks.example/in?token=abc"


@pytest.mark.parametrize(
    ("settings", "event", "wanted"),
    [
        ({}, "messageNew", False),
        ({"webhooks": None}, "messageNew", False),
        ({"webhooks": "  "}, "messageNew", False),
        ({"webhooks": URL}, "messageNew", True),
        ({"webhooks": URL, "webhookEvents": None}, "messageNew", True),
        ({"webhooks": URL, "webhookEvents": ["*"]}, "messageDeleted", True),
        ({"webhooks": URL, "webhookEvents": "*"}, "messageDeleted", True),
        ({"webhooks": URL, "webhookEvents": ["messageNew"]}, "messageNew", True),
        ({"webhooks": URL, "webhookEvents": ["messageNew"]}, "messageDeleted", False),
        ({"webhooks": URL, "webhookEvents": []}, "messageNew", False),
    ],
    ids=[
        "no-settings",
        "null-url",
        "blank-url",
        "url-only",
        "null-filter",
        "star",
        "star-string",
        "listed",
        "not-listed",
        "empty-list-means-none",
    ],
)
def test_wants(settings: dict[str, Any], event: str, wanted: bool) -> None:
    assert WebhookTarget.from_settings(settings).wants(event) is wanted


@pytest.mark.parametrize(
    ("secret", "expected"),
    [(None, None), ("", None), (42, None), ("k3y", "k3y")],
    ids=["absent", "empty", "not-a-string", "set"],
)
def test_secret(secret: object, expected: str | None) -> None:
    target = WebhookTarget.from_settings({"webhooks": URL, "serviceSecret": secret})
    assert target.secret == expected


def test_repr_hides_secret_and_url() -> None:
    target = WebhookTarget.from_settings({"webhooks": URL, "serviceSecret": "hunter2"})
    text = repr(target)
    assert "hunter2" not in text
    assert "token" not in text
    assert "signed=True" in text
