"""Platform admin: tenancy and technical metadata only. Decrypted health data never shows here:
encrypted fields are not editable, so ModelAdmin never renders them, and __str__ of patient
rows is the pseudonym."""

from __future__ import annotations

from django.contrib import admin

from duktus.models import AuditEntry, Membership, Practice, PracticeKey


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ("name", "city", "created_at")
    readonly_fields = ("code", "created_at")
    exclude = ("secrets_ct",)
    inlines = [MembershipInline]


@admin.register(PracticeKey)
class PracticeKeyAdmin(admin.ModelAdmin):
    list_display = ("practice", "version", "master_version", "created_at", "retired_at")
    exclude = ("wrapped",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_label", "practice", "patient_pseudonym", "action", "object_type", "ip")
    list_filter = ("action",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
