"""Token revocation notices inside one process: the listeners of
`TokenStore.watch_token_revocations`, told by the store object the revoke went through.
(Notices between processes are the Redis store's own: store/redis/tokens.py.)"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

# Called with the revoked token's id, or None for "forget every token".
RevocationListener = Callable[[str | None], None]


class RevocationListeners:
    """Mixin of both backends' token concern: the listener list and telling it."""

    _revocation_listeners: list[RevocationListener]

    def watch_token_revocations(self, listener: RevocationListener) -> None:
        # Kept in the instance dict: the backends' mixins share one __init__ that knows nothing
        # of this concern.
        vars(self).setdefault("_revocation_listeners", []).append(listener)

    def _revoked(self, token_id: str | None) -> None:
        for listener in vars(self).get("_revocation_listeners", ()):
            try:
                listener(token_id)
            except Exception:  # one broken listener must not keep the notice from the rest
                log.exception("token revocation listener failed")
