"""/v1/logs/{account}: the recent IMAP conversation of an account, as text."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from imapapi.api.deps import AccountDep, AccountsDep
from imapapi.sessions.session import AccountSession

router = APIRouter(prefix="/v1", tags=["Logs"])


@router.get(
    "/logs/{account}",
    summary="Download the account's recent IMAP protocol log",
    description="Commands and responses, newest last; passwords and tokens are redacted and "
    "message contents elided. Bounded by `IMAPAPI_PROTOCOL_LOG_BYTES`.",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def get_log(config: AccountDep, accounts: AccountsDep) -> PlainTextResponse:
    session = accounts.session(config.account)
    text = session.log.text() if isinstance(session, AccountSession) else ""
    return PlainTextResponse(
        text,
        headers={"Content-Disposition": f'attachment; filename="{config.account}.log"'},
    )
