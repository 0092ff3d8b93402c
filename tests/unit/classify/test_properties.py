"""classify never raises, whatever the headers and bytes (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from imapapi.classify import Classification, _verdict, classify, needs_body, signals, verdict

_NAMES = st.sampled_from(
    [
        "auto-submitted",
        "x-autoreply",
        "precedence",
        "return-path",
        "from",
        "subject",
        "content-type",
        "list-id",
        "x-failed-recipients",
        "in-reply-to",
        "x-auto-response-suppress",
    ]
)
_HEADERS = st.dictionaries(
    st.one_of(_NAMES, st.text(max_size=20)),
    st.lists(st.text(max_size=80), max_size=3),
    max_size=8,
)
# Bytes that look enough like a bounce to reach the MIME and flufl.bounce code paths.
_PREFIXES = st.sampled_from(
    [
        b"",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n",
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: "
        b"message/delivery-status\r\n\r\nFinal-Recipient: rfc822; ",
        b"Content-Type: message/global-delivery-status\r\n\r\n",
        b"From: MAILER-DAEMON@x\r\n\r\nHi. This is the qmail-send program\r\n\r\n<",
        b"Content-Type: text/plain; charset=bogus-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    ]
)
_BOUNCY = {"return-path": ["<>"], "from": ["MAILER-DAEMON@x.example"]}


@settings(max_examples=300, deadline=None)
@given(
    headers=_HEADERS,
    subject=st.one_of(st.none(), st.text(max_size=60)),
    from_address=st.one_of(st.none(), st.text(max_size=60)),
    content_type=st.one_of(st.none(), st.text(max_size=60)),
    raw=st.one_of(st.none(), st.binary(max_size=300)),
)
def test_never_raises_on_arbitrary_input(
    headers: dict[str, list[str]],
    subject: str | None,
    from_address: str | None,
    content_type: str | None,
    raw: bytes | None,
) -> None:
    kwargs = {"subject": subject, "from_address": from_address, "content_type": content_type}
    result = classify(headers, raw_message=raw, **kwargs)
    assert isinstance(result, Classification)
    assert result.type in {"human", "autoReply", "bounce", "list", "automated"}
    assert (result.bounce is None) or result.type == "bounce"
    result.as_json()
    needs_body(headers, **kwargs)


@settings(max_examples=300, deadline=None)
@given(prefix=_PREFIXES, tail=st.binary(max_size=400))
def test_bounce_bodies_never_raise(prefix: bytes, tail: bytes) -> None:
    result = classify(_BOUNCY, raw_message=prefix + tail)
    assert result.type == "bounce"
    assert result.bounce is not None


_SUBJECTS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["Out of office: back Monday", "Undeliverable: x", "Re: lunch", ""]),
)
_SENDERS = st.one_of(
    st.none(),
    st.sampled_from(["a@b.c", "noreply@x.y", "MAILER-DAEMON@x", "MAILER-DAEMON <>", "", "<>"]),
)
_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "text/plain",
            "multipart/report; report-type=delivery-status",
            "multipart/report; report-type=disposition-notification",
        ]
    ),
)


@settings(max_examples=1500)
@given(headers=_HEADERS, subject=_SUBJECTS, sender=_SENDERS, ctype=_TYPES)
def test_the_short_path_for_plain_mail_gives_the_full_verdict(
    headers: dict[str, list[str]], subject: str | None, sender: str | None, ctype: str | None
) -> None:
    found = signals(headers, subject=subject, from_address=sender, content_type=ctype)
    assert verdict(found) == _verdict(found, None)
