from __future__ import annotations

import datetime as dt

import time_machine
from cryptography.fernet import Fernet, InvalidToken
from django.urls import reverse

from duktus import crypto
from duktus.models import (
    AuditEntry,
    DataKey,
    ErasureCertificate,
    PatientRestriction,
    PendingKeyDestruction,
    PracticeKey,
)
from duktus.privacy import erasure, export
from patients import services as patient_services
from patients.models import ConsentRecord, Diagnosis, Patient
from tests.base import BaseTestCase, make_patient
from tests.privacy.helpers import IsolatedFilesMixin

ENDED_LONG_AGO = dt.date(2014, 6, 30)  # retention ended 2024-06-30


class RetentionEndTestCase(BaseTestCase):
    def test_leap_day_ends_on_first_of_march(self) -> None:
        # Documented decision: no 29 Feb in 2026 → the later day, never a day early.
        self.assertEqual(erasure.retention_end(dt.date(2016, 2, 29)), dt.date(2026, 3, 1))
        self.assertEqual(erasure.retention_end(dt.date(2016, 2, 28)), dt.date(2026, 2, 28))

    def test_open_treatment_has_no_end(self) -> None:
        self.assertIsNone(erasure.retention_end(None))
        check = erasure.check_erasure(self.patient, dt.date(2099, 1, 1))
        self.assertFalse(check.allowed)
        self.assertIn("nicht abgeschlossen", check.reason)

    def test_leap_day_with_frozen_clock(self) -> None:
        p = make_patient(self.practice, treatment_start=dt.date(2015, 1, 1), treatment_end=dt.date(2016, 2, 29))
        with time_machine.travel(dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)):
            self.assertFalse(erasure.check_erasure(p).allowed)
        with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)):
            self.assertTrue(erasure.check_erasure(p).allowed)

    def test_minimum_is_ten_years(self) -> None:
        with self.settings(PRIVACY_RETENTION_YEARS=3):
            self.assertEqual(erasure.retention_years(), 10)
        with self.settings(PRIVACY_RETENTION_YEARS=12):
            self.assertEqual(erasure.retention_end(dt.date(2020, 1, 1)), dt.date(2032, 1, 1))


class ErasureViewTestCase(IsolatedFilesMixin, BaseTestCase):
    def test_it_refuses_during_retention(self) -> None:
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]))
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Art. 17 Abs. 3", status_code=422)
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())
        self.assertTrue(AuditEntry.objects.filter(action="privacy.erasure_refused").exists())

    def test_it_restricts_and_schedules(self) -> None:
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=dt.date(2025, 12, 31))
        self.assertFalse(erasure.is_restricted(self.patient))
        r = self.client.post(reverse("privacy:restrict", args=[self.patient.code]), {"reason": "Widerspruch der Patientin"})
        self.assertEqual(r.status_code, 302)
        self.assertTrue(erasure.is_restricted(self.patient))
        self.assertEqual(PatientRestriction.objects.get().erase_on, dt.date(2035, 12, 31))

    def test_only_owner_can_force(self) -> None:
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]), {"force": "1", "reason": "x"})
        self.assertEqual(r.status_code, 403)
        self.login(self.olga)
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]), {"force": "1", "reason": ""})
        self.assertEqual(r.status_code, 422)
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]),
                             {"force": "1", "reason": "Gerichtliche Anordnung AZ 1-2/26"})
        cert = ErasureCertificate.objects.get()
        self.assertRedirects(r, reverse("privacy:certificate", args=[cert.code]))
        self.assertTrue(cert.forced)
        self.assertFalse(Patient.objects.filter(pk=self.patient.pk).exists())
        page = self.client.get(reverse("privacy:certificate", args=[cert.code]))
        self.assertContains(page, cert.patient_pseudonym)
        self.assertNotContains(page, "Berger")
        self.assertTrue(AuditEntry.objects.filter(action="privacy.erased", detail__contains="erzwungen").exists())

    def test_it_erases_after_retention(self) -> None:
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=ENDED_LONG_AGO)
        patient_services.add_diagnosis(patient=self.patient, icd_code="F32.1", icd_version=2025, certainty="G",
                                       is_primary=True, diagnosed_on=dt.date(2014, 1, 12), note="")
        data_key_id = self.patient.data_key_id
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("privacy:export_start", args=[self.patient.code]))
        self.assertEqual(len(list(export.export_dir().glob("*.zip"))), 1)
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]))
        self.assertContains(r, "Bitte bestätigen Sie", status_code=422)  # one stray click erases nothing
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())
        r = self.client.post(reverse("privacy:erase", args=[self.patient.code]), {"confirm": "on"})
        self.assertEqual(list(export.export_dir().glob("*.zip")), [])
        self.assertEqual(r.status_code, 302)
        self.assertFalse(Patient.objects.filter(pk=self.patient.pk).exists())
        self.assertFalse(Diagnosis.objects.exists())
        self.assertFalse(ConsentRecord.objects.filter(patient_id=self.patient.pk).exists())
        self.assertFalse(DataKey.objects.filter(pk=data_key_id).exists())
        cert = ErasureCertificate.objects.get()
        self.assertEqual(cert.deleted["patients.Diagnosis"], 1)
        # the audit log keeps only pseudonymized entries
        self.assertTrue(AuditEntry.objects.filter(patient_pseudonym=cert.patient_pseudonym).exists())
        self.assertFalse(AuditEntry.objects.filter(detail__icontains="Berger").exists())

    def test_a_missing_eraser_rolls_back(self) -> None:
        from django.db import IntegrityError

        from duktus.privacy import registry

        registry.autodiscover()
        saved = dict(registry._parts)
        self.addCleanup(lambda: (registry._parts.clear(), registry._parts.update(saved)))
        del registry._parts["diagnoses"]
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=ENDED_LONG_AGO)
        self.patient.refresh_from_db()
        patient_services.add_diagnosis(patient=self.patient, icd_code="F32.1", icd_version=2025, certainty="G",
                                       is_primary=True, diagnosed_on=dt.date(2014, 1, 12), note="")
        with self.assertRaises(IntegrityError):
            erasure.erase(request=None, patient=self.patient, actor=self.olga)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(reverse("privacy:erase", args=[self.patient.code])).status_code, 403)
        self.assertEqual(self.client.get(reverse("privacy:patient", args=[self.patient.code])).status_code, 403)
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())

    def test_it_checks_ownership(self) -> None:
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=ENDED_LONG_AGO)
        self.login(self.charlie)
        self.assertEqual(self.client.post(reverse("privacy:erase", args=[self.patient.code])).status_code, 404)
        self.assertEqual(self.client.get(reverse("privacy:patient", args=[self.patient.code])).status_code, 404)
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(reverse("privacy:erase", args=[self.patient.code])).status_code, 405)

    def test_page_works(self) -> None:
        r = self.client.get(reverse("privacy:patient", args=[self.patient.code]))
        self.assertContains(r, 'id="erasure-check"')


class BackupProofTestCase(IsolatedFilesMixin, BaseTestCase):
    """A backup taken before the erasure becomes unreadable once the backup window has passed."""

    def _snapshot(self) -> dict[str, list[dict]]:
        return {
            "practicekey": list(PracticeKey.objects.values()),
            "datakey": list(DataKey.objects.values()),
            "patient": list(Patient.objects.values("id", "data_key_id", "practice_id", "last_name_ct")),
        }

    def _decrypt_from_snapshot(self, snap: dict, patient_id: int) -> str:
        """Full restore of the snapshot's key rows with the *current* key file."""
        ring = crypto.master_keyring()
        row = next(r for r in snap["patient"] if r["id"] == patient_id)
        dk = next(r for r in snap["datakey"] if r["id"] == row["data_key_id"])
        pk = next(r for r in snap["practicekey"] if r["practice_id"] == row["practice_id"] and r["version"] == dk["practice_key_version"])
        practice_key = Fernet(ring.fernet(pk["master_version"]).decrypt(pk["wrapped"].encode()))
        data_key = Fernet(practice_key.decrypt(dk["wrapped"].encode()))
        return data_key.decrypt(row["last_name_ct"].encode()).decode()

    def _decrypt_with_live_keys(self, snap: dict, patient_id: int) -> str:
        """Documented restore: data rows from the backup, key rows from the live database."""
        row = next(r for r in snap["patient"] if r["id"] == patient_id)
        practice = self.practice
        practice._duktus_keyring = None
        keyring = crypto.practice_keyring(practice)
        live = DataKey.objects.filter(pk=row["data_key_id"]).first()
        wrapped = live.wrapped if live else next(r for r in snap["datakey"] if r["id"] == row["data_key_id"])["wrapped"]
        data_key = Fernet(keyring.decrypt(wrapped.encode()))
        return data_key.decrypt(row["last_name_ct"].encode()).decode()

    def test_erased_patient_unreadable_in_old_backup(self) -> None:
        other = make_patient(self.practice, last_name="Weber")
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=ENDED_LONG_AGO)
        snap = self._snapshot()
        self.assertEqual(self._decrypt_from_snapshot(snap, self.patient.pk), "Berger")
        old_versions = set(crypto.master_keyring().keys)
        self.patient.refresh_from_db()
        erasure.erase(request=None, patient=self.patient, actor=self.olga)
        pending = PendingKeyDestruction.objects.get()
        self.assertEqual(set(pending.versions), old_versions)
        # Within the backup window the old version still exists (restore is still possible).
        self.assertEqual(erasure.destroy_due_keys(), [])
        self.assertEqual(self._decrypt_from_snapshot(snap, self.patient.pk), "Berger")
        with time_machine.travel(pending.due_at + dt.timedelta(minutes=1)):
            from duktus.privacy import tasks
            tasks.destroy_due_keys.delay()
        self.assertFalse(old_versions & set(crypto.master_keyring().keys))
        with self.assertRaises((crypto.DecryptionError, InvalidToken)):
            self._decrypt_from_snapshot(snap, self.patient.pk)
        with self.assertRaises((crypto.DecryptionError, InvalidToken)):
            self._decrypt_with_live_keys(snap, self.patient.pk)
        # Other patients: their backup rows still decrypt with the current key file.
        self.assertEqual(self._decrypt_with_live_keys(snap, other.pk), "Weber")
        self.assertEqual(Patient.objects.select_related("practice", "data_key").get(pk=other.pk).last_name, "Weber")
