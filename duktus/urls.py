from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from assessments import views as assessment_views
from duktus import views

urlpatterns = [
    path("", assessment_views.dashboard, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("patienten/", include("patients.urls")),
    path("fragebogen/", include("assessments.urls")),
    path("datenschutz/", include("duktus.privacy.urls")),
    path("ki/", include("duktus.llm.urls")),
    path("dokumente/", include("documents.urls")),
    path("gedaechtnis/", include("memory.urls")),
    path("sitzungen/", include("sessions.urls")),
    path("leitlinien/", include("sessions.evidence_urls")),
    path("admin/", admin.site.urls),
]
