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

    def test_dry_run_changes_nothing(self) -> None:
        out = io.StringIO()
        with time_machine.travel(_at(2026, 6, 1)):
            call_command("retention_run", "--dry-run", stdout=out)
        self.assertIn("Probelauf", out.getvalue())
        self.assertIn("erased: 1", out.getvalue())
        self.assertTrue(Patient.objects.filter(pk=self.leap.pk).exists())
        self.assertTrue(RetentionReport.objects.get().dry_run)

    def test_it_deletes_old_audit_entries(self) -> None:
        with time_machine.travel(_at(2010, 1, 1)):
            audit.record(None, "old.entry")
        with self.settings(AUDIT_LOG_RETENTION_DAYS=3650), time_machine.travel(_at(2026, 1, 1)):
            report = retention.run()
        self.assertEqual(report.counts["audit_deleted"], 1)
        self.assertFalse(AuditEntry.objects.filter(action="old.entry").exists())
        self.assertTrue(audit.verify_chain().ok)

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
