from __future__ import annotations

from django.contrib import admin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """Technical view for support: pseudonym, practice and dates. No names, no health data."""

    list_display = ("pseudonym", "practice", "insurance_type", "treatment_start", "treatment_end", "created_at")
    list_filter = ("practice",)
    fields = ("pseudonym", "practice", "therapist", "insurance_type", "treatment_start", "treatment_end", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
