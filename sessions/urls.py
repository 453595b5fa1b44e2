from __future__ import annotations

from django.urls import path

from sessions import views

app_name = "sessions"

urlpatterns = [
    path("patient/<uuid:patient_code>/neu/", views.session_create, name="create"),
    path("anmeldung/token/", views.csrf_token, name="csrf_token"),
    # One session: the live view and what its page calls
    path("<uuid:code>/", views.session_detail, name="detail"),
    path("<uuid:code>/beginnen/", views.session_start, name="start"),
    path("<uuid:code>/notiz/", views.note_save, name="note_save"),
    path("<uuid:code>/abschliessen/", views.session_close, name="close"),
    path("<uuid:code>/korrektur/", views.note_correct, name="correct"),
    path("<uuid:code>/krise/", views.crisis_slot, name="crisis"),
    # AI panel
    path("<uuid:code>/ki/", views.ai_ask, name="ai_ask"),
    path("<uuid:code>/ki/<uuid:item_code>/", views.ai_item, name="ai_item"),
    path("<uuid:code>/ki/<uuid:item_code>/wiederholen/", views.ai_retry, name="ai_retry"),
    path("<uuid:code>/ki/<uuid:item_code>/abbrechen/", views.ai_cancel, name="ai_cancel"),
    path("<uuid:code>/ki/<uuid:item_code>/entscheidung/", views.ai_decide, name="ai_decide"),
    path("<uuid:code>/ki/<uuid:item_code>/gesendet/", views.ai_seen, name="ai_seen"),
]
