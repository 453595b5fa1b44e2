#!/usr/bin/env bash
# README test command: sets everything up and runs the whole test suite against the embedded
# PostgreSQL (never SQLite), a real Celery worker and Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Browser tests use Debian's Chromium (never `playwright install`).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver) >/dev/null
  else
    echo "Bitte installieren: sudo apt-get install chromium chromium-driver" >&2
  fi
fi
export DUKTUS_VAR_DIR="${DUKTUS_VAR_DIR:-$PWD/var/test}"
mkdir -p "$DUKTUS_VAR_DIR"
# The whole suite (no arguments, as in CI) type-checks first: mypy with django-stubs (mypy.ini).
if [ "$#" -eq 0 ]; then
  echo "mypy …"
  .venv/bin/mypy
fi
.venv/bin/python -m duktus.embedded start
trap '.venv/bin/python -m duktus.embedded stop' EXIT
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
if [ "$rc" = "5" ]; then
  echo "pytest hat keine Tests gefunden – das ist ein Fehler." >&2
  exit 1
fi
exit $rc
