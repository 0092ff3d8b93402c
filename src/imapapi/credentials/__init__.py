"""Secrets at rest (AES-256-GCM), API tokens, the OAuth2 auth-server client and built-in
OAuth2 apps: consent flow and token life (issue 19)."""
