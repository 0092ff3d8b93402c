"""Where webhooks go: the runtime settings `webhooks`, `webhookEvents` and `serviceSecret`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """The webhook destination as configured right now.

    `url` None: no webhook configured. `events` None: every event is wanted; otherwise the set
    of wanted event names. `secret` None: requests are not signed.
    """

    url: str | None = None
    events: frozenset[str] | None = None
    secret: str | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WebhookTarget:
        """Read the target from the store's runtime settings.

        - `webhooks`: the URL; absent, null or blank means no webhook.
        - `webhookEvents`: a list of event names; absent, null or containing `"*"` means all
          events. An empty list means none: a user who unticks every event wants nothing sent.
        - `serviceSecret`: the HMAC key; absent or empty means unsigned requests.
        """
        url = settings.get("webhooks")
        url = url.strip() if isinstance(url, str) and url.strip() else None
        wanted = settings.get("webhookEvents")
        if isinstance(wanted, str):
            wanted = [wanted]
        events: frozenset[str] | None
        if not isinstance(wanted, list | tuple) or "*" in wanted:
            events = None
        else:
            events = frozenset(name for name in wanted if isinstance(name, str))
        secret = settings.get("serviceSecret")
        secret = secret if isinstance(secret, str) and secret else None
        return cls(url=url, events=events, secret=secret)

    def wants(self, event: str) -> bool:
        """Whether an event of this name is to be posted."""
        return self.url is not None and (self.events is None or event in self.events)

    def __repr__(self) -> str:
        # Never show the secret (or the URL, whose query often carries a token) in logs.
        events = "*" if self.events is None else ",".join(sorted(self.events))
        return (
            f"<WebhookTarget url={'set' if self.url else 'none'} events={events} "
            f"signed={self.secret is not None}>"
        )
