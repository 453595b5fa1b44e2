from __future__ import annotations

from django.contrib import admin

from documents.models import Document, PracticeLetterhead


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Technical view for support: template, status, dates. No content (it is encrypted anyway)."""

    list_display = ("code", "template_key", "variant", "status", "created_at", "signed_at")
    list_filter = ("template_key", "status")
    fields = ("code", "template_key", "variant", "status", "created_at", "signed_at", "content_sha256")
    readonly_fields = fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(PracticeLetterhead)
class PracticeLetterheadAdmin(admin.ModelAdmin):
    list_display = ("practice", "name", "updated_at")
    fields = ("practice", "name", "address", "contact", "updated_at")
    readonly_fields = ("practice", "updated_at")
