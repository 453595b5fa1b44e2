from __future__ import annotations

import datetime as dt

from duktus.privacy import erasure, export, registry
from memory import services
from memory.models import EntryStatus, ExtractionRun, MemoryEntry, MemoryVector, PatientSummary
from patients.models import Patient
from tests.base import BaseTestCase, make_patient
from tests.memory.helpers import FakeSource, make_entry
from tests.privacy.helpers import IsolatedFilesMixin


class MemoryPrivacyTestCase(IsolatedFilesMixin, BaseTestCase):
    def fill(self, patient: Patient) -> None:
        make_entry(patient, text="Schläft schlecht.", status=EntryStatus.CONFIRMED)
        make_entry(patient, text="Verworfener Vorschlag.", status=EntryStatus.REJECTED)
        services.create_goal(patient=patient, text="Wieder arbeiten", attainment_scale="percent", attainment=20)
        services.rebuild_summary(patient=patient)
        source = FakeSource("document")
        self.addCleanup(source.close)
        services.extract_from_source(source_kind="document", source_id=source.add(patient, "Text", self.alice))

    def test_it_is_registered(self) -> None:
        labels = registry.registered_labels()
        for label in ("memory.MemoryEntry", "memory.MemoryVector", "memory.PatientSummary", "memory.ExtractionRun"):
            self.assertIn(label, labels)

    def test_export_contains_entries_goals_and_summaries(self) -> None:
        self.fill(self.patient)
        data, _files = export.collect(self.patient, [])
        entries = data["parts"]["memory_entries"]
        self.assertEqual({e["text"] for e in entries}, {"Schläft schlecht.", "Verworfener Vorschlag.", "Wieder arbeiten"})
        goal = next(e for e in entries if e["text"] == "Wieder arbeiten")
        self.assertEqual(goal["attainment"], "20 %")
        self.assertEqual(data["parts"]["memory_summaries"][0]["version"], 1)
        self.assertEqual(data["parts"]["memory_runs"][0]["status"], "fehlgeschlagen")
        self.assertEqual(data["parts"]["memory_vectors"], [])

    def test_erasing_a_patient_removes_all_memory_rows(self) -> None:
        self.fill(self.patient)
        other = make_patient(self.practice, therapist=self.alice, last_name="Bleibt")
        make_entry(other, status=EntryStatus.CONFIRMED)
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=dt.date(2014, 6, 30))
        self.patient.refresh_from_db()
        cert = erasure.erase(request=None, patient=self.patient, actor=self.olga)
        for model in (MemoryEntry, MemoryVector, PatientSummary, ExtractionRun):
            self.assertFalse(model.objects.filter(patient_id=self.patient.pk).exists(), model.__name__)
        self.assertEqual(cert.deleted["memory.MemoryEntry"], 3)
        self.assertEqual(cert.deleted["memory.MemoryVector"], 2)  # the rejected entry had none
        self.assertEqual(MemoryEntry.objects.filter(patient=other).count(), 1)
        self.assertEqual(MemoryVector.objects.filter(patient=other).count(), 1)
