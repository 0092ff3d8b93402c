# Sourced by scripts/serve and scripts/test: create .venv on first use and keep it in step
# with pyproject.toml (re-installs when pyproject.toml is newer than the last install).
# Says on stderr what it is doing and how long it took; silent when there is nothing to do.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
extras=${IMAPAPI_VENV_EXTRAS:-}
stamp="$venv/.installed${extras:+-$extras}"
venv_started=$SECONDS
venv_worked=
if [ ! -x "$venv/bin/python" ]; then
    echo "imapapi: creating $venv (first start) ..." >&2
    python3 -m venv "$venv"
    venv_worked=1
fi
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    if [ -f "$stamp" ]; then
        echo "imapapi: pyproject.toml changed; updating .venv ..." >&2
    fi
    echo "imapapi: installing imapapi and its dependencies${extras:+ [$extras]} into .venv" \
        "(pip; a minute or so the first time) ..." >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/pip" install --quiet --disable-pip-version-check -e "$root${extras:+[$extras]}"
    touch "$stamp"
    venv_worked=1
fi
if [ -n "$venv_worked" ]; then
    echo "imapapi: .venv ready in $((SECONDS - venv_started)) s" >&2
fi
