from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from duktus import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("patienten/", include("patients.urls")),
    path("admin/", admin.site.urls),
]
