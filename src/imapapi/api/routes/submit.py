"""POST /v1/account/{account}/submit: queue a message for sending (seed README "Send an email")."""

from __future__ import annotations

from fastapi import APIRouter

from imapapi.api.deps import AccountDep, ServiceDep
from imapapi.api.schemas.submit import AddressIn, SubmitIn, SubmitOut
from imapapi.events.model import format_date
from imapapi.mail.compose import Attachment
from imapapi.mail.references import Mailbox
from imapapi.sending.submission import Reference, SubmitRequest

router = APIRouter(prefix="/v1/account/{account}", tags=["Submit"])


def _mailboxes(values: list[AddressIn] | None) -> tuple[Mailbox, ...] | None:
    if values is None:
        return None
    return tuple(Mailbox(address=v.address, name=v.name or "") for v in values)


def _request(body: SubmitIn) -> SubmitRequest:
    sender = body.from_
    return SubmitRequest(
        sender=Mailbox(address=sender.address, name=sender.name or "") if sender else None,
        to=_mailboxes(body.to),
        cc=_mailboxes(body.cc),
        bcc=_mailboxes(body.bcc) or (),
        reply_to=_mailboxes(body.replyTo) or (),
        subject=body.subject,
        text=body.text,
        html=body.html,
        attachments=tuple(
            Attachment(
                content=a.decoded(),
                filename=a.filename,
                content_type=a.contentType,
                disposition=a.contentDisposition,
                cid=a.cid,
            )
            for a in body.attachments
        ),
        headers=tuple(body.headers.items()),
        message_id=body.messageId,
        reference=(
            Reference(
                message=body.reference.message,
                message_id=body.reference.messageId,
                action=body.reference.action,
                inline=body.reference.inline,
            )
            if body.reference
            else None
        ),
        in_reply_to=body.inReplyTo,
        references=tuple(body.references or ()),
        idempotency_key=body.idempotencyKey,
        send_at=body.sendAt.timestamp() if body.sendAt else None,
    )


@router.post(
    "/submit",
    summary="Send a message (queued; reply/forward with `reference`)",
    responses={
        404: {
            "description": "Unknown account, or the referenced message is gone "
            "(`reference.message`) or in no folder (`reference.messageId`, named in "
            "`details`): nothing is queued or sent."
        },
        413: {
            "description": "The message is over `max_message_size` as composed, or the request "
            "body over that size base64-encoded plus `max_body_size` (refused as it arrives)."
        },
    },
)
async def submit(body: SubmitIn, config: AccountDep, service: ServiceDep) -> SubmitOut:
    result = await service.submitter().submit(config.account, _request(body))
    return SubmitOut(
        messageId=result.message_id, queueId=result.queue_id, sendAt=format_date(result.send_at)
    )
