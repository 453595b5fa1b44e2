"""Cross-cutting models: tenancy (Practice, Membership), wrapped keys and the audit chain.

Logic lives next door: duktus/crypto.py (keys), duktus/tenancy.py (access), duktus/audit.py.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


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
