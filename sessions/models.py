"""Therapy sessions, their note versions (§ 630f BGB) and the AI panel's questions.

Every free text is an encrypted field under the patient's data key (duktus.crypto). Plaintext on
purpose: ids, dates, duration, setting, status, the contingent number and decision states.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import models
from django.utils import timezone

from duktus import crypto

# Marks AI text wherever it lands in a note (EU AI Act Art. 50): a header line and an end line.
AI_BEGIN = "⟦KI-generiert"
AI_END = "⟦Ende KI-Text⟧"


class Setting(models.TextChoices):
    EINZEL = "einzel", "Einzel"
    GRUPPE = "gruppe", "Gruppe"
    PROBATORIK = "probatorik", "Probatorik"
    AKUT = "akut", "Akutbehandlung"
    SPRECHSTUNDE = "sprechstunde", "Sprechstunde"


class Status(models.TextChoices):
    PLANNED = "planned", "geplant"
    RUNNING = "running", "läuft"
    DONE = "done", "abgeschlossen"


class TherapySession(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="therapy_sessions")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    date = models.DateField()
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    setting = models.CharField(max_length=20, choices=Setting.choices, default=Setting.EINZEL)
    # Bewilligung the session counts against and its number within the contingent (7 of 24).
    approval = models.ForeignKey("patients.Approval", null=True, blank=True, on_delete=models.SET_NULL, related_name="therapy_sessions")
    number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)

    # The working note while the session runs; after closing, the latest version's text.
    note = crypto.EncryptedTextField()
    # Bumped by every save of the note: autosave sends the revision it edited (lost-update guard).
    note_revision = models.PositiveIntegerField(default=0)
    note_saved_at = models.DateTimeField(null=True, blank=True)
    # Private process notes (§ 630g Abs. 1 BGB): kept apart, never sent to the AI.
    process_notes = crypto.EncryptedTextField()

    # Stable placeholders across all AI questions of this session.
    conversation = models.ForeignKey("duktus.LLMConversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["patient", "date"], name="therapysession_patient_date")]

    def __str__(self) -> str:
        return f"TherapySession {self.code}"  # never content

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    @property
    def contingent_label(self) -> str:
        """"7/24" when the session counts against a Bewilligung, else ""."""
        if self.number and self.approval is not None:
            return f"{self.number}/{self.approval.approved_sessions}"
        return ""

    @property
    def is_running(self) -> bool:
        return self.status == Status.RUNNING

    @property
    def is_done(self) -> bool:
        return self.status == Status.DONE


class NoteVersion(models.Model):
    """§ 630f BGB: closing freezes the note as version 1 (original); every later change is a new
    version (a visible correction with date, author and reason). Rows are never updated."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", "Original"
        CORRECTION = "correction", "Korrektur"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = crypto.EncryptedTextField()
    reason = crypto.EncryptedTextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="noteversion_session_number")]

    def __str__(self) -> str:
        return f"NoteVersion {self.code}"

    def encryption_fernet(self) -> Fernet:
        return self.session.patient.encryption_fernet()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Notizversionen sind unveränderlich.")
        super().save(*args, **kwargs)


class AIRequest(models.Model):
    """One question in the AI panel, its (partial, then final) answer, the cited sources and the
    therapist's decision. The Celery task claims it with a conditional UPDATE (queued → running)."""

    class State(models.TextChoices):
        QUEUED = "queued", "wartet"
        RUNNING = "running", "läuft"
        DONE = "done", "fertig"
        FAILED = "failed", "fehlgeschlagen"

    class Decision(models.TextChoices):
        PENDING = "pending", "offen"
        ACCEPTED = "accepted", "übernommen"
        EDITED = "edited", "bearbeitet übernommen"
        REJECTED = "rejected", "verworfen"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="ai_requests")
    question = crypto.EncryptedTextField()
    answer = crypto.EncryptedTextField()  # restored (names back); partial while running
    sources = crypto.EncryptedJSONField()  # evidence entries given to the model, with "cited"
    memory_refs = models.JSONField(default=list, blank=True)  # codes of the memory entries in the context
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # German user message of the gateway error (never contains decrypted values) and its class.
    error_message = models.CharField(max_length=300, blank=True)
    error_kind = models.CharField(max_length=64, blank=True)
    warning_labels = models.JSONField(default=list, blank=True)  # entity labels only
    override_warnings = models.BooleanField(default=False)
    # Set by the therapist's "Abbrechen"; the running task stops at the next streamed piece.
    cancel_requested = models.BooleanField(default=False)
    llm_call = models.ForeignKey("duktus.LLMCall", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_text = crypto.EncryptedTextField()  # what went into the note (edited or as is)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"AIRequest {self.code}"

    def encryption_fernet(self) -> Fernet:
        return self.session.patient.encryption_fernet()

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def can_override(self) -> bool:
        return self.state == self.State.FAILED and self.error_kind == "GatewayWarning"
