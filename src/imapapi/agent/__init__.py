"""`/mcp`: the Model Context Protocol server for AI agents, on the same app as the REST API.

`endpoint.py` is the HTTP side (the bearer-token door, the SDK's streamable HTTP transport, its
lifespan); `tools.py` the tools, which call the same `operations/` and `sending/` functions as
the REST routes; `results.py` shapes their answers and errors for a language model's context.
This package sits beside `api/` (neither imports the other); `web.py` mounts both.
"""
