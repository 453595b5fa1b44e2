"""Cross-cutting tasks. Tasks take ids only, load, call a service, return (STYLE.md §5)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

# Registered here so the worker and beat find them (autodiscover only imports <app>.tasks).
from duktus.privacy.tasks import build_export, destroy_due_keys, retention_run  # noqa: F401


@shared_task(name="duktus.ping")
def ping() -> dict[str, Any]:
    """Liveness of the worker including its database connection (status page, tests)."""
    from duktus.models import Practice

    return {"pong": True, "practices": Practice.objects.count()}
