"""Service settings: a TOML file plus IMAPAPI_* environment variables (environment wins)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "IMAPAPI_CONFIG"


class Settings(BaseSettings):
    """Process-level configuration. Runtime settings (webhook URL...) live in the store."""

    model_config = SettingsConfigDict(env_prefix="IMAPAPI_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(3000, ge=1, le=65535, description="Port the HTTP API listens on.")
    data_dir: Path = Field(
        Path("./data"), description="Directory of the SQLite database and the generated key file."
    )
    secret: str | None = Field(
        None,
        description="Key material for encrypting secrets at rest. When unset, a random key is "
        "generated into DATA_DIR/secret.key (mode 0600) on first start.",
    )
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s?#]+$",
        description="The URL end users' browsers reach this service at (e.g. "
        "https://mail-api.example.com), for the OAuth2 callback `<public_url>/oauth2/callback`. "
        "When unset, the base URL of the request to POST /v1/oauth2/authorize is used.",
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    insecure: bool = Field(
        False, description="Serve /v1 without API tokens. Only for local development."
    )
    redis_url: str | None = Field(None, description="Redis URL for the distributed store.")
    redis_prefix: str = Field(
        "imapapi",
        pattern=r"^[^:{}\s]+$",
        description="Prefix of every Redis key, so several deployments can share one Redis.",
    )
    node_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="This process's name among the nodes sharing one Redis (default: "
        "hostname-pid-random, new on every start).",
    )
    lease_ttl: float = Field(
        15.0,
        ge=3,
        le=600,
        description="Seconds an account lease lasts without renewal (Redis store): a node that "
        "dies has its accounts taken over within about this time.",
    )
    token_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="Seconds an API token's record is kept in memory between store reads (0: "
        "read on every request). A revoke through the API, the web page or, on the Redis "
        "store, from any process applies at once; `imapapi token revoke` on the SQLite file "
        "of a running service applies within this time.",
    )
    metrics_allow_localhost: bool = Field(
        False,
        description="Serve /metrics without a token to clients on the loopback interface.",
    )

    # Connection tuning.
    max_concurrent_logins: int = Field(64, ge=1, description="Logins in flight at once, overall.")
    max_logins_per_host: int = Field(16, ge=1, description="Logins in flight per mail host.")
    imap_timeout: float = Field(30.0, gt=0, description="Seconds to wait for an IMAP response.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to open a connection.")
    reconnect_delay: float = Field(
        1.0,
        gt=0,
        description="Seconds before the first new attempt after a network failure (or an "
        "auth-server outage); doubled, with jitter, after each further failure.",
    )
    reconnect_delay_max: float = Field(
        300.0, gt=0, description="Longest pause between attempts after network failures."
    )
    auth_retry_delay: float = Field(
        60.0,
        gt=0,
        description="Seconds before the first new attempt after the server refused the "
        "credentials (long, so a wrong password does not hammer the server); doubled after "
        "each further refusal.",
    )
    auth_retry_delay_max: float = Field(
        3600.0, gt=0, description="Longest pause between attempts after refused credentials."
    )
    command_connections: int = Field(
        3,
        ge=1,
        le=16,
        description="IMAP connections per account for API calls, opened only while concurrent "
        "calls need them (servers limit connections per user: Gmail allows 15).",
    )
    summary_cache: int = Field(
        20_000,
        ge=0,
        description="Message summaries kept in memory for listings, in the whole process (about "
        "0.6 KiB each): a page of messages listed before costs a FETCH of their flags only. "
        "Flags and labels are always fetched fresh; 0 keeps none.",
    )
    command_idle_close: float = Field(
        60.0, gt=0, description="Seconds before an unused command connection is closed."
    )
    api_gateway_timeout: float = Field(
        1.5, gt=0, description="Seconds an API call waits for a connection before a 503."
    )
    status_poll_interval: float = Field(
        30.0, gt=0, description="Seconds between STATUS polls of folders without NOTIFY."
    )
    relist_interval: float = Field(
        300.0,
        gt=0,
        description="Seconds between comparisons of every folder's LIST-STATUS with the stored "
        "state on servers with NOTIFY, which report most changes at once but not all (Dovecot "
        "2.3 sends nothing for a folder renamed by another client).",
    )
    idle_restart: float = Field(
        25 * 60.0, gt=0, description="Re-issue IDLE before the server's 29-minute limit (RFC 2177)."
    )
    protocol_log_bytes: int = Field(
        16384, ge=0, description="Bytes of IMAP conversation kept per account (ring buffer)."
    )
    tracking_retention_days: float = Field(
        90.0, gt=0, description="Days a sent or tracked Message-ID is kept for reply tracking."
    )
    reply_text_max: int = Field(
        4096,
        ge=64,
        le=1024 * 1024,
        description="Octets (UTF-8) of the reply's own text in messageReply and messageAutoReply "
        "webhooks (`data.text.reply`); a longer text is cut and `truncated` names it.",
    )
    webhook_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a webhook reply.")
    max_message_size: int = Field(
        25 * 1024 * 1024,
        ge=1024,
        description="Largest message /submit accepts, in bytes as composed (attachments "
        "base64-encoded), and largest message POST /message uploads; larger requests get 413.",
    )
    max_body_size: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body, in bytes, of every route but the message upload "
        "and /submit (whose cap follows max_message_size); larger bodies get 413, counted "
        "while they arrive.",
    )
    webhook_max_age: float = Field(
        48 * 3600.0,
        ge=24 * 3600.0,
        description="Seconds to keep retrying an event before dead-lettering.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _ordered_delays(self) -> Settings:
        if self.reconnect_delay_max < self.reconnect_delay:
            raise ValueError("reconnect_delay_max must not be below reconnect_delay")
        if self.auth_retry_delay_max < self.auth_retry_delay:
            raise ValueError("auth_retry_delay_max must not be below auth_retry_delay")
        return self

    @property
    def database_path(self) -> Path:
        return self.data_dir / "imapapi.db"

    @property
    def key_path(self) -> Path:
        return self.data_dir / "secret.key"

    @property
    def upload_body_size(self) -> int:
        """Largest body of POST /message and /submit: a message of max_message_size in base64
        (4/3 larger) plus max_body_size for the rest of the JSON."""
        return math.ceil(self.max_message_size * 4 / 3) + self.max_body_size

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get(CONFIG_ENV)
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; explicit overrides (from the command line) win over everything."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
