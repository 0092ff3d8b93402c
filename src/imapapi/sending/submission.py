"""Submitting a message: validate, resolve the referenced original, compose, queue (issue 6).

Nothing reaches the queue unless every step succeeded, so a bad request or a missing original
never sends anything. The queued message is encrypted at rest (`SecretBox`, bound to its queue
id) and handed to `SubmissionWorker` (sending/submission_worker.py), which sends it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from imapapi.accounts.model import AccountConfig
from imapapi.cluster.manager import AccountManager
from imapapi.credentials.crypto import SecretBox
from imapapi.errors import (
    CommandFailedError,
    InvalidInputError,
    NotConnectedError,
    NotFoundError,
    PayloadTooLargeError,
    UnprocessableError,
)
from imapapi.imap import ImapConnection
from imapapi.mail import forward as forwarding
from imapapi.mail.compose import Attachment, Draft, compose, validate_address
from imapapi.mail.ids import decode_message_id
from imapapi.mail.references import (
    Mailbox,
    OriginalHeaders,
    build_references,
    read_original,
    reply_recipients,
    trim_references,
)
from imapapi.mail.subjects import forward_subject, reply_subject
from imapapi.sessions.command_pool import CommandConnection
from imapapi.sessions.session import AccountSession
from imapapi.store.base import Store, Submission

log = logging.getLogger(__name__)

IDEMPOTENCY_WINDOW = 24 * 3600.0  # issue 6: the same key within 24 h is the same submission
Action = Literal["reply", "replyAll", "forward"]
ACTION_FLAGS = {"reply": "\\Answered", "replyAll": "\\Answered", "forward": "$Forwarded"}
# (path, UIDVALIDITY, uid) of the message with a Message-ID in any folder, or None:
# operations/lookup.py's find_by_message_id, handed in by the API (sending/ and operations/ are
# sibling layers, so neither imports the other).
FindMessage = Callable[[ImapConnection, str], Awaitable[tuple[str, int, int] | None]]


@dataclass(frozen=True, slots=True)
class Reference:
    """The message answered or forwarded: `message` (an API message id) or `message_id` (its
    Message-ID, looked up in every folder); exactly one is set."""

    message: str | None = None
    action: Action = "reply"
    inline: bool = False  # forward: quote the original in the body instead of attaching it
    message_id: str | None = None

    @property
    def field(self) -> str:
        """The request field that named the original, for errors."""
        return "reference.messageId" if self.message_id is not None else "reference.message"


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """A submission as the API validated it (addresses checked, attachments decoded)."""

    sender: Mailbox | None = None
    to: tuple[Mailbox, ...] | None = None  # None: derived from the reference (replies)
    cc: tuple[Mailbox, ...] | None = None
    bcc: tuple[Mailbox, ...] = ()
    reply_to: tuple[Mailbox, ...] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None
    reference: Reference | None = None
    # Threading headers given directly, for a conversation not in this mailbox (not with
    # `reference`, which derives them from the original).
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    idempotency_key: str | None = None
    send_at: float | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    message_id: str
    queue_id: str
    send_at: float
    queued: bool  # False when an earlier submission with the same idempotency key answered


@dataclass(frozen=True, slots=True)
class Original:
    """The referenced message as read over IMAP."""

    path: str
    uid_validity: int
    uid: int
    headers: OriginalHeaders
    raw: bytes | None  # the whole message, only read for forwards


def submission_context(account: str, queue_id: str) -> str:
    """Associated data of a queued message's ciphertext: it decrypts only in its own row."""
    return f"submission:{account}:{queue_id}"


def seal(box: SecretBox, raw: bytes, account: str, queue_id: str) -> str:
    # SecretBox seals text; Latin-1 maps each byte to one code point, so any message bytes
    # (8-bit forwarded originals included) round-trip exactly.
    return box.encrypt(raw.decode("latin-1"), submission_context(account, queue_id))


def unseal(box: SecretBox, sealed: str, account: str, queue_id: str) -> bytes:
    return box.decrypt(sealed, submission_context(account, queue_id)).encode("latin-1")


class Submitter:
    """The submit operation; one per request is fine (it holds no state)."""

    def __init__(
        self,
        store: Store,
        box: SecretBox,
        accounts: AccountManager,
        *,
        max_message_size: int,
        find_message: FindMessage,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._box = box
        self._accounts = accounts
        self._max_size = max_message_size
        self._find_message = find_message
        self._wake = wake
        self._clock = clock

    async def submit(self, account: str, request: SubmitRequest) -> SubmitResult:
        """Queue `request` from `account`; see the module docstring for the order of steps."""
        _check_threading(request)
        config = await self._accounts.registry.get(account)  # 404 for unknown accounts
        if config.smtp is None:
            raise UnprocessableError("smtp", "the account has no SMTP settings; add them first")
        now = self._clock()
        if request.idempotency_key is not None:
            earlier = await self._store.find_submission_by_key(
                account, request.idempotency_key, now - IDEMPOTENCY_WINDOW
            )
            if earlier is not None:
                return _result(earlier, queued=False)

        sender = request.sender or _account_sender(config)
        original = None
        if request.reference is not None:
            original = await self._load_original(config, request.reference)
        draft = self._draft(config, sender, request, original)
        composed = compose(draft, date=datetime.fromtimestamp(now, UTC))
        if len(composed.raw) > self._max_size:
            raise PayloadTooLargeError(
                f"the message is {len(composed.raw)} bytes, over the limit of {self._max_size}",
                details=[{"field": "message", "reason": "too large"}],
            )

        queue_id = uuid.uuid4().hex
        send_at = max(now, request.send_at) if request.send_at is not None else now
        reference = None
        if original is not None and request.reference is not None:
            reference = {
                "path": original.path,
                "uidValidity": original.uid_validity,
                "uid": original.uid,
                "action": request.reference.action,
            }
        submission = Submission(
            queue_id=queue_id,
            account=account,
            message_id=composed.message_id,
            envelope_from=composed.envelope_from,
            envelope_to=composed.envelope_to,
            created=now,
            send_at=send_at,
            next_attempt=send_at,
            raw=seal(self._box, composed.raw, account, queue_id),
            idempotency_key=request.idempotency_key,
            reference=reference,
        )
        stored, queued = await self._store.add_submission(submission, now - IDEMPOTENCY_WINDOW)
        if queued:
            log.info(
                "%s: queued %s (%s, %d bytes, %d recipients)",
                account,
                queue_id,
                composed.message_id,
                len(composed.raw),
                len(composed.envelope_to),
            )
            self._wake()
        return _result(stored, queued=queued)

    # --- building the draft ------------------------------------------------------------------
    def _draft(
        self,
        config: AccountConfig,
        sender: Mailbox,
        request: SubmitRequest,
        original: Original | None,
    ) -> Draft:
        draft = Draft(
            sender=sender,
            to=request.to or (),
            cc=request.cc or (),
            bcc=request.bcc,
            reply_to=request.reply_to,
            subject=request.subject,
            text=request.text,
            html=request.html,
            attachments=request.attachments,
            headers=request.headers,
            message_id=request.message_id,
            in_reply_to=request.in_reply_to,
            # RFC 5322 §3.6.4: a reply's References include the parent's Message-ID; with only
            # In-Reply-To given, that is all that is known of the chain.
            references=tuple(
                trim_references(
                    request.references or ([request.in_reply_to] if request.in_reply_to else [])
                )
            ),
        )
        if original is None or request.reference is None:
            if request.text is None and request.html is None:
                raise InvalidInputError("text", "give text, html or both")
            return draft
        reference = request.reference
        headers = original.headers
        if reference.action == "forward":
            return self._forward(draft, original, reference)
        if request.text is None and request.html is None:
            raise InvalidInputError("text", "give text, html or both")
        own = [sender, *_account_mailbox(config)]
        recipients = reply_recipients(headers, own, reply_all=reference.action == "replyAll")
        return replace(
            draft,
            # Explicit recipients win; an empty list given on purpose is respected too.
            to=request.to if request.to is not None else recipients.to,
            cc=request.cc if request.cc is not None else recipients.cc,
            subject=request.subject
            if request.subject is not None
            else reply_subject(headers.subject),
            in_reply_to=headers.message_id,
            references=tuple(build_references(headers)),
        )

    def _forward(self, draft: Draft, original: Original, reference: Reference) -> Draft:
        assert original.raw is not None
        subject = draft.subject
        if subject is None:
            subject = forward_subject(original.headers.subject)
        if reference.inline:
            quoted = forwarding.inline(original.raw, original.headers, draft.text, draft.html)
            return replace(
                draft,
                subject=subject,
                text=quoted.text,
                html=quoted.html,
                attachments=(*draft.attachments, *quoted.attachments),
            )
        return replace(
            draft, subject=subject, forwarded=forwarding.attached(original.raw, original.headers)
        )

    # --- the referenced message ----------------------------------------------------------------
    async def _load_original(self, config: AccountConfig, reference: Reference) -> Original:
        if reference.message_id is not None:
            missing = NotFoundError(
                f"no message with Message-ID {reference.message_id} in any folder",
                details=[{"field": reference.field, "reason": "no message has this Message-ID"}],
            )
            binding = None
        else:
            assert reference.message is not None
            index, uid = decode_message_id(reference.message)  # InvalidInputError on a bad id
            missing = NotFoundError(f"message {reference.message!r} was not found")
            binding = await self._store.resolve_mailbox_index(config.account, index)
            if binding is None:
                raise missing
        session = self._accounts.session(config.account)
        if not isinstance(session, AccountSession):
            raise NotConnectedError(f"account {config.account!r} has no IMAP session here")
        full = reference.action == "forward"
        async with session.command() as command:
            if binding is None:
                assert reference.message_id is not None
                found = await self._find_message(command.conn, reference.message_id)
                if found is None:
                    raise missing
                path, uid_validity, uid = found
            else:
                path, uid_validity = binding
            try:
                return await self._fetch_original(
                    command, path, uid_validity, uid, full=full, field=reference.field
                )
            except CommandFailedError as exc:
                if (exc.response_code or "").upper() in ("NONEXISTENT", "TRYCREATE"):
                    raise missing from exc
                raise
            except NotFoundError:
                raise missing from None

    async def _fetch_original(
        self,
        command: CommandConnection,
        path: str,
        uid_validity: int,
        uid: int,
        *,
        full: bool,
        field: str,
    ) -> Original:
        conn = command.conn
        selected = await conn.examine(path)
        try:
            # A new UIDVALIDITY means the uid now names another message, or none (RFC 3501
            # §2.3.1.1); the id is stale.
            if selected.uid_validity != uid_validity:
                raise NotFoundError("stale message id")
            sized = [
                r
                for r in await conn.uid_fetch([uid], ["UID", "RFC822.SIZE"]).collect()
                if r.uid == uid
            ]
            if not sized:
                raise NotFoundError("no such uid")
            if full and (sized[0].size or 0) > self._max_size:
                raise PayloadTooLargeError(
                    f"the referenced message is {sized[0].size} bytes, over the limit of "
                    f"{self._max_size}",
                    details=[{"field": field, "reason": "too large"}],
                )
            item = "BODY.PEEK[]" if full else "BODY.PEEK[HEADER]"
            fetched = [
                r for r in await conn.uid_fetch([uid], ["UID", item]).collect() if r.uid == uid
            ]
            if not fetched:
                raise NotFoundError("no such uid")
            body = _section(fetched[0].sections, "BODY[]" if full else "BODY[HEADER]")
        finally:
            await conn.unselect()
        header_block = _HEADER_END.split(body, 1)[0] if full else body
        return Original(
            path=path,
            uid_validity=uid_validity,
            uid=uid,
            headers=read_original(header_block),
            raw=body if full else None,
        )


_HEADER_END = re.compile(rb"\r?\n\r?\n")  # RFC 5322 §2.1: an empty line ends the header


def _section(sections: dict[str, bytes], name: str) -> bytes:
    for key, value in sections.items():
        if key.upper() == name or key.upper().startswith(name + "<"):
            return value
    return next(iter(sections.values()), b"")


def _check_threading(request: SubmitRequest) -> None:
    """The threading fields that cannot go together (the schema states the same rules)."""
    reference = request.reference
    if reference is not None and (reference.message is None) == (reference.message_id is None):
        reason = "give exactly one of reference.message and reference.messageId"
        raise InvalidInputError(
            "reference",
            reason,
            details=[
                {"field": "reference.message", "reason": reason},
                {"field": "reference.messageId", "reason": reason},
            ],
        )
    given = [
        name
        for name, value in (("inReplyTo", request.in_reply_to), ("references", request.references))
        if value
    ]
    if reference is not None and given:
        reason = "set from the referenced message; give either reference or " + " and ".join(given)
        raise InvalidInputError(
            given[0],
            reason,
            details=[{"field": name, "reason": reason} for name in (*given, "reference")],
        )


def _account_mailbox(config: AccountConfig) -> list[Mailbox]:
    if not config.email:
        return []
    try:
        return [Mailbox(address=validate_address(config.email, "from"), name=config.name or "")]
    except InvalidInputError:
        return []


def _account_sender(config: AccountConfig) -> Mailbox:
    found = _account_mailbox(config)
    if not found:
        raise UnprocessableError("from", "required: the account has no email address to send from")
    return found[0]


def _result(submission: Submission, *, queued: bool) -> SubmitResult:
    return SubmitResult(
        message_id=submission.message_id,
        queue_id=submission.queue_id,
        send_at=submission.send_at,
        queued=queued,
    )
