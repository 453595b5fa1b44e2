from __future__ import annotations

from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    # Recording and trends (per patient)
    path("patient/<uuid:code>/erfassen/<str:instrument>/", views.record, name="record"),
    path("patient/<uuid:code>/erfassen/<str:instrument>/vorschau/", views.preview, name="preview"),
    path("patient/<uuid:code>/verlauf/<str:instrument>/", views.trend, name="trend"),
    # Patient links
    path("patient/<uuid:code>/links/", views.link_create, name="link_create"),
    path("patient/<uuid:code>/links/<uuid:link_code>/widerrufen/", views.link_revoke, name="link_revoke"),
    path("ausfuellen/<str:token>/", views.fill, name="fill"),
    # Schedules
    path("patient/<uuid:code>/plan/", views.schedule_set, name="schedule_set"),
    path("patient/<uuid:code>/plan/<uuid:schedule_code>/entfernen/", views.schedule_remove, name="schedule_remove"),
    # Licences
    path("lizenzen/", views.licences, name="licences"),
    path("lizenzen/<uuid:licence_code>/entfernen/", views.licence_remove, name="licence_remove"),
    # Notifications
    path("benachrichtigungen/<uuid:notification_code>/", views.notification_open, name="notification_open"),
]
