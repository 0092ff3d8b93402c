"""The JSON response of the hot routes (listings, search, details, threads), encoded by orjson.

Starlette's JSONResponse runs `json.dumps(ensure_ascii=False, separators=(",", ":"))`: ~240 µs
for a page of 20 messages, most of the CPU a page costs beyond IMAP. orjson writes the same
bytes for what these routes send (str keys, ints, strings, lists, dicts, booleans, null; no
floats) in a tenth of that; tests/unit/api/test_responses.py compares the two.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """`JSONResponse` with orjson as the encoder."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
