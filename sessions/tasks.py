"""Session tasks: ids only, re-fetch, call a service (STYLE.md §5)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="therapy_sessions.answer_question", acks_late=True)
def answer_question(item_id: int) -> None:
    """Answer one AI panel question. Idempotent: the service claims the row with a conditional
    UPDATE, so a redelivered message (acks_late) does nothing once another run has it."""
    from sessions import services

    services.answer_question(item_id=item_id)
