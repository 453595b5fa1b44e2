from __future__ import annotations

from django.urls import path

from patients import crisis_views, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("neu/", views.patient_create, name="create"),
    path("icd/", views.icd_search, name="icd_search"),
    path("<uuid:code>/", views.patient_detail, name="detail"),
    path("<uuid:code>/bearbeiten/", views.patient_edit, name="edit"),
    path("<uuid:code>/diagnosen/", views.diagnosis_add, name="diagnosis_add"),
    path("<uuid:code>/diagnosen/<uuid:diagnosis_code>/beenden/", views.diagnosis_end, name="diagnosis_end"),
    path("<uuid:code>/einwilligungen/", views.consent_add, name="consent_add"),
    path("<uuid:code>/bewilligungen/", views.approval_add, name="approval_add"),
    path("<uuid:code>/bewilligungen/<uuid:approval_code>/sitzungen/", views.approval_used, name="approval_used"),
    # Crisis pathway
    path("<uuid:code>/krise/melden/", crisis_views.crisis_raise, name="crisis_raise"),
    path("<uuid:code>/krise/<uuid:event_code>/", crisis_views.crisis_document, name="crisis_document"),
    path("<uuid:code>/krisenplan/", crisis_views.safety_plan, name="safety_plan"),
    path("<uuid:code>/krisenplan/drucken/", crisis_views.safety_plan_print, name="safety_plan_print"),
]
