"""/v1/account/{account}/thread/{threadId}: a conversation's messages across folders (issue 16)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from imapapi.api.deps import SessionDep
from imapapi.api.routes.messages import PageQuery, PageSizeQuery, page_response
from imapapi.api.schemas.common import ErrorResponse
from imapapi.api.schemas.messages import THREAD_ID_EXAMPLE, THREAD_ID_PATTERN, ThreadList
from imapapi.operations import threads

router = APIRouter(prefix="/v1/account/{account}", tags=["Message"])

ThreadId = Annotated[
    str,
    Path(
        pattern=THREAD_ID_PATTERN,
        description="`threadId` of a message object.",
        examples=[THREAD_ID_EXAMPLE],
    ),
]


@router.get(
    "/thread/{threadId}",
    summary="The messages of a conversation, in every folder, oldest first",
    description="Found on the mail server, not in a copy: on Gmail, All Mail searched by "
    "X-GM-THRID; elsewhere every selectable folder searched for the thread's root Message-ID "
    "(in Message-ID, References, In-Reply-To), each hit checked by its own `threadId`. Oldest "
    "first by date; each message has its `path` and `id`. Paged like the listing.",
    response_model=ThreadList,
    responses={
        404: {
            "model": ErrorResponse,
            "description": "Unknown account, or no message of this thread on the server (also "
            "for an id of the right form that names no thread).",
        }
    },
)
async def get_thread(
    session: SessionDep,
    threadId: ThreadId,
    page: PageQuery = 0,
    pageSize: PageSizeQuery = 20,
) -> JSONResponse:
    return page_response(
        await threads.get_thread(session, session.store, threadId, page=page, page_size=pageSize)
    )
