from __future__ import annotations

import pytest

from imapapi.imap.types import BodyPart
from imapapi.mail.bodystructure import (
    attachments_with_inline,
    find_attachments,
    find_text_parts,
    part_filename,
)
from tests.unit.mail.structures import (
    ALTERNATIVE,
    FORWARDED,
    MIXED_RELATED,
    NO_TEXT,
    SINGLE_HTML,
    SINGLE_PLAIN,
    attached,
    leaf,
    multi,
)

SHARED_NAME = (("name", "x.pdf"),)


def _numbers(part: BodyPart | None) -> str | None:
    return part.part if part is not None else None


@pytest.mark.parametrize(
    ("root", "plain", "html", "attachments"),
    [
        pytest.param(ALTERNATIVE, "1", "2", [], id="alternative"),
        pytest.param(SINGLE_PLAIN, "1", None, [], id="single-plain"),
        pytest.param(SINGLE_HTML, None, "1", [], id="single-html"),
        pytest.param(NO_TEXT, None, None, ["1"], id="no-text"),
        pytest.param(MIXED_RELATED, "1.1.1", "1.1.2", ["1.2", "2"], id="mixed-related"),
        pytest.param(FORWARDED, "1", None, ["2"], id="rfc822-not-descended"),
        pytest.param(
            multi("TEXT", "mixed", leaf("1", "text/plain"), attached("2", "text/plain", "a.txt")),
            "1",
            None,
            ["2"],
            id="attached-text-file",
        ),
        pytest.param(
            multi("TEXT", "mixed", attached("1", "text/html", "page.html"), leaf("2", "text/html")),
            None,
            "2",
            ["1"],
            id="attached-html-before-body",
        ),
        pytest.param(
            multi(
                "TEXT",
                "mixed",
                leaf("1", "text/plain"),
                leaf("2", "text/plain", params=(("name", "notes.txt"),)),
            ),
            "1",
            None,
            ["2"],
            id="named-text-is-a-file",
        ),
        pytest.param(
            multi(
                "TEXT",
                "alternative",
                leaf("1", "text/plain"),
                leaf("2", "text/html"),
                leaf("3", "text/calendar"),
            ),
            "1",
            "2",
            ["3"],
            id="calendar-alternative",
        ),
        pytest.param(
            multi("TEXT", "mixed", leaf("1", "text/plain"), leaf("2", "text/plain")),
            "1",
            None,
            ["2"],
            id="second-plain-is-attachment",
        ),
        pytest.param(multi("TEXT", "mixed"), None, None, [], id="empty-multipart"),
    ],
)
def test_text_and_attachments(
    root: BodyPart, plain: str | None, html: str | None, attachments: list[str]
) -> None:
    found_plain, found_html = find_text_parts(root)
    assert (_numbers(found_plain), _numbers(found_html)) == (plain, html)
    assert [part.part for part in find_attachments(root)] == attachments


def test_deep_nesting_is_not_recursive() -> None:
    root = leaf("1", "text/plain")
    for _ in range(5000):
        root = multi("1", "mixed", root)
    assert find_text_parts(root)[0] is not None


@pytest.mark.parametrize(
    ("part", "inline"),
    [
        pytest.param(leaf("2", "image/png", content_id="<a@b>"), False, id="cid-outside-related"),
        pytest.param(leaf("2", "image/png", disposition="inline"), True, id="disposition-inline"),
        pytest.param(attached("2", "image/png", "x.png"), False, id="attachment"),
    ],
)
def test_inline_outside_related(part: BodyPart, inline: bool) -> None:
    root = multi("TEXT", "mixed", leaf("1", "text/plain"), part)
    assert attachments_with_inline(root) == [(part, inline)]


def test_related_image_with_content_id_is_inline() -> None:
    assert [inline for _, inline in attachments_with_inline(MIXED_RELATED)] == [True, False]


@pytest.mark.parametrize(
    ("part", "filename"),
    [
        pytest.param(attached("1", "application/pdf", "a.pdf"), "a.pdf", id="disposition"),
        pytest.param(
            leaf("1", "application/pdf", params=(("name", "b.pdf"),)), "b.pdf", id="type-name"
        ),
        pytest.param(
            leaf(
                "1",
                "application/pdf",
                params=(("name", "type.pdf"),),
                disposition="attachment",
                disposition_params=(("filename", "disp.pdf"),),
            ),
            "disp.pdf",
            id="disposition-wins",
        ),
        pytest.param(
            attached("1", "application/pdf", "=?utf-8?B?0YTQsNC50Lsu0L/QtNGE?="),
            "файл.пдф",
            id="still-2047-encoded",
        ),
        pytest.param(
            attached("1", "application/pdf", "=?ISO-8859-1?Q?r=E9sum=E9?=.pdf"),
            "résumé.pdf",
            id="2047-latin1",
        ),
        pytest.param(
            leaf(
                "1",
                "application/pdf",
                disposition="attachment",
                disposition_params=(("filename*", "utf-8''%E2%82%AC%20rates.pdf"),),
            ),
            "€ rates.pdf",
            id="raw-2231",
        ),
        pytest.param(
            leaf(
                "1",
                "application/pdf",
                disposition="attachment",
                disposition_params=(
                    ("filename*1", " part two.pdf"),
                    ("filename*0*", "iso-8859-1'fr'caf%E9"),
                ),
            ),
            "café part two.pdf",
            id="raw-2231-continuations",
        ),
        pytest.param(
            leaf(
                "1",
                "application/pdf",
                disposition="attachment",
                disposition_params=(("filename*", "x-bogus''%C3%A9.pdf"),),
            ),
            "é.pdf",
            id="raw-2231-unknown-charset",
        ),
        pytest.param(leaf("1", "application/pdf"), None, id="none"),
        pytest.param(
            leaf(
                "1",
                "application/pdf",
                params=SHARED_NAME,
                disposition="attachment",
                disposition_params=SHARED_NAME,
            ),
            "x.pdf",
            id="same-params-object-in-both",  # as the lean FETCH reader shares equal lists
        ),
        pytest.param(attached("1", "application/pdf", "  "), None, id="blank"),
    ],
)
def test_part_filename(part: BodyPart, filename: str | None) -> None:
    assert part_filename(part) == filename
