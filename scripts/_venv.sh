# Sourced by scripts/serve and scripts/test: create .venv on first use and keep it in step
# with pyproject.toml (re-installs when pyproject.toml is newer than the last install).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
extras=${IMAPAPI_VENV_EXTRAS:-}
stamp="$venv/.installed${extras:+-$extras}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/pip" install --quiet --disable-pip-version-check -e "$root${extras:+[$extras]}"
    touch "$stamp"
fi
