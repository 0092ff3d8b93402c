"""BODYSTRUCTURE trees as the IMAP parser hands them over, for the mail/ unit tests."""

from __future__ import annotations

from imapapi.imap.types import BodyPart


def leaf(
    part: str,
    content_type: str,
    size: int = 100,
    *,
    params: tuple[tuple[str, str], ...] = (),
    disposition: str | None = None,
    disposition_params: tuple[tuple[str, str], ...] = (),
    content_id: str | None = None,
    encoding: str = "7bit",
) -> BodyPart:
    type_, subtype = content_type.split("/")
    return BodyPart(
        part=part,
        type=type_,
        subtype=subtype,
        params=params,
        id=content_id,
        encoding=encoding,
        size=size,
        disposition=disposition,
        disposition_params=disposition_params,
    )


def multi(part: str, subtype: str, *children: BodyPart) -> BodyPart:
    # Numbered as imap/parse.py does: the top multipart "TEXT", a nested one its own number
    # (RFC 3501 §6.4.5); mail/ never names a multipart in an id.
    return BodyPart(part=part, type="multipart", subtype=subtype, children=children)


def attached(part: str, content_type: str, filename: str, size: int = 1000) -> BodyPart:
    return leaf(
        part,
        content_type,
        size,
        disposition="attachment",
        disposition_params=(("filename", filename),),
        encoding="base64",
    )


ALTERNATIVE = multi(
    "TEXT", "alternative", leaf("1", "text/plain", 17), leaf("2", "text/html", 2135)
)
SINGLE_PLAIN = leaf("1", "text/plain", 42, params=(("charset", "utf-8"),))
SINGLE_HTML = leaf("1", "text/html", 300)
NO_TEXT = attached("1", "application/pdf", "scan.pdf", 5000)
# mixed( related( alternative(plain, html), inline image ), report.pdf )
MIXED_RELATED = multi(
    "TEXT",
    "mixed",
    multi(
        "1",
        "related",
        multi("1.1", "alternative", leaf("1.1.1", "text/plain", 10), leaf("1.1.2", "text/html")),
        leaf("1.2", "image/png", 2048, content_id="<logo@x>", encoding="base64"),
    ),
    attached("2", "application/pdf", "report.pdf", 9000),
)
FORWARDED = multi(
    "TEXT",
    "mixed",
    leaf("1", "text/plain", 20),
    # The forwarded message's own text must not be taken for the outer message's.
    BodyPart(
        part="2",
        type="message",
        subtype="rfc822",
        size=4000,
        encoding="7bit",
        children=(
            multi("2.TEXT", "alternative", leaf("2.1", "text/plain"), leaf("2.2", "text/html")),
        ),
    ),
)
