from __future__ import annotations

from django.urls import path

from sessions import evidence_views

app_name = "evidence"

urlpatterns = [
    path("", evidence_views.evidence_search, name="search"),
]
