"""Sessions in the admin: technical columns only (notes are encrypted clinical content)."""

from __future__ import annotations

from django.contrib import admin

from sessions.models import AIRequest, TherapySession


@admin.register(TherapySession)
class TherapySessionAdmin(admin.ModelAdmin):
    list_display = ("code", "date", "setting", "status", "number")
    list_filter = ("status", "setting")
    fields = ("code", "date", "duration_minutes", "setting", "status", "number", "started_at", "closed_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AIRequest)
class AIRequestAdmin(admin.ModelAdmin):
    list_display = ("code", "state", "error_kind", "decision", "attempts", "created_at")
    list_filter = ("state", "decision")
    fields = ("code", "state", "error_kind", "decision", "attempts", "started_at", "finished_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
