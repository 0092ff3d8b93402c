"""Persistence. `base.py` is the interface (one protocol per concern) and `records.py` its
records; `sqlite/` is the embedded default and `redis/` the store several nodes share, each with
one module per concern; `keys.py` names every table and key, `payload.py` the stored envelope."""
