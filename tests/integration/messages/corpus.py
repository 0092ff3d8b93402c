"""The test corpus of issue 5, built with the standard library `email` package.

Each builder returns the exact bytes delivered to Dovecot, so what the API must answer is
known here: decoded texts, file names, attachment contents.
"""

from __future__ import annotations

import base64
import quopri
from email import policy
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

SMTP = policy.SMTP  # CRLF line ends, as mail travels
DATE = "Mon, 07 Oct 2019 06:05:23 +0000"

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQAQMAAAAlPW0iAAAABlBMVEUAAAD///+l2Z/dAAAAM0lEQVR4nGP4/5/h/1+G"
    "/58ZDrAz3D/McH8yw83NDDeNGe4Ug9C9zwz3gVLMDA/A6P9/AFGGFyjOXZtQAAAAAElFTkSuQmCC"
)
# Every byte value, so any decoding slip shows.
BINARY = bytes(range(256)) * 64

# The en dash and euro sign exist in windows-1252 (0x96, 0x80) but not in ISO-8859-1.
GERMAN = "Grüße aus Köln \u2013 5 € für Jürgen"
JAPANESE = "こんにちは、世界。日本語のテキストです。"


def _headers(msg: EmailMessage | MIMEMultipart | MIMEText, subject: str) -> None:
    msg["From"] = "Peter Põder <peter@example.test>"
    msg["To"] = "Andris <andris@example.test>"
    msg["Subject"] = subject
    msg["Date"] = DATE
    msg["Message-ID"] = f"<{abs(hash(subject))}.corpus@example.test>"


def alternative() -> bytes:
    msg = EmailMessage()
    _headers(msg, "Alternative")
    msg.set_content("Plain body\n")
    msg.add_alternative("<p>HTML body</p>\n", subtype="html")
    return msg.as_bytes(policy=SMTP)


def mixed_with_attachments() -> bytes:
    """multipart/mixed ⊃ (multipart/alternative, a PDF, a nested mixed with a binary file)."""
    outer = MIMEMultipart("mixed", policy=SMTP)
    _headers(outer, "Nested attachments")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("See the files.\n", "plain", "utf-8"))
    alt.attach(MIMEText("<p>See the files.</p>\n", "html", "utf-8"))
    outer.attach(alt)
    pdf = MIMEApplication(b"%PDF-1.4 fake\n", "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename="report.pdf")
    outer.attach(pdf)
    inner = MIMEMultipart("mixed")
    blob = MIMEApplication(BINARY, "octet-stream")
    blob.add_header("Content-Disposition", "attachment", filename="all-bytes.bin")
    inner.attach(blob)
    outer.attach(inner)
    return outer.as_bytes(policy=SMTP)


def related_inline_image() -> bytes:
    """multipart/related with an HTML body that shows an image by cid: (RFC 2387)."""
    msg = EmailMessage()
    _headers(msg, "Inline image")
    msg.set_content("Logo below\n")
    msg.add_alternative('<p>Logo: <img src="cid:logo@example.test"></p>\n', subtype="html")
    html = msg.get_payload()[1]
    html.add_related(PNG, "image", "png", cid="<logo@example.test>")
    return msg.as_bytes(policy=SMTP)


def charset_body(charset: str, text: str, cte: str, subject: str) -> bytes:
    encoded = text.encode(charset)
    if cte == "base64":
        body = base64.encodebytes(encoded)
    elif cte == "quoted-printable":
        body = quopri.encodestring(encoded)
    else:
        body = encoded
    head = (
        f"From: Peter <peter@example.test>\r\nTo: a@example.test\r\nSubject: {subject}\r\n"
        f"Date: {DATE}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{charset}"\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode()
    return head + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def encoded_words() -> bytes:
    """RFC 2047 subject and display name; RFC 2231 file name (charset and continuations)."""
    head = (
        "From: =?UTF-8?B?UMO1ZGVy?= <p@example.test>\r\n"
        "To: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <j@example.test>\r\n"
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n"
        f"Date: {DATE}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    )
    body = (
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee file\r\n"
        "--b1\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename*0*=UTF-8''%C3%9Cbersicht%20;\r\n"
        " filename*1*=%E6%97%A5%E6%9C%AC.txt\r\n\r\n"
        f"{base64.b64encode(b'file body').decode()}\r\n"
        "--b1--\r\n"
    )
    return (head + body).encode()


def huge_text(size: int = 10 * 1024 * 1024) -> bytes:
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
    body = line * (size // len(line) + 1)
    head = (
        f"From: cron <cron@example.test>\r\nSubject: Huge\r\nDate: {DATE}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    ).encode()
    return head + body


def no_text() -> bytes:
    msg = MIMEImage(PNG, "png")
    msg["From"] = "scanner@example.test"
    msg["Subject"] = "Only an image"
    msg["Date"] = DATE
    return msg.as_bytes(policy=SMTP)


def malformed() -> bytes:
    """Broken in several ways at once: a boundary that never appears, a header line without a
    colon, invalid base64, an unknown charset and a bogus transfer encoding."""
    return (
        "From: broken <b@example.test>\r\n"
        "Subject: Malformed\r\n"
        "this line is not a header\r\n"
        f"Date: {DATE}\r\n"
        'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\n'
        "--wrong-boundary\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "!!!not base64 at all ***\r\n"
        "--wrong-boundary--\r\n"
    ).encode()
