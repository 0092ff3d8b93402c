"""The Gmail-like server of the OAuth tests, for the Gmail thread test."""

from tests.integration.oauth.conftest import hoodiecrow

__all__ = ["hoodiecrow"]
