from __future__ import annotations

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    # Per patient
    path("patient/<uuid:code>/neu/", views.document_new, name="new"),
    path("patient/<uuid:code>/anlegen/", views.document_create, name="create"),
    # One document
    path("<uuid:code>/", views.document_detail, name="detail"),
    path("<uuid:code>/abschnitt/<slug:key>/", views.section_update, name="section_update"),
    path("<uuid:code>/abschnitt/<slug:key>/status/", views.section_status, name="section_status"),
    path("<uuid:code>/ki-entwurf/", views.draft_request, name="draft"),
    path("<uuid:code>/variante/", views.variant_set, name="variant"),
    path("<uuid:code>/version/", views.version_save, name="version_save"),
    path("<uuid:code>/versionen/", views.versions, name="versions"),
    path("<uuid:code>/versionen/<int:number>/", views.version_detail, name="version"),
    path("<uuid:code>/seiten/", views.page_count, name="pages"),
    path("<uuid:code>/signieren/", views.sign, name="sign"),
    path("<uuid:code>/nachtrag/", views.addendum, name="addendum"),
    path("<uuid:code>/pdf/", views.pdf_download, name="pdf"),
    path("<uuid:code>/quelle/<slug:kind>/<uuid:source_code>/", views.source, name="source"),
    # Therapy goals (they live in memory; the Therapieplan reads and writes them)
    path("<uuid:code>/ziele/", views.goal_add, name="goal_add"),
    path("<uuid:code>/ziele/<uuid:goal_code>/", views.goal_update, name="goal_update"),
    path("<uuid:code>/ziele/uebernehmen/<slug:key>/", views.goals_apply, name="goals_apply"),
    # Practice
    path("briefkopf/", views.letterhead, name="letterhead"),
    path("briefkopf/logo/", views.letterhead_logo, name="letterhead_logo"),
]
