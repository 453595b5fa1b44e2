"""Admin shows technical columns only: no decrypted text in lists (they end up in screenshots)."""

from __future__ import annotations

from django.contrib import admin

from memory.models import ExtractionRun, MemoryEntry, PatientSummary


@admin.register(MemoryEntry)
class MemoryEntryAdmin(admin.ModelAdmin):
    list_display = ("code", "type", "status", "source_kind", "date")
    list_filter = ("type", "status", "source_kind")
    fields = ("code", "type", "status", "source_kind", "source_id", "date", "created_at", "confirmed_at")
    readonly_fields = fields


@admin.register(PatientSummary)
class PatientSummaryAdmin(admin.ModelAdmin):
    list_display = ("code", "version", "author", "created_at")
    fields = ("code", "version", "author", "created_at", "entry_count")
    readonly_fields = fields


@admin.register(ExtractionRun)
class ExtractionRunAdmin(admin.ModelAdmin):
    list_display = ("code", "source_kind", "status", "error_kind", "attempts", "entries_created", "created_at")
    list_filter = ("status", "source_kind", "error_kind")
    fields = list_display
    readonly_fields = fields
