"""Tasks take ids only, load, call a service, return (STYLE.md §5)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="documents.draft_section")
def draft_section(document_id: int, key: str, user_id: int, override_warnings: bool = False) -> None:
    from django.contrib.auth import get_user_model

    from documents import services
    from documents.models import Document
    from duktus.llm.errors import GatewayError

    document = Document.objects.select_related("patient__data_key", "patient__practice").filter(pk=document_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if document is None or user is None:
        return
    try:
        services.draft_section(document=document, key=key, user=user, override_warnings=override_warnings)
    except (GatewayError, services.DocumentLocked):
        # The service stored the German message as the section's AI status; the page shows it.
        return
