#!/usr/bin/env bash
# README run command: sets everything up and runs web server, Celery worker and beat together.
# Ctrl-C stops all of them, including the embedded PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYBIN=.venv/bin/python
export PYTHONUNBUFFERED=1
$PYBIN -m duktus.embedded start
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "duktus wird beendet …"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  $PYBIN -m duktus.embedded stop
  echo "Alles gestoppt."
}
trap cleanup INT TERM EXIT
$PYBIN manage.py migrate --noinput -v 0
$PYBIN manage.py seed_demo
.venv/bin/celery -A duktus worker -l warning --concurrency 2 --pool prefork &
pids+=($!)
.venv/bin/celery -A duktus beat -l warning &
pids+=($!)
$PYBIN manage.py runserver 127.0.0.1:${PORT:-8000} --noreload &
pids+=($!)
echo
echo "duktus läuft: http://127.0.0.1:${PORT:-8000}  (Strg-C beendet alles)"
wait -n "${pids[@]}"
