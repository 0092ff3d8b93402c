"""Settings: defaults, a TOML file, and environment variables that win over the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from imapapi.config import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IMAPAPI_CONFIG", "IMAPAPI_PORT", "IMAPAPI_HOST", "IMAPAPI_INSECURE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port, settings.insecure) == ("127.0.0.1", 3000, False)


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "imapapi.toml"
    config.write_text('port = 4000\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    monkeypatch.setenv("IMAPAPI_CONFIG", str(config))
    monkeypatch.setenv("IMAPAPI_PORT", "5000")
    settings = load_settings()
    assert settings.port == 5000
    assert settings.host == "0.0.0.0"
    assert settings.log_level == "DEBUG"
    assert load_settings(port=6000).port == 6000  # the command line wins over both


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAPAPI_PORT", "70000")
    with pytest.raises(ValidationError):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("IMAPAPI_COMMAND_CONNECTIONS", "0", False),
        ("IMAPAPI_COMMAND_CONNECTIONS", "1", True),
        ("IMAPAPI_COMMAND_CONNECTIONS", "16", True),
        ("IMAPAPI_COMMAND_CONNECTIONS", "17", False),
        ("IMAPAPI_SUMMARY_CACHE", "-1", False),
        ("IMAPAPI_SUMMARY_CACHE", "0", True),
        ("IMAPAPI_SUMMARY_CACHE", "50000", True),
    ],
)
def test_connection_and_cache_bounds(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, accepted: bool
) -> None:
    monkeypatch.delenv("IMAPAPI_CONFIG", raising=False)
    monkeypatch.setenv(variable, value)
    if accepted:
        field = variable.removeprefix("IMAPAPI_").lower()
        assert getattr(load_settings(), field) == int(value)
    else:
        with pytest.raises(ValidationError):
            load_settings()
