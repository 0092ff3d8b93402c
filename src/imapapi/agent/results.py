"""What the MCP tools answer: compact JSON sized for a language model's context, and errors.

A tool's answer is the REST API's object cut down to what an agent reads (an address as one
`Name <addr>` string, a classification as its type, no MIME internals), serialized without
spaces. Long text is cut at the caller's `max_chars`, and a `note` says which argument gets
more. A refusal is a tool error (`isError`) whose text is the REST API's error body without the
HTTP status: `{"error", "code", "details"}`, the same code and message a REST client gets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from imapapi.errors import ImapApiError, InvalidInputError


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_result(code: str, message: str, details: Any = None) -> CallToolResult:
    body = {"error": message, "code": code, "details": details}
    return CallToolResult(content=[TextContent(type="text", text=as_json(body))], is_error=True)


def imapapi_error(exc: ImapApiError) -> CallToolResult:
    details = exc.details
    if isinstance(exc, InvalidInputError) and details is None:  # as api/errors.py answers it
        details = [{"field": exc.field, "reason": exc.reason}]
    return error_result(exc.code, exc.message, details)


def invalid_arguments(exc: ValidationError) -> CallToolResult:
    """The SDK's argument validation, answered as REST answers a bad field (`InvalidInput`)."""
    problems = [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "arguments",
            "reason": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in exc.errors()
    ]
    message = "; ".join(f"{p['field']}: {p['reason']}" for p in problems) or "invalid arguments"
    return error_result("InvalidInput", message, problems)


# --- message shapes ---------------------------------------------------------------------------


def address(value: Mapping[str, Any] | None) -> str | None:
    """`Name <addr>`, or the address alone when there is no name."""
    if not value:
        return None
    name, addr = value.get("name") or "", value.get("address") or ""
    return f"{name} <{addr}>" if name else addr


def addresses(values: Sequence[Mapping[str, Any]] | None) -> list[str] | None:
    found = [a for a in (address(v) for v in values or ()) if a]
    return found or None


def _kind(message: Mapping[str, Any]) -> str | None:
    classification = message.get("classification")
    return classification.get("type") if isinstance(classification, Mapping) else None


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, [], "")}


def brief(message: Mapping[str, Any]) -> dict[str, Any]:
    """One line of a listing: enough to choose which message to open."""
    flags = message.get("flags") or []
    return _compact(
        {
            "id": message["id"],
            "date": message.get("date"),
            "from": address(message.get("from")),
            "to": addresses(message.get("to")),
            "subject": message.get("subject"),
            "unseen": True if message.get("unseen") else None,
            "flagged": True if "\\Flagged" in flags else None,
            "answered": True if "\\Answered" in flags else None,
            "attachments": len(message.get("attachments") or []) or None,
            "type": _kind(message),
            "threadId": message.get("threadId"),
            "path": message.get("path"),
        }
    )


def page(result: Any, *, extra: Mapping[str, Any] | None = None) -> str:
    """A page of a listing, search or thread (`operations.messages.MessagePage`)."""
    answer: dict[str, Any] = {
        "page": result.page,
        "pages": result.pages,
        "total": result.total,
        **(extra or {}),
        "messages": [brief(m) for m in result.messages],
    }
    if result.page + 1 < result.pages:
        answer["note"] = f"more messages: call again with page={result.page + 1}"
    elif not result.messages and result.total:
        answer["note"] = f"past the end: pages run from 0 to {result.pages - 1}"
    return as_json(answer)


def cut(text: str | None, max_chars: int) -> tuple[str | None, bool]:
    """`text` cut at `max_chars` characters, and whether it was."""
    if text is None or len(text) <= max_chars:
        return text, False
    return text[:max_chars], True


def details(message: Mapping[str, Any], text: Mapping[str, Any]) -> dict[str, Any]:
    """The headers that matter of one message, its text (`text`: already cut) and its
    attachment list."""
    classification = message.get("classification") or {}
    return _compact(
        {
            "id": message["id"],
            "path": message.get("path"),
            "date": message.get("date"),
            "from": address(message.get("from")),
            "replyTo": addresses(message.get("replyTo")),
            "to": addresses(message.get("to")),
            "cc": addresses(message.get("cc")),
            "subject": message.get("subject"),
            "messageId": message.get("messageId"),
            "inReplyTo": message.get("inReplyTo"),
            "threadId": message.get("threadId"),
            "flags": message.get("flags"),
            "classification": _compact(
                {"type": classification.get("type"), "reasons": classification.get("reasons")}
            )
            or None,
            "text": text,
            "attachments": [
                _compact(
                    {
                        "id": a.get("id"),
                        "filename": a.get("filename"),
                        "contentType": a.get("contentType"),
                        "encodedSize": a.get("encodedSize"),
                        "inline": True if a.get("inline") else None,
                    }
                )
                for a in message.get("attachments") or []
            ],
        }
    )
