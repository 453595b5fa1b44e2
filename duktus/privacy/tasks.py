"""Privacy tasks: ids only, re-fetch, call a service (STYLE.md §5)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="privacy.build_export")
def build_export(job_id: int) -> None:
    from duktus.models import ExportJob
    from duktus.privacy import export

    job = ExportJob.objects.select_related("practice", "requested_by").filter(pk=job_id).first()
    if job is None:
        return
    export.run_export(job)


@shared_task(name="privacy.retention_run")
def retention_run() -> None:
    from duktus.privacy import retention

    retention.run()


@shared_task(name="privacy.destroy_due_keys")
def destroy_due_keys() -> None:
    from duktus.privacy import erasure

    erasure.destroy_due_keys()
