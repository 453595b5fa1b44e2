"""THE backup test (issue 8): restore a real pg_dump taken before an erasure, apply the current
master key after the backup window, and prove that the erased patient cannot be decrypted while
everybody else can."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import uuid
from pathlib import Path

import time_machine
from django.core.management import call_command
from django.db import connection, connections

from duktus import crypto
from duktus.embedded import postgres_bin
from duktus.models import PendingKeyDestruction, Practice
from duktus.privacy import backups, erasure
from patients import services as patient_services
from patients.models import Diagnosis, Patient
from tests.base import BaseTransactionTestCase, make_patient
from tests.privacy.helpers import IsolatedFilesMixin

NOTE = "Zwangsgedanken seit der Geburt des Sohnes"


def _psql(*args: str, db: str = "postgres") -> None:
    params = connection.get_connection_params()
    subprocess.run([str(postgres_bin("psql")), "-h", params["host"], "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                    "-q", *args], check=True, capture_output=True)


class BackupRestoreTestCase(IsolatedFilesMixin, BaseTransactionTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.restored_name = f"restored_{uuid.uuid4().hex[:8]}"
        self.alias = f"restored_{uuid.uuid4().hex[:6]}"
        # Connections added at run time must be allowed explicitly (Django's test isolation).
        cls = type(self)
        saved = cls.databases
        cls.databases = {*saved, self.alias, "restored"}
        self.addCleanup(setattr, cls, "databases", saved)
        self.addCleanup(self._drop_restored)

    def _drop_restored(self) -> None:
        if "restored" in connections.databases:
            connections["restored"].close()
            del connections.databases["restored"]
        if self.alias in connections.databases:
            connections[self.alias].close()
            del connections.databases[self.alias]
        _psql("-c", f'DROP DATABASE IF EXISTS "{self.restored_name}"')

    def _dump(self) -> Path:
        params = connection.get_connection_params()
        path = Path(tempfile.mkdtemp()) / "before_erasure.sql"
        with path.open("wb") as fh:
            subprocess.run([str(postgres_bin("pg_dump")), "-h", params["host"], "-U", "postgres", "--no-owner",
                            connection.settings_dict["NAME"]], check=True, stdout=fh)
        self.addCleanup(path.unlink)
        return path

    def _restore_dump(self, dump: Path) -> str:
        _psql("-c", f'CREATE DATABASE "{self.restored_name}"')
        _psql("-f", str(dump), db=self.restored_name)
        return backups.add_database_alias(self.restored_name, self.alias)

    def _read(self, patient_pk: int) -> tuple[str, str]:
        """Name and diagnosis note from the restored database, with the current key file."""
        patient = Patient.objects.using(self.alias).select_related("data_key", "practice").get(pk=patient_pk)
        diagnosis = Diagnosis.objects.using(self.alias).get(patient_id=patient_pk)
        diagnosis.patient = patient
        return patient.last_name, diagnosis.note

    def test_erased_patient_stays_unreadable_in_a_restored_dump(self) -> None:
        gone = make_patient(self.practice, last_name="Vergessen", treatment_start=dt.date(2012, 1, 1),
                            treatment_end=dt.date(2014, 6, 30))
        kept = make_patient(self.practice, last_name="Weber")
        other_practice = make_patient(self.practice_b, last_name="Zander")
        for p in (gone, kept, other_practice):
            patient_services.add_diagnosis(patient=p, icd_code="F42.1", icd_version=2025, certainty="G",
                                           is_primary=True, diagnosed_on=dt.date(2013, 1, 12), note=NOTE)
        dump = self._dump()
        self.assertIn(b"duktus_datakey", dump.read_bytes())
        gone.refresh_from_db()
        cert = erasure.erase(request=None, patient=gone, actor=self.olga)
        self.assertFalse(Patient.objects.filter(pk=gone.pk).exists())
        pending = PendingKeyDestruction.objects.get()

        # After the backup window the beat job destroys the old master versions.
        with time_machine.travel(pending.due_at + dt.timedelta(hours=1)):
            destroyed = erasure.destroy_due_keys()
        self.assertEqual(set(destroyed), set(pending.versions))
        ring = crypto.master_keyring()
        self.assertEqual(set(ring.keys), {cert.new_master_version})

        alias = self._restore_dump(dump)
        # The dump alone, with the current master key, opens nothing: its practice keys are
        # wrapped under the destroyed versions.
        with self.assertRaises(crypto.DecryptionError):
            self._read(kept.pk)
        with self.assertRaises(crypto.DecryptionError):
            self._read(gone.pk)

        # The documented restore: key rows from the running system.
        out = self._apply_keys_with_command()
        self.assertIn("data_keys_shredded: 1", out)
        self.assertEqual(self._read(kept.pk), ("Weber", NOTE))
        self.assertEqual(self._read(other_practice.pk), ("Zander", NOTE))
        with self.assertRaises(crypto.DecryptionError):
            self._read(gone.pk)
        # Not even the raw rows help: the backup's own key rows need a destroyed master version.
        self.assertEqual(Practice.objects.using(alias).count(), 2)
        with self.assertRaises(crypto.DecryptionError):
            ring.fernet(min(pending.versions))
        # …and the live system still reads everybody else.
        self.assertEqual(Patient.objects.select_related("data_key", "practice").get(pk=kept.pk).last_name, "Weber")

    def _apply_keys_with_command(self) -> str:
        import io

        out = io.StringIO()
        call_command("restore_keys", "--database-name", self.restored_name, stdout=out)
        return out.getvalue()
