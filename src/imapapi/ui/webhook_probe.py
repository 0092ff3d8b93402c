"""The settings page's "send test webhook": one signed request to the configured URL, now.

It goes straight to the target rather than through the outbox, because the operator waits for
the answer on the page: the status and the start of the body are shown as the target sent them
(escaped by the template). The event has the envelope of every webhook, with the event name
`webhookTest`, no account, and is signed with the service secret like a real one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from imapapi import __version__
from imapapi.events.model import encode_payload, new_event_id
from imapapi.events.signing import SIGNATURE_HEADER, sign
from imapapi.events.target import WebhookTarget

TEST_EVENT = "webhookTest"
EXCERPT_BYTES = 500


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What the target answered (`status`, `excerpt`) or why nothing came back (`error`)."""

    url: str
    status: int | None
    excerpt: str
    error: str | None
    duration: float
    signed: bool


def probe_payload() -> dict[str, object]:
    return {
        "account": None,
        "path": None,
        "specialUse": None,
        "event": TEST_EVENT,
        "eventId": new_event_id(),
        "date": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": {"message": "Test webhook from imapapi; no action needed."},
    }


async def send_probe(target: WebhookTarget, timeout: float) -> ProbeResult:
    """POST a test event to `target.url` (which must be set) and report the answer."""
    assert target.url is not None
    payload = probe_payload()
    body = encode_payload(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"imapapi/{__version__}",
        "X-Imapapi-Event-Id": str(payload["eventId"]),
        "X-Imapapi-Event": TEST_EVENT,
    }
    if target.secret is not None:
        headers[SIGNATURE_HEADER] = sign(body, target.secret)
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as client,
            client.post(target.url, data=body, headers=headers, allow_redirects=False) as response,
        ):
            raw = await response.content.read(EXCERPT_BYTES)
            return ProbeResult(
                url=target.url,
                status=response.status,
                excerpt=raw.decode("utf-8", "replace"),
                error=None,
                duration=time.perf_counter() - started,
                signed=target.secret is not None,
            )
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return ProbeResult(
        url=target.url,
        status=None,
        excerpt="",
        error=error,
        duration=time.perf_counter() - started,
        signed=target.secret is not None,
    )
