"""Folders over the REST API on Courier-IMAP 5.0 (tests/servers/courier.py).

Courier differs from Dovecot where the folder routes are concerned: no LIST-EXTENDED (so no
`RETURN (SUBSCRIBED)`, subscriptions come from LSUB), and a personal namespace `INBOX.` with
separator `.` (RFC 2342), under which every folder but INBOX must live.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.integration.sync.helpers import message, register
from tests.servers.mailserver import ImapUser, MailServer

pytestmark = pytest.mark.integration


@pytest.fixture
def user(courier: MailServer) -> ImapUser:
    return courier.add_user()


async def listing(api: Api, account: str) -> dict[str, dict[str, Any]]:
    response = await api.client.get(f"/v1/account/{account}/mailboxes")
    assert response.status_code == 200, response.text
    return {entry["path"]: entry for entry in response.json()["mailboxes"]}


async def test_listing_reports_lsub_subscriptions(
    api: Api, courier: MailServer, user: ImapUser
) -> None:
    # A nested folder makes Courier list its parent `INBOX.Kunden` as a \Noselect placeholder;
    # LSUB names that parent (and INBOX) \Noselect too, which RFC 3501 §6.3.9 defines as
    # "not subscribed, but a child is".
    nested = courier.path("Kunden", "Ärzte 東京")
    courier.deliver(user, message("nested"), nested)
    account = await register(api, courier, user)
    folders = await listing(api, account)
    subscribed = {path for path, entry in folders.items() if entry["subscribed"]}
    wanted = {courier.path(name) for name in ("Drafts", "Sent", "Junk", "Trash", "Archive")}
    assert subscribed == {"INBOX", nested, *wanted}
    assert not folders[courier.path("Kunden")]["subscribed"]


async def test_new_top_level_folder_is_created_in_the_personal_namespace(
    api: Api, courier: MailServer, user: ImapUser
) -> None:
    account = await register(api, courier, user)
    response = await api.client.post(f"/v1/account/{account}/mailbox", json={"path": "Projekte"})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "INBOX.Projekte"
    # The path given uses the server's separator: a child of the new folder.
    response = await api.client.post(
        f"/v1/account/{account}/mailbox", json={"path": "Projekte.2024"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "INBOX.Projekte.2024"
    # A path already in the namespace is taken as it is.
    response = await api.client.post(
        f"/v1/account/{account}/mailbox", json={"path": "INBOX.Angebote"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "INBOX.Angebote"
    folders = await listing(api, account)
    for path in ("INBOX.Projekte", "INBOX.Projekte.2024", "INBOX.Angebote"):
        assert folders[path]["subscribed"], path
    assert "Projekte" not in folders
