"""What the duktus app itself holds about a patient (its models live in duktus/models.py): the
LLM gateway log and the privacy rows that name a patient by id. Imported by
registry.autodiscover() for the duktus app."""

from __future__ import annotations

from typing import Any

from duktus.models import ErasureCertificate, ExportJob, LLMCall, LLMConversation, PatientRestriction
from duktus.privacy.registry import exempt, register


def _sent_text(call: LLMCall) -> str:
    """The user/system turns exactly as they left the practice (anonymized)."""
    messages = (call.request_sent or {}).get("messages", []) if isinstance(call.request_sent, dict) else []
    return "\n\n".join(f"[{m.get('role')}] {m.get('content', '')}" for m in messages)


def export_llm_calls(patient: Any) -> list[dict[str, Any]]:
    """AI calls as the therapist saw them: the restored answer (names put back) next to what was
    actually sent to the model provider (anonymized: Art. 15(1)(c) recipients)."""
    rows = []
    for c in LLMCall.objects.filter(conversation__patient=patient).select_related("conversation").order_by("created", "id"):
        assert c.conversation is not None  # filtered on conversation__patient
        c.conversation.patient = patient  # share the unwrapped data key
        rows.append({"at": c.created.isoformat(), "role": c.role, "model": c.model, "status": c.get_status_display(),
                     "sent_anonymized": _sent_text(c), "answer": c.restored_text or ""})
    return rows


def erase_llm_calls(patient: Any) -> int:
    return LLMCall.objects.filter(conversation__patient=patient).delete()[0]


def erase_llm_conversations(patient: Any) -> int:
    # Runs after erase_llm_calls (registration order); the cascade would catch stragglers.
    return LLMConversation.objects.filter(patient=patient).delete()[0]


def export_llm_conversations(patient: Any) -> list[dict[str, Any]]:
    return [{"at": c.created.isoformat(), "calls": c.calls.count()}
            for c in LLMConversation.objects.filter(patient=patient).order_by("created", "id")]


def export_jobs(patient: Any) -> list[dict[str, Any]]:
    """Earlier Art. 15 requests (dates and what was withheld; the reason is in each export)."""
    return [{"requested_at": j.created_at.isoformat(), "status": j.get_status_display(),
             "withheld": ", ".join(j.withheld) or "–"}
            for j in ExportJob.objects.filter(patient_ref=patient.pk).order_by("created_at")]


def erase_export_jobs(patient: Any) -> int:
    """Delete the ZIPs and password stashes still on disk, then the job rows (their § 630g
    reason is encrypted under the patient key, which is destroyed next)."""
    from duktus.privacy.export import export_dir

    jobs = list(ExportJob.objects.filter(patient_ref=patient.pk))
    for job in jobs:
        for name in (job.file_name, f"{job.code}.pw"):
            if name:
                (export_dir() / name).unlink(missing_ok=True)
    return ExportJob.objects.filter(pk__in=[j.pk for j in jobs]).delete()[0]


def export_restriction(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for r in PatientRestriction.objects.filter(patient_ref=patient.pk):
        r.__dict__["_duktus_patient"] = patient
        rows.append({"since": r.created_at.isoformat(), "reason": r.reason,
                     "erase_on": r.erase_on.isoformat() if r.erase_on else None})
    return rows


register(LLMCall, key="ai_calls", title="KI-Gespräche (wie angezeigt) und was an den KI-Anbieter ging",
         exporter=export_llm_calls, eraser=erase_llm_calls,
         labels={"at": "Zeitpunkt", "role": "Funktion", "model": "Modell", "status": "Status",
                 "sent_anonymized": "Gesendet (anonymisiert)", "answer": "Antwort (wie angezeigt)"})
register(LLMConversation, key="ai_conversations", title="KI-Konversationen",
         exporter=export_llm_conversations, eraser=erase_llm_conversations,
         labels={"at": "Begonnen", "calls": "Aufrufe"})
register(ExportJob, key="data_requests", title="Frühere Datenauskünfte", exporter=export_jobs, eraser=erase_export_jobs,
         labels={"requested_at": "Angefordert", "status": "Status", "withheld": "Zurückgehalten"})
register(PatientRestriction, key="restriction", title="Einschränkung der Verarbeitung (Art. 18 DSGVO)",
         exporter=export_restriction,
         eraser=lambda p: PatientRestriction.objects.filter(patient_ref=p.pk).delete()[0],
         labels={"since": "Seit", "reason": "Begründung", "erase_on": "Löschung geplant am"})
exempt(ErasureCertificate, "Löschbestätigung: überdauert die Löschung (Art. 5 Abs. 2 DSGVO), nur Pseudonym, keine klinischen Daten")
