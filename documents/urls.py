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
    path("<uuid:code>/quelle/<slug:kind>/<str:source_code>/", views.source, name="source"),
    # Practice
    path("briefkopf/", views.letterhead, name="letterhead"),
    path("briefkopf/logo/", views.letterhead_logo, name="letterhead_logo"),
]
