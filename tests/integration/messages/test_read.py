"""Message details, text, attachments and source against the real Dovecot, over the corpus;
the main shapes on every server (`server_mailbox`)."""

from __future__ import annotations

import email
from email import policy

import pytest

from imapapi.api.schemas.messages import TextOut
from tests.integration.messages import corpus
from tests.integration.messages.conftest import Mailbox

pytestmark = pytest.mark.integration


async def test_alternative_gives_plain_html_and_headers(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(corpus.alternative())
    listed = await mailbox.by_subject("Alternative")
    assert set(listed["text"]["encodedSize"]) == {"plain", "html"}
    assert "plain" not in listed["text"]  # listings never download bodies

    message = await mailbox.details(listed["id"])
    assert message["text"]["plain"].strip() == "Plain body"
    assert message["text"]["html"].strip() == "<p>HTML body</p>"
    assert message["text"]["hasMore"] is False
    assert message["text"]["id"] == listed["text"]["id"]
    assert message["headers"]["subject"] == ["Alternative"]
    assert message["headers"]["from"] == ["Peter Põder <peter@example.test>"]
    assert message["from"] == {"name": "Peter Põder", "address": "peter@example.test"}
    assert "attachments" not in message


async def test_repeated_headers_are_kept_in_order(mailbox: Mailbox) -> None:
    raw = b"Received: from a\r\nReceived: from b\r\nSubject: Twice\r\n\r\nbody\r\n"
    mailbox.deliver(raw)
    message = await mailbox.details((await mailbox.by_subject("Twice"))["id"])
    assert message["headers"]["received"][-2:] == ["from a", "from b"]


async def test_nested_attachments_download_decoded(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(corpus.mixed_with_attachments())
    message = await mailbox.details((await mailbox.by_subject("Nested attachments"))["id"])
    assert message["text"]["plain"].strip() == "See the files."
    files = {a["filename"]: a for a in message["attachments"]}
    assert set(files) == {"report.pdf", "all-bytes.bin"}
    assert files["report.pdf"]["contentType"] == "application/pdf"
    assert not files["report.pdf"]["inline"]

    response = await mailbox.api.client.get(
        f"{mailbox.base}/attachment/{files['all-bytes.bin']['id']}"
    )
    assert response.status_code == 200
    assert response.content == corpus.BINARY
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="all-bytes.bin"'

    pdf = await mailbox.api.client.get(f"{mailbox.base}/attachment/{files['report.pdf']['id']}")
    assert pdf.content == b"%PDF-1.4 fake\n"


async def test_inline_image_in_related(mailbox: Mailbox) -> None:
    mailbox.deliver(corpus.related_inline_image())
    message = await mailbox.details((await mailbox.by_subject("Inline image"))["id"])
    assert 'src="cid:logo@example.test"' in message["text"]["html"]
    (image,) = message["attachments"]
    assert image["inline"] is True
    assert image["contentId"] == "<logo@example.test>"
    assert image["contentType"] == "image/png"
    response = await mailbox.api.client.get(f"{mailbox.base}/attachment/{image['id']}")
    assert response.content == corpus.PNG
    assert response.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("charset", "text", "cte"),
    [
        ("iso-8859-1", "Grüße aus Köln, Jürgen", "quoted-printable"),
        ("windows-1252", corpus.GERMAN, "quoted-printable"),
        ("windows-1252", corpus.GERMAN, "8bit"),
        ("shift_jis", corpus.JAPANESE, "base64"),
        ("utf-8", corpus.GERMAN + " " + corpus.JAPANESE, "base64"),
        ("utf-8", corpus.GERMAN + " " + corpus.JAPANESE, "8bit"),
    ],
    ids=["latin1-qp", "cp1252-qp", "cp1252-8bit", "sjis-base64", "utf8-base64", "utf8-8bit"],
)
async def test_bodies_decode_to_utf8(mailbox: Mailbox, charset: str, text: str, cte: str) -> None:
    mailbox.deliver(corpus.charset_body(charset, text, cte, "Charset"))
    message = await mailbox.details((await mailbox.by_subject("Charset"))["id"])
    assert message["text"]["plain"].strip() == text


async def test_encoded_words_and_rfc2231_filename(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(corpus.encoded_words())
    listed = (await mailbox.listing())["messages"][0]
    assert listed["subject"] == "Grüße日本語"
    assert listed["from"]["name"] == "Põder"
    assert listed["to"][0]["name"] == "Jürgen Müller"
    (attachment,) = listed["attachments"]
    assert attachment["filename"] == "Übersicht 日本.txt"
    response = await mailbox.api.client.get(f"{mailbox.base}/attachment/{attachment['id']}")
    assert response.content == b"file body"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%C3%9Cbersicht%20%E6%97%A5%E6%9C%AC.txt" in disposition
    message = await mailbox.details(listed["id"])
    assert message["headers"]["subject"] == ["Grüße日本語"]


async def test_huge_text_is_capped_with_has_more(mailbox: Mailbox) -> None:
    raw = corpus.huge_text()
    mailbox.deliver(raw)
    listed = await mailbox.by_subject("Huge")
    assert listed["text"]["encodedSize"]["plain"] > 10 * 1024 * 1024

    message = await mailbox.details(listed["id"])  # default cap: 5 MiB
    assert message["text"]["hasMore"] is True
    assert len(message["text"]["plain"]) == 5 * 1024 * 1024

    small = await mailbox.details(listed["id"], maxBytes=100)
    assert small["text"]["plain"] == raw.split(b"\r\n\r\n", 1)[1][:100].decode()
    assert small["text"]["hasMore"] is True

    text_url = f"{mailbox.base}/text/{listed['text']['id']}"
    partial = await mailbox.api.client.get(text_url, params={"maxBytes": 10})
    assert partial.json() == {"plain": "0123456789", "hasMore": True}
    TextOut.model_validate(partial.json())

    whole = await mailbox.api.client.get(text_url, params={"maxBytes": 20 * 1024 * 1024})
    assert whole.json()["hasMore"] is False
    assert whole.json()["plain"].encode() == raw.split(b"\r\n\r\n", 1)[1]


async def test_text_endpoint_filters_by_type(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    mailbox.deliver(corpus.alternative())
    text_id = (await mailbox.by_subject("Alternative"))["text"]["id"]
    url = f"{mailbox.base}/text/{text_id}"
    html = (await mailbox.api.client.get(url, params={"textType": "html"})).json()
    assert set(html) == {"html", "hasMore"}
    both = (await mailbox.api.client.get(url)).json()
    assert both["plain"].strip() == "Plain body" and both["html"].strip() == "<p>HTML body</p>"


async def test_message_without_text_part(mailbox: Mailbox) -> None:
    mailbox.deliver(corpus.no_text())
    message = await mailbox.details((await mailbox.by_subject("Only an image"))["id"])
    assert "text" not in message
    (image,) = message["attachments"]
    response = await mailbox.api.client.get(f"{mailbox.base}/attachment/{image['id']}")
    assert response.content == corpus.PNG


async def test_malformed_message_is_served(mailbox: Mailbox) -> None:
    mailbox.deliver(corpus.malformed())
    listed = await mailbox.by_subject("Malformed")
    message = await mailbox.details(listed["id"])
    assert message["subject"] == "Malformed"
    assert "date" in message["headers"]  # headers after the garbage line are still there
    source = await mailbox.api.client.get(f"{mailbox.base}/message/{listed['id']}/source")
    assert source.status_code == 200
    assert b"!!!not base64 at all" in source.content
    for attachment in message.get("attachments", []):
        response = await mailbox.api.client.get(f"{mailbox.base}/attachment/{attachment['id']}")
        assert response.status_code == 200
    if "text" in message:
        response = await mailbox.api.client.get(f"{mailbox.base}/text/{message['text']['id']}")
        assert response.status_code == 200


async def test_source_streams_the_stored_octets(server_mailbox: Mailbox) -> None:
    mailbox = server_mailbox
    raw = corpus.huge_text(3 * 1024 * 1024 + 17)  # several download chunks
    mailbox.deliver(raw)
    listed = await mailbox.by_subject("Huge")
    async with mailbox.api.client.stream(
        "GET", f"{mailbox.base}/message/{listed['id']}/source"
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "message/rfc822"
        received = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert received == raw
    parsed = email.message_from_bytes(received, policy=policy.default)
    assert parsed["Subject"] == "Huge"


async def test_large_base64_attachment_streams_in_chunks(mailbox: Mailbox) -> None:
    payload = corpus.BINARY * 200  # 3.2 MiB decoded, ~4.3 MiB encoded: several chunks
    msg = email.message.EmailMessage()
    msg["Subject"] = "Big file"
    msg.set_content("see attachment")
    msg.add_attachment(payload, maintype="application", subtype="zip", filename="big.zip")
    mailbox.deliver(msg.as_bytes(policy=corpus.SMTP))
    (attachment,) = (await mailbox.by_subject("Big file"))["attachments"]
    response = await mailbox.api.client.get(f"{mailbox.base}/attachment/{attachment['id']}")
    assert response.headers["content-type"] == "application/zip"
    assert response.content == payload
