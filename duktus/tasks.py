"""Cross-cutting tasks. Tasks take ids only, load, call a service, return (STYLE.md §5)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="duktus.ping")
def ping() -> dict[str, Any]:
    """Liveness of the worker including its database connection (status page, tests)."""
    from duktus.models import Practice

    return {"pong": True, "practices": Practice.objects.count()}
