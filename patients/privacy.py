"""What the patients app holds about a patient (duktus/privacy/registry.py)."""

from __future__ import annotations

from typing import Any

from duktus.models import AuditEntry, DataKey
from duktus.privacy.registry import register
from patients.models import Approval, ConsentRecord, Diagnosis, Patient


def _d(value: Any) -> str | None:
    return value.isoformat() if value else None


def export_patient(patient: Patient) -> list[dict[str, Any]]:
    return [{
        "first_name": patient.first_name, "last_name": patient.last_name, "birth_date": _d(patient.birth_date),
        "gender": patient.gender_label, "street": patient.street, "postal_code": patient.postal_code,
        "city": patient.city, "phone": patient.phone, "email": patient.email, "employer": patient.employer,
        "insurance_type": patient.get_insurance_type_display(), "insurer": patient.insurer,
        "insurance_number": patient.insurance_number, "is_minor": patient.is_minor,
        "treatment_start": _d(patient.treatment_start), "treatment_end": _d(patient.treatment_end),
    }]


def export_guardians(patient: Patient) -> list[dict[str, Any]]:
    """Data about a third party (the guardian): listed separately, may be withheld (§ 630g)."""
    if not (patient.guardian_name or patient.guardian_contact):
        return []
    return [{"guardian_name": patient.guardian_name, "guardian_contact": patient.guardian_contact,
             "guardian_custody": patient.guardian_custody}]


def erase_patient(patient: Patient) -> int:
    # The blind index lives in the row itself; clear it before the row goes, then crypto-shred.
    Patient.objects.filter(pk=patient.pk).update(name_index=[])
    # Every child was removed by its own registered eraser before this runs (erasure order), so
    # a raw DELETE suffices; a forgotten child makes the FK constraint fail and rolls back.
    qs = Patient.objects.filter(pk=patient.pk)
    return qs._raw_delete(qs.db)


def export_diagnoses(patient: Patient) -> list[dict[str, Any]]:
    return [{"icd_code": d.icd_code, "title": d.title, "certainty": d.certainty, "is_primary": d.is_primary,
             "diagnosed_on": _d(d.diagnosed_on), "ended_on": _d(d.ended_on), "note": d.note}
            for d in Diagnosis.objects.filter(patient=patient).select_related("patient")]


def export_approvals(patient: Patient) -> list[dict[str, Any]]:
    return [{"phase": a.get_phase_display(), "approved_sessions": a.approved_sessions,
             "approved_on": _d(a.approved_on), "sessions_used": a.sessions_used}
            for a in Approval.objects.filter(patient=patient)]


def export_consents(patient: Patient) -> list[dict[str, Any]]:
    return [{"purpose": c.get_purpose_display(), "action": c.get_action_display(), "effective_on": _d(c.effective_on),
             "given_by": c.get_given_by_display(), "note": c.note}
            for c in ConsentRecord.objects.filter(patient=patient)]


def export_access_log(patient: Patient) -> list[dict[str, Any]]:
    return [{"at": e.at.isoformat(), "actor": e.actor_label, "action": e.action, "object_type": e.object_type}
            for e in AuditEntry.objects.filter(practice_id=patient.practice_id, patient_pseudonym=patient.pseudonym)]


def _delete_children(model: Any) -> Any:
    def eraser(patient: Patient) -> int:
        # ConsentRecord.delete() refuses single deletes (append-only ledger); erasure is the one
        # legal exception, so delete through the queryset (which does not call Model.delete()).
        return model.objects.filter(patient=patient).delete()[0]
    return eraser


def erase_data_key(patient: Patient) -> int:
    if patient.data_key_id is None:
        return 0
    return DataKey.objects.filter(pk=patient.data_key_id).delete()[0]


def pseudonymize_audit(patient: Patient) -> int:
    # The audit chain stays intact (hashes cover the pseudonym); the pseudonym is an HMAC under the
    # practice secret and no longer resolves to anybody once the patient row is gone.
    return 0


MASTER_LABELS = {
    "first_name": "Vorname", "last_name": "Nachname", "birth_date": "Geburtsdatum", "gender": "Geschlecht",
    "street": "Straße", "postal_code": "PLZ", "city": "Ort", "phone": "Telefon", "email": "E-Mail", "employer": "Arbeitgeber",
    "insurance_type": "Versicherungsart", "insurer": "Krankenkasse", "insurance_number": "Versichertennummer",
    "is_minor": "Minderjährig", "treatment_start": "Behandlungsbeginn", "treatment_end": "Behandlungsende",
}

register(Diagnosis, key="diagnoses", title="Diagnosen", exporter=export_diagnoses, eraser=_delete_children(Diagnosis),
         labels={"icd_code": "ICD-10-GM", "title": "Bezeichnung", "certainty": "Sicherheit", "is_primary": "Hauptdiagnose",
                 "diagnosed_on": "Gestellt am", "ended_on": "Beendet am", "note": "Anmerkung"})
register(Approval, key="approvals", title="Bewilligungen", exporter=export_approvals, eraser=_delete_children(Approval),
         labels={"phase": "Phase", "approved_sessions": "Bewilligte Sitzungen", "approved_on": "Bewilligt am",
                 "sessions_used": "Genutzte Sitzungen"})
register(ConsentRecord, key="consents", title="Einwilligungen", exporter=export_consents, eraser=_delete_children(ConsentRecord),
         labels={"purpose": "Zweck", "action": "Erklärung", "effective_on": "Wirksam ab", "given_by": "Erklärt von",
                 "note": "Anmerkung"})
register(AuditEntry, key="access_log", title="Zugriffsprotokoll", exporter=export_access_log, eraser=pseudonymize_audit,
         labels={"at": "Zeitpunkt", "actor": "Person", "action": "Aktion", "object_type": "Objekt"})
register(Patient, key="guardians", title="Angaben über Dritte: Sorgeberechtigte", category="third_party",
         exporter=export_guardians, eraser=lambda p: 0,  # the fields go with the patient row
         labels={"guardian_name": "Name", "guardian_contact": "Kontakt", "guardian_custody": "Sorgerecht"})
register(Patient, key="master_data", title="Stammdaten", exporter=export_patient, eraser=erase_patient, labels=MASTER_LABELS)
register(DataKey, key="data_key", title="Datenschlüssel der Patientin / des Patienten", exporter=lambda p: [], eraser=erase_data_key)

# Crisis documentation (patients/crisis.py, models re-exported by patients.models).
from duktus.privacy.registry import register_rows
from patients.crisis import CrisisEvent, SafetyPlan

register_rows(CrisisEvent, key="crisis_events", title="Krisenereignisse")
register_rows(SafetyPlan, key="safety_plan", title="Krisenplan")
