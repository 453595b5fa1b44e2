from __future__ import annotations

import datetime as dt
import io
import os

import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from duktus import audit
from duktus.models import AuditEntry, ErasureCertificate, RetentionReport
from duktus.privacy import export, retention
from patients.models import Patient
from tests.base import BaseTestCase, make_patient
from tests.privacy.helpers import IsolatedFilesMixin


def _at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 3, 0, tzinfo=dt.UTC)


class RetentionRunTestCase(IsolatedFilesMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        # treatment ended 2016-02-29 → retention ends 2026-03-01 → erased from 2026-03-31
        self.leap = make_patient(self.practice, last_name="Schaltjahr", treatment_start=dt.date(2015, 1, 1), treatment_end=dt.date(2016, 2, 29))
        self.recent = make_patient(self.practice, last_name="Neu", treatment_end=dt.date(2020, 5, 1))
        # self.patient: open treatment, never touched

    def test_it_notices_then_erases(self) -> None:
        with time_machine.travel(_at(2026, 2, 28)):
            report = retention.run()
        self.assertEqual(report.counts["noticed"], 0)
        with time_machine.travel(_at(2026, 3, 1)):
            report = retention.run()
        self.assertEqual((report.counts["noticed"], report.counts["erased"]), (1, 0))
        self.assertTrue(Patient.objects.filter(pk=self.leap.pk).exists())
        with time_machine.travel(_at(2026, 3, 31)):
            report = retention.run()
        self.assertEqual(report.counts["erased"], 1)
        self.assertFalse(Patient.objects.filter(pk=self.leap.pk).exists())
        self.assertTrue(Patient.objects.filter(pk=self.recent.pk).exists())
        self.assertTrue(Patient.objects.filter(pk=self.patient.pk).exists())  # open treatment
        self.assertEqual(ErasureCertificate.objects.get().erased_by_label, "system")
        self.assertEqual(RetentionReport.objects.count(), 3)
        self.assertNotIn("Schaltjahr", str(RetentionReport.objects.last().counts))

    def test_practice_retention_setting_postpones_erasure(self) -> None:
        from duktus.privacy import settings as privacy_settings

        privacy_settings.update(practice=self.practice, user=self.olga, record_retention_years=12,
                                audit_retention_years=10, backup_window_days=30, backup_note="")
        # 2016-02-29 + 12 years = 2028-02-29 (a leap year again): erased from 2028-03-30
        with time_machine.travel(_at(2026, 6, 1)):
            self.assertEqual(retention.run().counts["erased"], 0)
            self.assertEqual(retention.notices_for(self.practice), [])
        with time_machine.travel(_at(2028, 3, 29)):
            report = retention.run()
        self.assertEqual((report.counts["noticed"], report.counts["erased"]), (1, 0))
        with time_machine.travel(_at(2028, 3, 30)):
            self.assertEqual(retention.run().counts["erased"], 1)
        self.assertFalse(Patient.objects.filter(pk=self.leap.pk).exists())

    def test_one_key_rotation_per_run(self) -> None:
        from duktus import crypto
        from duktus.models import PendingKeyDestruction

        second = make_patient(self.practice, last_name="Zweite", treatment_start=dt.date(2014, 1, 1), treatment_end=dt.date(2015, 7, 1))
        third = make_patient(self.practice_b, last_name="Dritte", treatment_start=dt.date(2014, 1, 1), treatment_end=dt.date(2015, 7, 1))
        versions = set(crypto.master_keyring().keys)
        with time_machine.travel(_at(2026, 6, 1)):
            report = retention.run()
        self.assertEqual(report.counts["erased"], 3)  # leap, second, third
        self.assertEqual(len(set(crypto.master_keyring().keys) - versions), 1)
        pending = PendingKeyDestruction.objects.get()
        self.assertEqual(set(pending.versions), versions)
        certs = ErasureCertificate.objects.all()
        self.assertEqual({c.new_master_version for c in certs}, {crypto.master_keyring().primary})
        for p in (second, third):
            self.assertFalse(Patient.objects.filter(pk=p.pk).exists())
        # everybody else still reads
        kept = Patient.objects.select_related("data_key", "practice").get(pk=self.recent.pk)
        self.assertEqual(kept.last_name, "Neu")

    def test_dry_run_changes_nothing(self) -> None:
        out = io.StringIO()
        with time_machine.travel(_at(2026, 6, 1)):
            call_command("retention_run", "--dry-run", stdout=out)
        self.assertIn("Probelauf – es wurde nichts geändert", out.getvalue())
        self.assertIn("erased: 1  (Akten gelöscht)", out.getvalue())
        self.assertNotIn("Schaltjahr", out.getvalue())
        self.assertTrue(Patient.objects.filter(pk=self.leap.pk).exists())
        self.assertTrue(RetentionReport.objects.get().dry_run)

    def test_it_deletes_old_audit_entries(self) -> None:
        setup_ids = list(AuditEntry.objects.values_list("id", flat=True))
        self.assertTrue(setup_ids)
        with time_machine.travel(timezone.now() + dt.timedelta(days=3650 + 3)):
            audit.record(None, "recent.entry", practice=self.practice)
            with self.settings(AUDIT_LOG_RETENTION_DAYS=3650):
                report = retention.run()
        self.assertEqual(report.counts["audit_deleted"], len(setup_ids))
        self.assertFalse(AuditEntry.objects.filter(id__in=setup_ids).exists())
        self.assertTrue(AuditEntry.objects.filter(action="recent.entry").exists())
        self.assertTrue(audit.verify_chain().ok)

    def test_audit_retention_follows_the_practice_setting(self) -> None:
        from duktus.privacy import settings as privacy_settings

        privacy_settings.update(practice=self.practice, user=self.olga, record_retention_years=10,
                                audit_retention_years=2, backup_window_days=30, backup_note="")
        a_before = AuditEntry.objects.filter(practice=self.practice).count()
        first_b = audit.record(None, "b.entry", practice=self.practice_b)
        audit.record(None, "a.later", practice=self.practice)
        self.assertIsNotNone(first_b)
        b_count = AuditEntry.objects.filter(practice=self.practice_b).count()
        expected = AuditEntry.objects.filter(id__lt=first_b.id).count()
        self.assertGreater(expected, 0)
        with time_machine.travel(timezone.now() + dt.timedelta(days=3 * 365)):
            report = retention.run()
        # Practice A's entries before practice B's first one are past A's 2 years and go; the
        # chain is one, so A's later entries wait until B's (10 years) no longer block the prefix.
        self.assertEqual(report.counts["audit_deleted"], expected)
        self.assertFalse(AuditEntry.objects.filter(id__lt=first_b.id).exists())
        self.assertGreaterEqual(expected, a_before)
        self.assertTrue(AuditEntry.objects.filter(action="a.later").exists())  # blocked by B's entry
        self.assertEqual(AuditEntry.objects.filter(practice=self.practice_b).count(), b_count)
        self.assertTrue(audit.verify_chain().ok)
        with time_machine.travel(timezone.now() + dt.timedelta(days=3 * 365)):
            dry = retention.run(dry_run=True)
        self.assertEqual(dry.counts["audit_deleted"], 0)

    def test_it_deletes_old_export_files(self) -> None:
        old = export.export_dir() / "old.zip"
        old.write_bytes(b"x")
        stamp = (timezone.now() - dt.timedelta(hours=25)).timestamp()
        os.utime(old, (stamp, stamp))
        fresh = export.export_dir() / "fresh.zip"
        fresh.write_bytes(b"x")
        report = retention.run()
        self.assertEqual(report.counts["exports_deleted"], 1)
        self.assertFalse(old.exists())
        self.assertTrue(fresh.exists())

    def test_it_deletes_old_uploads_in_progress(self) -> None:
        from pathlib import Path

        from django.conf import settings

        uploads = Path(settings.VAR_DIR) / "uploads"
        uploads.mkdir(exist_ok=True)
        with self.settings(FILE_UPLOAD_TEMP_DIR=str(uploads)):
            old = uploads / "abc.upload"
            old.write_bytes(b"x")
            stamp = (timezone.now() - dt.timedelta(hours=25)).timestamp()
            os.utime(old, (stamp, stamp))
            fresh = uploads / "def.upload"
            fresh.write_bytes(b"x")
            self.assertEqual(retention.run(dry_run=True).counts["temp_files_deleted"], 1)
            self.assertTrue(old.exists())
            self.assertEqual(retention.run().counts["temp_files_deleted"], 1)
        self.assertFalse(old.exists())
        self.assertTrue(fresh.exists())

    def test_owner_sees_notices(self) -> None:
        self.login(self.olga)
        with time_machine.travel(_at(2026, 3, 2), tick=False):
            notices = retention.notices_for(self.practice)
        self.assertEqual([p.pk for p, _ in notices], [self.leap.pk])
        self.assertEqual(notices[0][1], dt.date(2026, 3, 31))
        r = self.client.get(reverse("privacy:retention"))
        self.assertContains(r, 'id="retention-notices"')
        self.login(self.alice)
        self.assertEqual(self.client.get(reverse("privacy:retention")).status_code, 403)


class BeatScheduleTestCase(BaseTestCase):
    def test_retention_jobs_are_scheduled(self) -> None:
        from celery.schedules import crontab
        from django.conf import settings

        from duktus.celery import app

        app.loader.import_default_modules()
        tasks = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        self.assertEqual(tasks["privacy.retention_run"], crontab(hour=3, minute=15))  # daily
        self.assertIn("privacy.destroy_due_keys", tasks)
        for name in tasks:
            self.assertIn(name, app.tasks)

    def test_the_daily_task_writes_a_report(self) -> None:
        from duktus.privacy import tasks

        tasks.retention_run.apply()
        report = RetentionReport.objects.get()
        self.assertFalse(report.dry_run)
        self.assertEqual(set(report.counts), {"noticed", "erased", "audit_deleted", "exports_deleted",
                                              "temp_files_deleted", "keys_destroyed"})
        self.assertTrue(all(isinstance(v, int) for v in report.counts.values()))
