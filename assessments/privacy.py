"""What the assessments app holds about a patient (duktus/privacy/registry.py)."""

from __future__ import annotations

from typing import Any

from assessments.models import Administration, Notification, PatientLink, Schedule
from duktus.privacy.registry import register


def export_administrations(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for a in Administration.objects.filter(patient=patient).order_by("administered_on", "id"):
        a.patient = patient
        rows.append({
            "instrument": a.info.short_name, "administered_on": a.administered_on.isoformat(),
            "source": a.get_source_display(), "answers": a.answers, "total": a.total or None,
            "severity": a.severity_de or a.severity, "flags": a.flag_labels, "notes": a.notes,
            "change": (a.details or {}).get("change"), "ruleset": a.ruleset,
        })
    return rows


def export_links(patient: Any) -> list[dict[str, Any]]:
    return [{"instrument": link.get_instrument_display(), "created_at": link.created_at.isoformat(),
             "expires_at": link.expires_at.isoformat(), "status": link.status_de}
            for link in PatientLink.objects.filter(patient=patient)]


def export_schedules(patient: Any) -> list[dict[str, Any]]:
    return [{"instrument": s.get_instrument_display(), "interval_days": s.interval_days, "starts_on": s.starts_on.isoformat()}
            for s in Schedule.objects.filter(patient=patient)]


def _delete(model: Any) -> Any:
    def eraser(patient: Any) -> int:
        return model.objects.filter(patient=patient).delete()[0]
    return eraser


# Links point at administrations (SET_NULL), so erase links first.
register(PatientLink, key="questionnaire_links", title="Fragebogen-Links", exporter=export_links, eraser=_delete(PatientLink))
register(Administration, key="questionnaires", title="Fragebögen mit Auswertung", exporter=export_administrations,
         eraser=_delete(Administration),
         labels={"instrument": "Fragebogen", "administered_on": "Ausgefüllt am", "source": "Quelle", "answers": "Antworten",
                 "total": "Summenwert", "severity": "Schweregrad", "flags": "Hinweise", "notes": "Anmerkungen",
                 "change": "Veränderung", "ruleset": "Auswertungsregel"})
register(Schedule, key="questionnaire_schedules", title="Erhebungspläne", exporter=export_schedules, eraser=_delete(Schedule))
register(Notification, key="notifications", title="Benachrichtigungen", exporter=lambda p: [], eraser=_delete(Notification))
