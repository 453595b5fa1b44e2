"""Questionnaires: administrations (item answers and scores), patient links, schedules,
practice licences for item texts, and in-app notifications.

Clinical values (answers, totals, severity, flags, notes) are encrypted under the patient's
data key; licensed item texts under the practice key. Plaintext columns are technical: ids,
instrument codes, dates, link state.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models
from django.utils import timezone

from assessments.instruments import INSTRUMENTS, Number
from duktus import crypto
from duktus.models import Practice
from patients.models import Patient

INSTRUMENT_CHOICES = [(code, i.short_name) for code, i in INSTRUMENTS.items()]


class InstrumentLicence(models.Model):
    """A practice's recorded licence for an instrument whose text we do not ship, with its
    licensed German item texts (loaded from the practice's file). Switches on electronic forms
    and patient links for that instrument in that practice."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="instrument_licences")
    instrument = models.CharField(max_length=10, choices=INSTRUMENT_CHOICES)
    licence_note = models.CharField("Lizenzvermerk", max_length=500)  # business data, not patient data
    item_texts = crypto.EncryptedJSONField()  # list[str], one per item
    # LicensedForm.extra(): answer labels per item, instruction, copyright line of the licensed form
    form_extra = crypto.EncryptedJSONField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "instrument"], name="licence_unique")]

    def __str__(self) -> str:
        return f"Lizenz {self.instrument}"

    def encryption_fernet(self) -> MultiFernet:
        return crypto.practice_keyring(self.practice)

    def licensed_form(self) -> Any:
        """The stored texts as an instruments.LicensedForm; None if no item texts are loaded."""
        from assessments.instruments import LicensedForm

        if not self.item_texts:
            return None
        extra = self.form_extra or {}
        options = extra.get("options")
        return LicensedForm(
            items=tuple(self.item_texts),
            options=tuple(tuple(o) for o in options) if options else None,
            instruction=extra.get("instruction") or "",
            copyright=extra.get("copyright") or "",
        )


class Source(models.TextChoices):
    THERAPIST = "therapist", "in der Praxis eingegeben"
    LINK = "link", "von Patient/in ausgefüllt (Link)"


class Administration(models.Model):
    """One filled-in questionnaire with its item answers and the score computed from them."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="administrations")
    instrument = models.CharField(max_length=10, choices=INSTRUMENT_CHOICES)
    administered_on = models.DateField()
    source = models.CharField(max_length=10, choices=Source.choices)
    answers = crypto.EncryptedJSONField()  # list (Decimals as strings) or C-SSRS mapping
    context = crypto.EncryptedJSONField()  # scoring context, e.g. {"sex": "female"} for AUDIT-C
    total = crypto.EncryptedTextField()  # "12", "31.5"; empty for the C-SSRS
    severity = crypto.EncryptedTextField()  # band label ("moderate"); C-SSRS risk level
    flags = crypto.EncryptedJSONField()  # sorted list of flag ids
    # severity_de, notes, cutoff, subscales, and change/change_flags vs. the previous one
    details = crypto.EncryptedJSONField()
    ruleset = models.CharField(max_length=20)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["administered_on", "created_at", "id"]
        indexes = [models.Index(fields=["patient", "instrument", "administered_on"], name="administration_series_idx")]

    def __str__(self) -> str:
        return f"Administration {self.code}"  # never the score

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    @property
    def info(self) -> Any:
        return INSTRUMENTS[self.instrument]

    @property
    def total_value(self) -> Number | None:
        """The total as int or Decimal (one decimal for ORS/SRS); None for the C-SSRS."""
        if not self.total:
            return None
        return Decimal(self.total) if self.info.decimal_places else int(self.total)

    @property
    def total_display(self) -> str:
        return (self.total or "").replace(".", ",")

    @property
    def severity_de(self) -> str:
        return (self.details or {}).get("severity_de") or ""

    @property
    def notes(self) -> list[str]:
        return list((self.details or {}).get("notes") or [])

    @property
    def change_flags(self) -> list[str]:
        return list((self.details or {}).get("change_flags") or [])

    @property
    def change_display(self) -> str:
        change = (self.details or {}).get("change")
        if change is None:
            return ""
        sign = "+" if not str(change).startswith("-") and str(change) not in ("0", "0.0") else ""
        return f"{sign}{change}".replace(".", ",")

    @property
    def cutoff(self) -> str | None:
        return (self.details or {}).get("cutoff")

    @property
    def flag_labels(self) -> list[str]:
        from assessments.instruments import FLAG_LABELS_DE

        return [FLAG_LABELS_DE.get(f, f) for f in (self.flags or [])]

    @property
    def has_safety_flag(self) -> bool:
        from assessments.instruments import SAFETY_FLAGS

        return bool(set(self.flags or []) & SAFETY_FLAGS)

    def answer_rows(self) -> list[tuple[str, str]]:
        """(item label, answer) for display: item-level answers, not only the total."""
        info = self.info
        answers = self.answers
        if isinstance(answers, dict):  # C-SSRS
            keys = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")
            out = []
            for label, key in zip(info.items, keys):
                value = answers.get(key)
                out.append((label, "–" if value is None else ("Ja" if value else "Nein")))
            return out
        options = {o.value: o.label_de for o in info.options}
        rows = []
        for label, value in zip(info.items, answers or []):
            text = str(value).replace(".", ",")
            if options and value in options:
                text = f"{value} – {options[value]}"
            rows.append((label, text))
        return rows


class LinkQuerySet(models.QuerySet["PatientLink"]):
    def usable(self) -> LinkQuerySet:
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class PatientLink(models.Model):
    """A single-use, expiring questionnaire link. Only the SHA-256 of the token is stored; the
    token itself appears once, in the URL handed to the patient."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="questionnaire_links")
    instrument = models.CharField(max_length=10, choices=INSTRUMENT_CHOICES)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    administration = models.OneToOneField(Administration, null=True, blank=True, on_delete=models.SET_NULL, related_name="link")

    objects = LinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"PatientLink {self.code}"  # never the token (we do not have it anyway)

    @property
    def status(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "open"

    @property
    def status_de(self) -> str:
        return {"used": "ausgefüllt", "revoked": "widerrufen", "expired": "abgelaufen", "open": "offen"}[self.status]


class Schedule(models.Model):
    """Measurement-based care: this instrument every `interval_days` days for this patient."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="questionnaire_schedules")
    instrument = models.CharField(max_length=10, choices=INSTRUMENT_CHOICES)
    interval_days = models.PositiveIntegerField()
    starts_on = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["instrument", "id"]
        constraints = [models.UniqueConstraint(fields=["patient", "instrument"], name="schedule_unique")]

    def __str__(self) -> str:
        return f"Schedule {self.code}"

    def next_due(self, last: dt.date | None) -> dt.date:
        """Due `interval_days` after the last administration, or on the start date."""
        if last is None:
            return self.starts_on
        return max(last + dt.timedelta(days=self.interval_days), self.starts_on)


class Notification(models.Model):
    """An in-app message for one user. The text is never clinical ("Ein Fragebogen wurde
    ausgefüllt"); the patient is reached through the link, after access checks."""

    class Kind(models.TextChoices):
        QUESTIONNAIRE_FILLED = "questionnaire_filled", "Ein Fragebogen wurde ausgefüllt"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duktus_notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.get_kind_display()
