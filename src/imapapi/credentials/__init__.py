"""Secrets at rest (AES-256-GCM) and, later, the OAuth2 auth-server client."""
