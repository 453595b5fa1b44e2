"""Cross-cutting models: tenancy (Practice, Membership), wrapped keys and the audit chain.

Logic lives next door: duktus/crypto.py (keys), duktus/tenancy.py (access), duktus/audit.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from duktus.crypto import EncryptedJSONField, EncryptedTextField


class Role(models.TextChoices):
    OWNER = "owner", "Praxisinhaber/in"
    THERAPIST = "therapist", "Therapeut/in"
    ASSISTANT = "assistant", "Praxisassistenz"


CLINICAL_ROLES = (Role.OWNER, Role.THERAPIST)


class Practice(models.Model):
    """The tenant. Business data (name, address of the practice) is not patient data: plaintext."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField("Name", max_length=200)
    street = models.CharField("Straße", max_length=200, blank=True)
    postal_code = models.CharField("PLZ", max_length=10, blank=True)
    city = models.CharField("Ort", max_length=100, blank=True)
    phone = models.CharField("Telefon", max_length=50, blank=True)
    # Per-practice secrets (pseudonym HMAC key, blind-index key) as JSON, encrypted under the
    # practice key. Separate from the practice key itself so that rotating that key keeps
    # pseudonyms and the blind index stable.
    secrets_ct = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Praxis"
        verbose_name_plural = "Praxen"

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    display_name = models.CharField("Anzeigename", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "practice"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.display_name or self.user} ({self.get_role_display()})"

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class PracticeKey(models.Model):
    """A practice's data key, wrapped under a master key version. Several versions may exist
    during a rotation; the newest non-retired one is primary (MultiFernet order)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="keys")
    version = models.PositiveIntegerField()
    master_version = models.PositiveIntegerField()
    wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "version"], name="practicekey_unique")]
        ordering = ["-version"]


class DataKey(models.Model):
    """One patient's data key, wrapped under a practice key version. Deleting this row
    crypto-shreds every encrypted field of the patient."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="data_keys")
    practice_key_version = models.PositiveIntegerField()
    wrapped = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


class AuditEntry(models.Model):
    """Append-only, hash-chained access log. No clinical content: only who, what kind of object,
    which pseudonymous patient, when and from where."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254)
    practice = models.ForeignKey(Practice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    patient_pseudonym = models.CharField(max_length=16, blank=True, db_index=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)  # never clinical content
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["practice", "patient_pseudonym", "-id"], name="audit_patient_idx")]


# --- Patients' rights (duktus/privacy, issue 8) --------------------------------------------------
# Keyed by patient *id* (not a FK): these rows must outlive the patient (certificate, restriction
# history) and must not be reached by the patient-data completeness check.


class ExportJob(models.Model):
    """One Art. 15/20 export. The ZIP lives in VAR_DIR/exports (never in the DB), at most 24 h."""

    class Status(models.TextChoices):
        READY = "ready", "wartet"
        RUNNING = "running", "wird erstellt"
        DONE = "done", "fertig"
        FAILED = "failed", "fehlgeschlagen"
        DOWNLOADED = "downloaded", "heruntergeladen"
        EXPIRED = "expired", "abgelaufen"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient_ref = models.BigIntegerField(db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.READY)
    progress = models.PositiveSmallIntegerField(default=0)
    withheld = models.JSONField(default=list, blank=True)  # part keys withheld by the therapist
    # § 630g reason (therapeutic reasons may be clinical): encrypted under the patient's data key,
    # so it becomes unreadable together with the patient at erasure.
    withheld_reason = EncryptedTextField()
    password_hash = models.CharField(max_length=200, blank=True)
    file_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def encryption_fernet(self) -> Any:
        return _patient_fernet(self, self.patient_ref)


class PatientRestriction(models.Model):
    """Art. 18 restriction of processing instead of erasure during the § 630f retention period."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient_ref = models.BigIntegerField(unique=True)
    reason = EncryptedTextField()  # the patient's objection may carry content: patient key
    erase_on = models.DateField(null=True, blank=True)  # scheduled deletion at the end of retention
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def encryption_fernet(self) -> Any:
        return _patient_fernet(self, self.patient_ref)


def _patient_fernet(obj: Any, patient_ref: int) -> Any:
    """Data key of the patient a privacy row refers to by id (no FK: the row outlives it)."""
    from patients.models import Patient

    patient = obj.__dict__.get("_duktus_patient")
    if patient is None or patient.pk != patient_ref:
        patient = Patient.objects.select_related("data_key", "practice").get(pk=patient_ref)
        obj.__dict__["_duktus_patient"] = patient
    return patient.encryption_fernet()


class PracticePrivacySettings(models.Model):
    """Per-practice retention and backup settings (owner page). Record retention never below the
    legal minimum (§ 630f Abs. 3 BGB: 10 years); see duktus/privacy/settings.py for the bounds."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="privacy_settings")
    record_retention_years = models.PositiveSmallIntegerField("Aufbewahrung der Akten (Jahre nach Behandlungsende)", default=10)
    audit_retention_years = models.PositiveSmallIntegerField("Aufbewahrung des Zugriffsprotokolls (Jahre)", default=10)
    backup_window_days = models.PositiveSmallIntegerField("Backup-Fenster (Tage)", default=30)
    backup_note = models.CharField("Backup-Konzept (Dokumentation)", max_length=500, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)


class ErasureCertificate(models.Model):
    """What was deleted, when, by whom, what remains and why. No clinical data."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient_pseudonym = models.CharField(max_length=16)
    erased_at = models.DateTimeField()
    erased_by_label = models.CharField(max_length=254)
    forced = models.BooleanField(default=False)
    legal_reason = models.CharField(max_length=500, blank=True)
    deleted = models.JSONField(default=dict)  # {"patients.Patient": 1, ...}
    remains = models.JSONField(default=list)  # ["text", ...]
    new_master_version = models.PositiveIntegerField(null=True, blank=True)
    old_master_versions_destroy_after = models.DateTimeField(null=True, blank=True)


class PendingKeyDestruction(models.Model):
    """Master key versions to destroy once the backup window has passed (beat job)."""

    versions = models.JSONField(default=list)
    due_at = models.DateTimeField(db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class RetentionReport(models.Model):
    """One retention run: counts only, no names."""

    ran_at = models.DateTimeField()
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict)


# --- LLM gateway (duktus/llm, issue 5) -------------------------------------------------------------
# The patient FK is a string reference: duktus never imports a feature app.


class PracticeAISettings(models.Model):
    """AI switched on per practice by its owner, with the provider and the date of the AVV
    (Art. 28 DSGVO). Without an enabled row every AI call is refused."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="ai_settings")
    enabled = models.BooleanField(default=False)
    provider = models.CharField("Anbieter", max_length=200, blank=True)
    avv_signed_on = models.DateField("AVV unterzeichnet am", null=True, blank=True)
    enabled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    enabled_at = models.DateTimeField(null=True, blank=True)


class LLMConversation(models.Model):
    """One conversation's anonymizer mapping (encrypted under the patient key), so placeholders
    stay stable across the calls of a session."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="llm_conversations")
    mapping = EncryptedJSONField()
    created = models.DateTimeField(auto_now_add=True)

    def encryption_fernet(self) -> Any:
        return self.patient.encryption_fernet()


class LLMCall(models.Model):
    """One gateway call: exactly what was sent (encrypted), the answer, timing and outcome.
    `error_kind` is a class name only, never content."""

    class Status(models.TextChoices):
        OK = "ok", "ok"
        REFUSED = "refused", "abgelehnt"
        BLOCKED = "blocked", "blockiert"
        FAILED = "failed", "fehlgeschlagen"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey(LLMConversation, null=True, blank=True, on_delete=models.CASCADE, related_name="calls")
    role = models.CharField(max_length=20)
    model = models.CharField(max_length=200, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    request_sent = EncryptedJSONField()
    response_text = EncryptedTextField()
    restored_text = EncryptedTextField()
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    error_kind = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    def encryption_fernet(self) -> Any:
        # Calls refused before a conversation existed carry no encrypted content.
        if self.conversation is None:
            raise ValueError("LLMCall without a conversation has no data key")
        return self.conversation.patient.encryption_fernet()
