"""Persistence. `base.py` is the interface; `sqlite.py` the embedded default."""
