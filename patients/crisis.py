"""Crisis pathway: one model, one lifecycle, one service for everything that detects risk.

A CrisisEvent is raised by a questionnaire (PHQ-9 item 9 > 0, C-SSRS moderate/high), by a
session note (the live session's crisis cue) or by hand. It stays *open* — and the banner on
the patient page and the start page stays — until a clinician documents what they did. Nothing
here contacts anyone: the pathway informs and documents, people act.

Imported at the bottom of patients/models.py so Django registers the models with this app.
"""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from duktus import audit, crypto

# The numbers shown on the banner, the thank-you page and the printed Krisenplan.
EMERGENCY_NUMBERS: tuple[tuple[str, str], ...] = (
    ("Notruf (Rettungsdienst)", "112"),
    ("Telefonseelsorge", "0800 111 0 111"),
    ("Telefonseelsorge", "0800 111 0 222"),
)

# What the clinician does when the banner appears (shown on the banner, in this order).
PROTOCOL_STEPS: tuple[str, ...] = (
    "Risiko zeitnah direkt ansprechen und eine eigene Risikoeinschätzung vornehmen "
    "(z. B. C-SSRS, Gespräch über Absicht, Plan, Mittel, Schutzfaktoren).",
    "Bei akuter Gefahr: nicht allein lassen, Notruf 112 oder Einweisung in die zuständige "
    "Klinik veranlassen.",
    "Krisenplan gemeinsam erstellen oder aktualisieren (Warnzeichen, Bewältigung, Kontakte, "
    "Mittel sichern).",
    "Vorgehen hier dokumentieren – erst dann verschwindet dieser Hinweis.",
)


class CrisisSource(models.TextChoices):
    QUESTIONNAIRE = "questionnaire", "Fragebogen"
    SESSION_NOTE = "session_note", "Sitzungsnotiz"
    MANUAL = "manual", "manuell gemeldet"


class CrisisStatus(models.TextChoices):
    OPEN = "open", "offen"
    DOCUMENTED = "documented", "dokumentiert"


class CrisisAction(models.TextChoices):
    RISK_ASSESSMENT = "risk_assessment", "Eigene Risikoeinschätzung durchgeführt"
    SAFETY_PLAN = "safety_plan", "Krisenplan erstellt bzw. aktualisiert"
    REFERRAL = "referral", "Weiterleitung / Einweisung veranlasst"
    NO_ACTION = "no_action", "Kein Handlungsbedarf (Begründung erforderlich)"


class CrisisEvent(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="crisis_events")
    source = models.CharField(max_length=20, choices=CrisisSource.choices)
    # Public id (UUID) of the raising object: an Administration, a session note, …
    source_id = models.CharField(max_length=64)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=CrisisStatus.choices, default=CrisisStatus.OPEN)
    summary = crypto.EncryptedTextField()  # why it was raised, e.g. "PHQ-9 Item 9: 2"
    actions = crypto.EncryptedJSONField()  # list of CrisisAction values
    documentation = crypto.EncryptedTextField()  # what the clinician did / the reason
    documented_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    documented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "source", "source_id"], name="crisisevent_source_unique"),
        ]
        indexes = [models.Index(fields=["status", "patient"], name="crisisevent_open_idx")]

    def __str__(self) -> str:
        return f"CrisisEvent {self.code}"  # never the summary

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()

    @property
    def is_open(self) -> bool:
        return self.status == CrisisStatus.OPEN

    @property
    def action_labels(self) -> list[str]:
        return [CrisisAction(a).label for a in (self.actions or []) if a in CrisisAction.values]


class SafetyPlan(models.Model):
    """Krisenplan (after Stanley & Brown): one per patient, every field encrypted."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.OneToOneField("patients.Patient", on_delete=models.CASCADE, related_name="safety_plan")
    warning_signs = crypto.EncryptedTextField()
    coping_strategies = crypto.EncryptedTextField()
    people_places = crypto.EncryptedTextField()
    professional_contacts = crypto.EncryptedTextField()
    means_restriction = crypto.EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    FIELDS = ("warning_signs", "coping_strategies", "people_places", "professional_contacts", "means_restriction")

    def __str__(self) -> str:
        return f"SafetyPlan {self.code}"

    def encryption_fernet(self) -> Fernet:
        return self.patient.encryption_fernet()


# --- services -------------------------------------------------------------------------------------


def raise_crisis(*, patient: Any, source: str, source_id: Any, summary: str, request: Any = None, actor: Any = None) -> CrisisEvent:
    """Open a crisis event for the patient, once per (source, source_id).

    Idempotent: a second call for the same source object returns the existing event (open or
    documented) unchanged and writes no second audit entry. Never contacts anyone.
    `summary` is clinical content: it is stored encrypted and never logged.
    """
    if source not in CrisisSource.values:
        raise ValueError("unknown crisis source")
    source_id = str(source_id)
    existing = CrisisEvent.objects.filter(patient=patient, source=source, source_id=source_id).first()
    if existing is not None:
        existing.patient = patient
        return existing
    user = actor or (getattr(request, "user", None) if request is not None else None)
    if user is not None and not user.is_authenticated:
        user = None
    event = CrisisEvent(patient=patient, source=source, source_id=source_id, raised_by=user)
    event.summary = summary
    try:
        with transaction.atomic():
            event.save()
            audit.record(request, "crisis.raise", patient=patient, obj=event, actor=user, detail=source)
    except IntegrityError:
        # A concurrent call created it first: return that one.
        event = CrisisEvent.objects.get(patient=patient, source=source, source_id=source_id)
        event.patient = patient
    return event


def document_crisis(*, event: CrisisEvent, actions: list[str], note: str, request: Any = None) -> CrisisEvent:
    """Close an open event with what the clinician did. 'no_action' needs a reason (note)."""
    if not event.is_open:
        raise ValueError("Dieser Hinweis wurde bereits dokumentiert.")
    actions = [a for a in actions if a in CrisisAction.values]
    if not actions:
        raise ValueError("Bitte mindestens eine Maßnahme auswählen.")
    if CrisisAction.NO_ACTION in actions and not note.strip():
        raise ValueError("Für „Kein Handlungsbedarf“ ist eine Begründung erforderlich.")
    with transaction.atomic():
        updated = CrisisEvent.objects.filter(pk=event.pk, status=CrisisStatus.OPEN).update(status=CrisisStatus.DOCUMENTED)
        if updated != 1:
            raise ValueError("Dieser Hinweis wurde bereits dokumentiert.")
        event.status = CrisisStatus.DOCUMENTED
        event.actions = actions
        event.documentation = note.strip()
        event.documented_by = request.user if request is not None else None
        event.documented_at = timezone.now()
        event.save(update_fields=["status", "actions_ct", "documentation_ct", "documented_by", "documented_at"])
        audit.record(request, "crisis.document", patient=event.patient, obj=event, detail=",".join(actions))
    return event


def save_safety_plan(*, patient: Any, data: dict[str, str], request: Any = None) -> SafetyPlan:
    with transaction.atomic():
        plan = SafetyPlan.objects.select_for_update().filter(patient=patient).first() or SafetyPlan(patient=patient)
        plan.patient = patient
        for field in SafetyPlan.FIELDS:
            setattr(plan, field, (data.get(field) or "").strip())
        plan.updated_by = request.user if request is not None else None
        created = plan.pk is None
        plan.save()
        audit.record(request, "safety_plan.create" if created else "safety_plan.update", patient=patient, obj=plan)
    return plan


def open_events(patient: Any) -> list[CrisisEvent]:
    events = list(CrisisEvent.objects.filter(patient=patient, status=CrisisStatus.OPEN).order_by("raised_at", "id"))
    for e in events:
        e.patient = patient
    return events


# --- patients' rights (duktus/privacy registry) ---------------------------------------------------


def _export_events(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for e in CrisisEvent.objects.filter(patient=patient).order_by("raised_at", "id"):
        e.patient = patient
        rows.append({
            "source": e.get_source_display(), "raised_at": e.raised_at.isoformat(), "status": e.get_status_display(),
            "summary": e.summary, "actions": e.action_labels, "documentation": e.documentation,
            "documented_at": e.documented_at.isoformat() if e.documented_at else None,
        })
    return rows


def _export_plan(patient: Any) -> list[dict[str, Any]]:
    plan = SafetyPlan.objects.filter(patient=patient).first()
    if plan is None:
        return []
    plan.patient = patient
    return [{f: getattr(plan, f) for f in SafetyPlan.FIELDS} | {"updated_at": plan.updated_at.isoformat()}]


def _register_privacy() -> None:
    from duktus.privacy.registry import register

    register(CrisisEvent, key="crisis_events", title="Krisenhinweise", exporter=_export_events,
             eraser=lambda p: CrisisEvent.objects.filter(patient=p).delete()[0])
    register(SafetyPlan, key="safety_plan", title="Krisenplan", exporter=_export_plan,
             eraser=lambda p: SafetyPlan.objects.filter(patient=p).delete()[0])


_register_privacy()
