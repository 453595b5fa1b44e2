"""Tasks take ids only, load, call a service, return (STYLE.md §5)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="assessments.send_notification_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> None:
    from assessments import services
    from assessments.models import Notification

    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None:
        return
    services.email_notification(notification=notification)
