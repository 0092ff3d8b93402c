"""/v1/account/{account}/mailboxes and /mailbox: list, create, rename, delete folders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from imapapi.api.deps import SessionDep
from imapapi.api.schemas.common import ErrorResponse
from imapapi.api.schemas.mailboxes import (
    ExistingMailboxPath,
    MailboxCreate,
    MailboxList,
    MailboxOut,
    MailboxRename,
    MailboxResult,
)
from imapapi.operations import mailboxes

_EXISTS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "A folder with this path exists already."}
}

router = APIRouter(prefix="/v1/account/{account}", tags=["Mailbox"])


@router.get("/mailboxes", summary="List folders")
async def list_mailboxes(
    session: SessionDep,
    counters: Annotated[
        bool, Query(description="Add STATUS counters (one more round trip per folder).")
    ] = False,
) -> MailboxList:
    entries = await mailboxes.list_mailboxes(session, counters=counters)
    return MailboxList(
        mailboxes=[
            MailboxOut(
                path=e.path,
                name=e.name,
                delimiter=e.delimiter,
                parentPath=e.parent_path,
                specialUse=e.special_use,
                subscribed=e.subscribed,
                listed=e.listed,
                messages=e.messages,
                uidNext=e.uid_next,
                uidValidity=e.uid_validity,
                unseen=e.unseen,
            )
            for e in entries
        ]
    )


@router.post(
    "/mailbox",
    summary="Create a folder (409 if it exists)",
    responses=_EXISTS,
    description=(
        "Creates the folder `path` and subscribes to it. `path` is a server path: its levels "
        "are separated by the server's delimiter (the `delimiter` of the folder list, e.g. "
        "`/` on Dovecot, `.` on Courier). A path outside every namespace of the server is "
        "created under the personal namespace prefix (RFC 2342): `Projekte` becomes "
        "`INBOX.Projekte` on a server whose personal namespace is `INBOX.`, and stays "
        "`Projekte` where the prefix is empty. The answer's `path` is the folder created."
    ),
)
async def create_mailbox(body: MailboxCreate, session: SessionDep) -> MailboxResult:
    path = await mailboxes.create_mailbox(session, body.path)
    return MailboxResult(path=path, created=True)


@router.put(
    "/mailbox",
    summary="Rename a folder (409 if `newPath` exists)",
    responses=_EXISTS,
    description=(
        "Renames `path` to `newPath`; `newPath` is placed like the `path` of a new folder "
        "(under the personal namespace prefix when it is in no namespace), and the answer's "
        "`newPath` is the real one."
    ),
)
async def rename_mailbox(body: MailboxRename, session: SessionDep) -> MailboxResult:
    new_path = await mailboxes.rename_mailbox(session, body.path, body.newPath)
    return MailboxResult(path=body.path, newPath=new_path, renamed=True)


@router.delete("/mailbox", summary="Delete a folder (404 if it does not exist)")
async def delete_mailbox(
    session: SessionDep,
    path: Annotated[ExistingMailboxPath, Query(description="Folder to delete (not INBOX).")],
) -> MailboxResult:
    await mailboxes.delete_mailbox(session, path)
    return MailboxResult(path=path, deleted=True)
