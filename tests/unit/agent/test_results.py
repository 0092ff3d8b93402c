"""The compact answers of the MCP tools: addresses, paging notes, cut text, argument errors."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from imapapi.agent.results import address, cut, imapapi_error, invalid_arguments, page
from imapapi.errors import AccountNotFoundError, InvalidInputError
from imapapi.operations.messages import MessagePage


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            {"name": "Peter Põder", "address": "peter@example.com"},
            "Peter Põder <peter@example.com>",
        ),
        ({"name": "", "address": "peter@example.com"}, "peter@example.com"),
        ({"address": "peter@example.com"}, "peter@example.com"),
        (None, None),
    ],
    ids=["named", "empty-name", "no-name", "absent"],
)
def test_address(value: dict[str, str] | None, shown: str | None) -> None:
    assert address(value) == shown


@pytest.mark.parametrize(
    ("result", "note"),
    [
        (MessagePage(0, 3, 50, [{"id": "a"}]), "more messages: call again with page=1"),
        (MessagePage(2, 3, 50, [{"id": "a"}]), None),
        (MessagePage(7, 3, 50, []), "past the end: pages run from 0 to 2"),
        (MessagePage(0, 1, 0, []), None),
    ],
    ids=["first-of-three", "last", "past-the-end", "empty-folder"],
)
def test_page_notes(result: MessagePage, note: str | None) -> None:
    assert json.loads(page(result)).get("note") == note


def test_cut() -> None:
    assert cut("abcdef", 3) == ("abc", True)
    assert cut("abc", 3) == ("abc", False)
    assert cut(None, 3) == (None, False)


def _error(result: Any) -> dict[str, Any]:
    assert result.is_error
    return dict(json.loads(result.content[0].text))


def test_a_validation_error_names_each_argument() -> None:
    adapter = TypeAdapter(dict[str, Annotated[int, Field(ge=0)]])
    with pytest.raises(ValidationError) as raised:
        adapter.validate_python({"page": -1})
    error = _error(invalid_arguments(raised.value))
    assert error["code"] == "InvalidInput"
    assert error["details"] == [
        {"field": "page", "reason": "Input should be greater than or equal to 0"}
    ]
    assert error["error"] == "page: Input should be greater than or equal to 0"


def test_imapapi_errors_keep_code_and_message() -> None:
    assert _error(imapapi_error(AccountNotFoundError("account 'b' is not registered"))) == {
        "error": "account 'b' is not registered",
        "code": "AccountNotFound",
        "details": None,
    }
    assert _error(imapapi_error(InvalidInputError("mailbox", "bad")))["details"] == [
        {"field": "mailbox", "reason": "bad"}
    ]
