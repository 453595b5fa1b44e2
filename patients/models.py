"""Patients: Stammdaten, Bewilligungen, diagnoses and the consent ledger.

Every identifying or health value is an encrypted field under the patient's data key
(duktus.crypto). Plaintext columns are technical (ids, foreign keys, timestamps), enumerations
needed for workflows (insurance type, phase) and the treatment dates the retention job needs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models

from duktus import crypto
from duktus.models import DataKey, Practice


class InsuranceType(models.TextChoices):
    GKV = "gkv", "GKV (gesetzlich)"
    PKV = "pkv", "PKV (privat)"
    BEIHILFE = "beihilfe", "Beihilfe"
    SELBST = "selbst", "Selbstzahler"


class Gender(models.TextChoices):
    FEMALE = "female", "weiblich"
    MALE = "male", "männlich"
    DIVERSE = "diverse", "divers"
    UNSPECIFIED = "unspecified", "ohne Angabe"


def name_sort_key(last_name: str, first_name: str) -> tuple[str, str]:
    """Sorting happens in Python after decryption: the DB sees only ciphertext (and the
    embedded server collates in C order anyway). Umlauts sort with their base letter."""
    return (crypto.normalize_name_token(last_name) or [""])[0], first_name.casefold()


class Patient(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    data_key = models.OneToOneField(DataKey, null=True, on_delete=models.SET_NULL, related_name="patient")
    pseudonym = models.CharField(max_length=9, editable=False)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patients")

    first_name = crypto.EncryptedTextField()
    last_name = crypto.EncryptedTextField()
    birth_date = crypto.EncryptedDateField()
    gender = crypto.EncryptedTextField()
    street = crypto.EncryptedTextField()
    postal_code = crypto.EncryptedTextField()
    city = crypto.EncryptedTextField()
    phone = crypto.EncryptedTextField()
    email = crypto.EncryptedTextField()
    insurer = crypto.EncryptedTextField()
    # The employer identifies a patient as well as an address does (issue 5: the gateway seeds it).
    employer = crypto.EncryptedTextField()
    insurance_number = crypto.EncryptedTextField()
    guardian_name = crypto.EncryptedTextField()
    guardian_contact = crypto.EncryptedTextField()
    guardian_custody = crypto.EncryptedTextField()

    insurance_type = models.CharField(max_length=10, choices=InsuranceType.choices)
    is_minor = models.BooleanField(default=False)
    treatment_start = models.DateField(null=True, blank=True)
    treatment_end = models.DateField(null=True, blank=True)
    # Keyed blind index (HMACs of name tokens and prefixes) for search without plaintext.
    name_index = ArrayField(models.CharField(max_length=32), default=list, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [GinIndex(fields=["name_index"], name="patient_name_index_gin")]

    def __str__(self) -> str:
        return f"Patient {self.pseudonym}"  # never the name: __str__ ends up in logs and admin

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("patients:detail", kwargs={"code": self.code})

    def encryption_fernet(self) -> Fernet:
        fernet = self.__dict__.get("_duktus_fernet")
        if fernet is None:
            fernet = crypto.data_key_fernet(self.data_key, self.practice)
            self.__dict__["_duktus_fernet"] = fernet
        return fernet

    @property
    def gender_label(self) -> str:
        return Gender(self.gender).label if self.gender in Gender.values else ""

    @property
    def address(self) -> str:
        city = " ".join(v for v in (self.postal_code, self.city) if v)
        return ", ".join(v for v in (self.street, city) if v)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def kbv_chiffre(self) -> str:
        """KBV Chiffre for PTV forms: first letter of the surname + birth date TTMMJJ."""
        initial = (self.last_name or "?")[:1].upper()
        return f"{initial}{self.birth_date:%d%m%y}" if self.birth_date else initial

    def age(self, on: dt.date | None = None) -> int | None:
        if not self.birth_date:
            return None
        on = on or dt.date.today()
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    def refresh_name_index(self) -> None:
        self.name_index = crypto.blind_index_terms(self.practice, self.first_name or "", self.last_name or "")

    def has_ai_consent(self) -> bool:
        """The one check every AI feature calls: the latest AI consent record is 'given'."""
        return ConsentRecord.current(self, ConsentPurpose.AI)

    def known_identifiers(self) -> dict[str, list[str]]:
        """Everything the app knows that identifies this patient (for the anonymizer's seed and the
        leak guard). Decrypted on demand; never log the result."""
        ids: dict[str, list[str]] = {
            "PERSON": [v for v in (self.first_name, self.last_name, self.full_name, self.guardian_name) if v],
            "STREET": [v for v in (self.street,) if v],
            "ZIP": [v for v in (self.postal_code,) if v],
            "LOCATION": [v for v in (self.city,) if v],
            "PHONE": [v for v in (self.phone,) if v],
            "EMAIL": [v for v in (self.email,) if v],
            "ID": [v for v in (self.insurance_number,) if v],
            "ORGANIZATION": [v for v in (self.employer,) if v],
            "DATE_BIRTH": [f"{self.birth_date:%d.%m.%Y}"] if self.birth_date else [],
        }
        return {k: v for k, v in ids.items() if v}


class Phase(models.TextChoices):
    SPRECHSTUNDE = "sprechstunde", "Psychotherapeutische Sprechstunde"
    PROBATORIK = "probatorik", "Probatorik"
    AKUT = "akut", "Akutbehandlung"
    KZT1 = "kzt1", "Kurzzeittherapie 1 (KZT 1)"
    KZT2 = "kzt2", "Kurzzeittherapie 2 (KZT 2)"
    LZT = "lzt", "Langzeittherapie (LZT)"
    LZT_FORTFUEHRUNG = "lzt_f", "LZT-Fortführung"


KZT_PHASES = (Phase.KZT1, Phase.KZT2)
CONTINGENT_WARNING_REMAINING = 3  # warn when this many approved sessions are left
CONVERSION_SESSION = 20  # PT-RL: apply for KZT→LZT conversion by the 20th KZT session


class Approval(models.Model):
    """Bewilligung: the insurer's approval for one treatment phase."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="approvals")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    approved_sessions = models.PositiveIntegerField()
    approved_on = models.DateField()
    # Counted by hand until the sessions app derives it from completed sessions.
    sessions_used = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["approved_on", "id"]

    @property
    def remaining(self) -> int:
        return max(self.approved_sessions - self.sessions_used, 0)

    def warnings(self, kzt_sessions_total: int | None = None) -> list[str]:
        out = []
        if self.sessions_used >= self.approved_sessions:
            out.append("Das bewilligte Kontingent ist ausgeschöpft.")
        elif self.remaining <= CONTINGENT_WARNING_REMAINING:
            out.append(f"Nur noch {self.remaining} bewilligte Sitzung(en) – Folgeantrag rechtzeitig stellen.")
        if self.phase in KZT_PHASES and kzt_sessions_total is not None and kzt_sessions_total >= CONVERSION_SESSION - 4:
            out.append(
                f"{kzt_sessions_total} KZT-Sitzungen: Umwandlung in Langzeittherapie bis zur "
                f"{CONVERSION_SESSION}. KZT-Sitzung beantragen (Gutachterverfahren)."
            )
        return out


class Certainty(models.TextChoices):
    G = "G", "G – gesichert"
    V = "V", "V – Verdacht auf"
    Z = "Z", "Z – Zustand nach"
    A = "A", "A – ausgeschlossen"


class Diagnosis(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="diagnoses")
    icd_code = crypto.EncryptedTextField()
    certainty = crypto.EncryptedTextField()
    note = crypto.EncryptedTextField()
    icd_version = models.PositiveIntegerField()
    is_primary = models.BooleanField(default=False)
    diagnosed_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "diagnosed_on", "id"]

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    @property
    def title(self) -> str:
        from patients import icd10gm

        found = icd10gm.lookup(self.icd_code or "")
        return found.title if found else ""


class ConsentPurpose(models.TextChoices):
    AI = "ai", "KI-gestützte Verarbeitung (anonymisiert)"
    AUDIO = "audio", "Tonaufnahme von Sitzungen"
    SHARING = "sharing", "Weitergabe an Dritte (z. B. Mitbehandelnde)"


class ConsentAction(models.TextChoices):
    GIVEN = "given", "erteilt"
    WITHDRAWN = "withdrawn", "widerrufen"


class ConsentGivenBy(models.TextChoices):
    PATIENT = "patient", "Patient/in"
    GUARDIAN = "guardian", "Sorgeberechtigte/r"


class ConsentRecord(models.Model):
    """Append-only consent ledger: a change is a new record, never an update."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    action = models.CharField(max_length=20, choices=ConsentAction.choices)
    effective_on = models.DateField()
    given_by = models.CharField(max_length=20, choices=ConsentGivenBy.choices)
    note = crypto.EncryptedTextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("Einwilligungen sind unveränderlich; bitte einen neuen Eintrag anlegen.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("Einwilligungen können nicht gelöscht werden.")

    @classmethod
    def current(cls, patient: Patient, purpose: str) -> bool:
        last = cls.objects.filter(patient=patient, purpose=purpose).order_by("-recorded_at", "-id").first()
        return bool(last and last.action == ConsentAction.GIVEN)


from patients.crisis import CrisisEvent, SafetyPlan  # noqa: E402,F401
