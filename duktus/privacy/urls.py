from __future__ import annotations

from django.urls import path

from duktus.privacy import views

app_name = "privacy"

urlpatterns = [
    path("patient/<uuid:code>/", views.patient_privacy, name="patient"),
    path("patient/<uuid:code>/export/", views.export_start, name="export_start"),
    path("patient/<uuid:code>/einschraenken/", views.restrict, name="restrict"),
    path("patient/<uuid:code>/einschraenkung-aufheben/", views.lift_restriction, name="lift_restriction"),
    path("patient/<uuid:code>/loeschen/", views.erase, name="erase"),
    path("export/<uuid:job_code>/status/", views.export_status, name="export_status"),
    path("export/<uuid:job_code>/download/", views.export_download, name="export_download"),
    path("loeschbestaetigung/<uuid:cert_code>/", views.certificate, name="certificate"),
    path("aufbewahrung/", views.retention_overview, name="retention"),
    path("aufbewahrung/einstellungen/", views.privacy_settings_edit, name="settings"),
]
