"""api/responses.py: orjson writes exactly the bytes Starlette's JSONResponse writes, for the
values the API sends (no floats: sizes, uids and counts are ints)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from imapapi.api.responses import OrjsonResponse

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(),  # every code point but lone surrogates: controls, U+2028, quotes, backslashes
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=1000)
@given(VALUES)
def test_same_bytes_as_starlette(value: Any) -> None:
    assert OrjsonResponse(value).body == JSONResponse(value).body


def test_a_listing_page() -> None:
    message = {
        "id": "AAAAAQAATiA",
        "uid": 20000,
        "subject": 'Grüße "quoted" \\ \u2028 \x00 \U0001f600',
        "from": {"name": "Jörg", "address": "j@x"},
        "flags": ["\\Seen"],
        "unseen": False,
        "classification": {"type": "human", "reasons": []},
    }
    page = {"page": 0, "pages": 1, "total": 1, "messages": [message]}
    response = OrjsonResponse(page)
    assert response.body == JSONResponse(page).body
    assert response.headers["content-type"] == "application/json"
