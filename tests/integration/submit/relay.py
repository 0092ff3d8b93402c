"""An SMTP relay that offers no AUTH at all, built on the recording server of
tests/servers/smtp.py: it takes mail from anyone who connects, like a relay on the user's own
network (issue 7)."""

from __future__ import annotations

from aiosmtpd.controller import Controller

from tests.servers.smtp import SmtpServer, _Handler


class RelayServer(SmtpServer):
    """:class:`SmtpServer` without AUTH: aiosmtpd leaves AUTH out of its EHLO answer when AUTH
    needs TLS (its default) and no TLS is set up, and MAIL needs no login here."""

    def __init__(self) -> None:
        super().__init__(require_auth=False)

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        controller.start()
        self._controller = controller
