from __future__ import annotations

from django.urls import path

from memory import views

app_name = "memory"

urlpatterns = [
    # the section on the patient page
    path("<uuid:code>/", views.section, name="section"),
    path("<uuid:code>/suche/", views.search, name="search"),
    # entries
    path("<uuid:code>/eintraege/", views.entries, name="entries"),
    path("<uuid:code>/eintraege/neu/", views.entry_add, name="entry_add"),
    path("<uuid:code>/eintraege/<uuid:entry_code>/pruefen/", views.review, name="review"),
    path("<uuid:code>/eintraege/<uuid:entry_code>/bearbeiten/", views.entry_edit, name="entry_edit"),
    # summary
    path("<uuid:code>/zusammenfassung/", views.summary_edit, name="summary"),
    path("<uuid:code>/zusammenfassung/neu/", views.summary_rebuild, name="summary_rebuild"),
    # extraction runs
    path("<uuid:code>/auswertungen/<uuid:run_code>/wiederholen/", views.run_retry, name="run_retry"),
]
