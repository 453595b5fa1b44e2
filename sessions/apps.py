from __future__ import annotations

from django.apps import AppConfig


class TherapySessionsConfig(AppConfig):
    # The folder is sessions/, but the label must differ from django.contrib.sessions.
    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    label = "therapy_sessions"
    verbose_name = "Therapiesitzungen"

    def ready(self) -> None:
        # Closed session notes are a memory source (memory imports no feature app).
        from memory import services as memory_services
        from sessions.services import memory_source

        memory_services.register_source("session", memory_source)
