from __future__ import annotations

from django.urls import path

from duktus.llm import views

app_name = "llm"

urlpatterns = [
    path("einstellungen/", views.ai_settings, name="settings"),
]
