"""The README's quick start on a fresh clone: `scripts/serve` makes its own `.venv` on first use,
saying so and how long it took, serves the API and prints the first token; a second start
prints nothing about the venv."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import first_start_token
from tests.servers.service import ServiceProcess

REPO = Path(__file__).resolve().parents[2]
# What scripts/_venv.sh says, on stderr, while it works (and only then).
VENV_LINES = [
    r"imapapi: creating \S+/\.venv \(first start\) \.\.\.",
    r"imapapi: installing imapapi and its dependencies into \.venv .*\.\.\.",
    r"imapapi: \.venv ready in \d+ s",
]


# Creating the venv installs the dependencies through pip (~20 s here with the registry's
# packages cached by pip; a cold cache takes longer), hence more than the default 120 s.
@pytest.mark.timeout(420)
def test_scripts_serve_on_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(clone)], check=True, capture_output=True
    )
    assert not (clone / ".venv").exists()

    service = ServiceProcess(
        tmp_path / "data",
        tmp_path / "logs",
        command=[str(clone / "scripts" / "serve")],
        cwd=clone,
    )
    # Given as flags, as a user would; the same values are in the environment anyway.
    service.args = ["--port", str(service.port), "--data-dir", str(service.data_dir)]
    try:
        service.start(timeout=400)
        assert (clone / ".venv" / "bin" / "imapapi").exists()
        token = first_start_token(service.stderr)
        with service.client(token) as client:
            assert client.get("/v1/accounts").status_code == 200
            docs = client.get("/docs")
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
            # Swagger UI's script comes from a package the fresh venv installed, not a CDN.
            script = client.get("/docs-assets/swagger/swagger-ui-bundle.js")
            assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
        assert (service.data_dir / "imapapi.db").exists()
        assert service.stop() == 0
        said = [line for line in service.stderr.splitlines() if line.startswith("imapapi: ")]
        assert len(said) == len(VENV_LINES), service.stderr
        for line, pattern in zip(said, VENV_LINES, strict=True):
            assert re.fullmatch(pattern, line), (line, pattern)
        # ... before the service's own first words.
        assert service.stderr.index(said[-1]) < service.stderr.index(token)

        service.start()
        assert "imapapi: " not in service.stderr, service.stderr  # nothing to do: silent
        assert service.stop() == 0
    finally:
        service.close()
