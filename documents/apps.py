from __future__ import annotations

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"
    verbose_name = "Dokumente"

    def ready(self) -> None:
        # Signed documents are a memory source: memory proposes entries from them (never imports us).
        from documents.services import memory_source
        from memory import services as memory_services

        memory_services.register_source("document", memory_source)
