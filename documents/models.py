"""Clinical documents: a working draft per document, append-only versions, signing, letterhead.

Every text with patient content (section texts, sources, addenda) is an encrypted field under the
patient's data key. Plaintext on purpose: the template key and variant (which form it is), the
per-section provenance ("ai" / "ai_edited" / "manual" — no content) and the AI job status.
§ 630f BGB: versions are never changed or deleted one by one (only erasure of the whole patient
removes them); a signed document is locked and later corrections are addendum versions.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from duktus import crypto
from duktus.models import Practice


class Provenance(models.TextChoices):
    AI = "ai", "KI-Entwurf"
    AI_EDITED = "ai_edited", "KI-Entwurf, bearbeitet"
    MANUAL = "manual", "manuell"


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", "Entwurf"
    SIGNED = "signed", "abgeschlossen und signiert"


class Document(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="documents")
    template_key = models.CharField(max_length=60)
    variant = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    # The working copy: {section_key: text}. Autosave writes here; versions are snapshots.
    sections = crypto.EncryptedJSONField()
    # {section_key: [{"kind", "code", "label"}]}: what fed each section (labels can be clinical).
    sources = crypto.EncryptedJSONField()
    # {section_key: Provenance}. Once "ai", a section never becomes "manual" again.
    provenance = models.JSONField(default=dict)
    # {section_key: {"state": "pending|done|failed", "message": str}} for AI drafting.
    ai_status = models.JSONField(default=dict)
    # {section_key: ["17", "F33.1", …]}: numbers, dates and ICD codes of an AI draft that do not
    # occur in the material it was given — shown to the therapist as "bitte prüfen".
    unverified = crypto.EncryptedJSONField()
    # One gateway conversation per document keeps placeholders stable across its sections.
    llm_conversation_code = models.UUIDField(null=True, blank=True)
    authorship_declared_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"], name="document_patient_idx")]

    def __str__(self) -> str:
        return f"Document {self.code}"  # never content

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    @property
    def title(self) -> str:
        from documents import definitions

        template = definitions.get(self.template_key)
        return template.title if template else self.template_key

    @property
    def heading(self) -> str:
        """The document's own heading: the variant's (PTV 3 report vs. KZT short form) or the template's."""
        from documents import definitions

        template = definitions.get(self.template_key)
        variant = template.variant(self.variant) if template else None
        return variant.title if variant and variant.title else self.title

    @property
    def is_locked(self) -> bool:
        return self.status == DocumentStatus.SIGNED

    @property
    def ai_assisted(self) -> bool:
        """Any section started as an AI draft (decides the PDF marking)."""
        return any(p in (Provenance.AI, Provenance.AI_EDITED) for p in (self.provenance or {}).values())

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("documents:detail", kwargs={"code": self.code})


class VersionKind(models.TextChoices):
    SAVE = "save", "gespeichert"
    AUTOSAVE = "autosave", "automatisch gespeichert"
    AI_DRAFT = "ai_draft", "KI-Entwurf"
    SIGNED = "signed", "abgeschlossen und signiert"
    ADDENDUM = "addendum", "Nachtrag"


class AuthorKind(models.TextChoices):
    HUMAN = "human", "Mensch"
    AI = "ai", "KI"


class DocumentVersion(models.Model):
    """Append-only snapshot of a document's sections (or, for an addendum, its text)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=VersionKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sections = crypto.EncryptedJSONField()  # {section_key: text}
    addendum = crypto.EncryptedTextField()  # the correction text of an addendum version
    provenance = models.JSONField(default=dict)
    content_sha256 = models.CharField(max_length=64, blank=True)  # signed and addendum versions

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="documentversion_unique")]

    def __str__(self) -> str:
        return f"DocumentVersion {self.code}"

    def encryption_fernet(self) -> Fernet:
        return self.document.encryption_fernet()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("Versionen sind unveränderlich; Änderungen werden als neue Version gespeichert.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("Versionen können nicht gelöscht werden (§ 630f BGB).")

    @property
    def author_label(self) -> str:
        if self.author_kind == AuthorKind.AI:
            by = self.author.email if self.author else "unbekannt"
            return f"KI (angefordert von {by})"
        return self.author.email if self.author else "unbekannt"


class PracticeLetterhead(models.Model):
    """Briefkopf for PDFs. Business data of the practice (not patient data): plaintext. The logo
    is stored in the row (validated PNG/JPEG, small), so no media serving is involved."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="letterhead")
    name = models.CharField("Name im Briefkopf", max_length=200)
    address = models.TextField("Anschrift", max_length=500, blank=True)
    contact = models.CharField("Kontakt (Telefon, E-Mail)", max_length=300, blank=True)
    logo = models.BinaryField(null=True, blank=True)
    logo_mime = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"Briefkopf {self.practice_id}"
