from __future__ import annotations

from django.apps import AppConfig


class DuktusConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "duktus"
    verbose_name = "duktus"
