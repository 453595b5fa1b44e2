"""Erasure walks every registered eraser: after erasing one patient, every patient model has
exactly the rows it had before that patient was created — rows, vectors, versions, AI calls,
export files, the blind index and the data key are gone; nobody else lost anything."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from duktus import crypto
from duktus.models import AuditEntry, LLMCall, LLMConversation
from duktus.privacy import erasure, export, registry
from patients import services as patient_services
from patients.models import Patient
from tests.base import BaseTestCase, make_patient
from tests.privacy.helpers import IsolatedFilesMixin

NOTE = "Albträume seit dem Unfall auf der A9"


def _fill(patient: Patient, user: object) -> None:
    """One of everything the apps store about a patient, through their own services."""
    from documents import definitions
    from documents import services as document_services
    from memory import services as memory_services
    from sessions import services as session_services

    patient_services.add_diagnosis(patient=patient, icd_code="F43.1", icd_version=2025, certainty="G", is_primary=True,
                                   diagnosed_on=dt.date(2013, 3, 1), note=NOTE)
    patient_services.record_consent(patient=patient, purpose="ai", action="given", effective_on=dt.date(2013, 3, 1),
                                    given_by="patient")
    session = session_services.create_session(patient=patient, date=dt.date(2013, 3, 8), duration_minutes=50,
                                              setting="einzel", approval=None, user=user)
    session.patient = patient
    session.note = NOTE
    session.process_notes = "Gegenübertragung: Müdigkeit"
    session.save()
    session_services.start_session(session=session)
    session_services.close_session(session=session)
    document_services.create_document(patient=patient, template_key=sorted(definitions.all_templates())[0], user=user)
    memory_services.add_entry(patient=patient, type="clinical_fact", text=NOTE, user=user)
    conversation = LLMConversation(patient=patient)
    conversation.mapping = {"PERSON_1": patient.last_name}
    conversation.save()
    call = LLMCall(conversation=conversation, role="dialog", model="m", status=LLMCall.Status.OK)
    call.request_sent, call.response_text, call.restored_text = {"messages": []}, "x", NOTE
    call.save()


def _counts() -> dict[str, int]:
    from duktus.models import DataKey

    skip = {"duktus.AuditEntry"} | set(registry.exempt_labels())
    models = [*registry.patient_models(), DataKey]  # the data key is reached from the patient, not to it
    return {m._meta.label: m.objects.count() for m in models if m._meta.label not in skip}


class CompleteErasureTestCase(IsolatedFilesMixin, BaseTestCase):
    def test_it_removes_everything_of_one_patient_and_nothing_else(self) -> None:
        kept = make_patient(self.practice, therapist=self.alice, last_name="Bleibt")
        _fill(kept, self.alice)
        before = _counts()
        gone = make_patient(self.practice, therapist=self.alice, last_name="Vergessen", treatment_start=dt.date(2012, 1, 1),
                            treatment_end=dt.date(2014, 6, 30))
        _fill(gone, self.alice)
        erasure.restrict(request=None, patient=gone, reason="Widerspruch")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("privacy:export_start", args=[gone.code]))
        self.assertEqual(len(list(export.export_dir().glob("*.zip"))), 1)
        filled = _counts()
        for label in ("patients.Patient", "duktus.DataKey", "patients.Diagnosis", "patients.ConsentRecord",
                      "therapy_sessions.TherapySession", "therapy_sessions.NoteVersion", "documents.Document",
                      "documents.DocumentVersion", "memory.MemoryEntry", "memory.MemoryVector",
                      "duktus.LLMConversation", "duktus.LLMCall", "duktus.ExportJob", "duktus.PatientRestriction"):
            self.assertGreater(filled[label], before.get(label, 0), f"{label}: test data missing")
        pseudonym = gone.pseudonym
        gone = Patient.objects.select_related("data_key", "practice").get(pk=gone.pk)

        cert = erasure.erase(request=None, patient=gone, actor=self.olga)

        self.assertEqual(_counts(), before)  # every patient model: exactly as before the patient came
        self.assertEqual(list(export.export_dir().iterdir()), [])  # ZIP and password stash
        terms = crypto.blind_index_query(self.practice, "Vergessen")
        self.assertFalse(Patient.objects.filter(name_index__contains=terms).exists())
        self.assertEqual(cert.deleted["therapy_sessions.TherapySession"], 1)
        self.assertEqual(cert.deleted["memory.MemoryVector"], 1)
        # the audit log keeps the pseudonymous trail, without content
        trail = AuditEntry.objects.filter(patient_pseudonym=pseudonym)
        self.assertTrue(trail.exists())
        for entry in AuditEntry.objects.all():
            self.assertNotIn("Vergessen", f"{entry.detail} {entry.object_id} {entry.action}")
            self.assertNotIn("Albträume", entry.detail)
        # the others still read normally after the key rotation
        kept = Patient.objects.select_related("data_key", "practice").get(pk=kept.pk)
        self.assertEqual(kept.last_name, "Bleibt")
        from sessions.models import TherapySession

        session = TherapySession.objects.get(patient=kept)
        session.patient = kept
        self.assertEqual(session.note, NOTE)
