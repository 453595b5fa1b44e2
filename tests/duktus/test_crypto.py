from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.db import connection

from duktus import crypto
from duktus.models import DataKey, PracticeKey
from patients.models import Diagnosis, Patient
from patients.services import add_diagnosis
from tests.base import BaseTestCase, make_patient


class EncryptedFieldTestCase(BaseTestCase):
    def test_columns_hold_ciphertext_and_attributes_plaintext(self) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT last_name_ct, birth_date_ct FROM patients_patient WHERE id = %s", [self.patient.pk])
            last_ct, birth_ct = cur.fetchone()
        self.assertTrue(last_ct.startswith("gAAAA"))  # Fernet token
        self.assertNotIn("Berger", last_ct)
        p = Patient.objects.get(pk=self.patient.pk)
        self.assertEqual(p.last_name, "Berger")
        self.assertEqual(p.birth_date, dt.date(1981, 3, 15))

    def test_refresh_from_db_drops_stale_plaintext(self) -> None:
        p = Patient.objects.get(pk=self.patient.pk)
        self.assertEqual(p.first_name, "Anna")
        other = Patient.objects.get(pk=self.patient.pk)
        other.first_name = "Annabell"
        other.save()
        p.refresh_from_db()
        self.assertEqual(p.first_name, "Annabell")

    def test_each_patient_has_own_key(self) -> None:
        other = make_patient(self.practice, first_name="Zweit")
        self.assertNotEqual(self.patient.data_key_id, other.data_key_id)
        # A token of one patient cannot be read with the other's key.
        token = Patient.objects.values_list("first_name_ct", flat=True).get(pk=self.patient.pk)
        with self.assertRaises(Exception):
            other.encryption_fernet().decrypt(token.encode())

    def test_destroying_the_data_key_shreds_the_patient(self) -> None:
        add_diagnosis(patient=self.patient, icd_code="F32.1", icd_version=2025, certainty="G", is_primary=True, diagnosed_on=dt.date(2026, 1, 1))
        DataKey.objects.filter(pk=self.patient.data_key_id).delete()
        p = Patient.objects.get(pk=self.patient.pk)
        self.assertIsNone(p.data_key)
        with self.assertRaises(crypto.DecryptionError):
            _ = p.last_name
        d = Diagnosis.objects.get()
        d.patient = p
        with self.assertRaises(crypto.DecryptionError):
            _ = d.icd_code

    def test_open_columns_reads_values_list_rows_like_the_model(self) -> None:
        fields = [Patient._meta.get_field(n) for n in ("last_name", "birth_date", "guardian_name")]
        wrapped, *tokens = Patient.objects.values_list("data_key__wrapped", *(f.attname for f in fields)).get(pk=self.patient.pk)
        plain = crypto.open_columns(self.practice, wrapped, fields, tokens)
        self.assertEqual(plain, ["Berger", dt.date(1981, 3, 15), self.patient.guardian_name])
        with self.assertRaises(crypto.DecryptionError):
            crypto.open_columns(self.practice, None, fields[:1], tokens[:1])
        # Another practice's key cannot unwrap this patient's data key.
        with self.assertRaises(crypto.DecryptionError):
            crypto.open_columns(self.practice_b, wrapped, fields[:1], tokens[:1])
        # Another patient's data key cannot read this patient's column.
        other = make_patient(self.practice, first_name="Zweit")
        other_wrapped = Patient.objects.values_list("data_key__wrapped", flat=True).get(pk=other.pk)
        with self.assertRaises(crypto.DecryptionError):
            crypto.open_columns(self.practice, other_wrapped, fields[:1], tokens[:1])

    def test_pseudonym_is_stable_and_keyed(self) -> None:
        self.assertEqual(crypto.pseudonym(self.practice, self.patient.code), self.patient.pseudonym)
        self.assertNotEqual(crypto.pseudonym(self.practice_b, self.patient.code), self.patient.pseudonym)

    def test_blind_index_differs_per_practice(self) -> None:
        self.assertNotEqual(crypto.blind_index_query(self.practice, "Berger"), crypto.blind_index_query(self.practice_b, "Berger"))

    def test_mfa_secrets_are_encrypted(self) -> None:
        from allauth.mfa.models import Authenticator

        auth = Authenticator.objects.get(user=self.alice, type="totp")
        self.assertTrue(auth.data["secret"].startswith("m1:"))
        self.assertNotIn(self.alice.totp_secret, auth.data["secret"])
        self.assertEqual(crypto.decrypt_system(auth.data["secret"]), self.alice.totp_secret)


class KeyRotationTestCase(BaseTestCase):
    """Uses its own key file, so destroying versions cannot affect other tests."""

    def setUp(self) -> None:
        import tempfile
        from pathlib import Path

        from django.test import override_settings

        self._tmp = tempfile.TemporaryDirectory()
        self._override = override_settings(DUKTUS_MASTER_KEY_FILE=Path(self._tmp.name) / "master_keys.json")
        self._override.enable()
        crypto.reset_caches()
        self.addCleanup(self._restore)
        super().setUp()
        self.others = [make_patient(self.practice, first_name=f"Person{i}", last_name=f"Nachname{i}") for i in range(3)]
        add_diagnosis(patient=self.patient, icd_code="F43.1", icd_version=2025, certainty="G", is_primary=True, diagnosed_on=dt.date(2026, 1, 1), note="Unfall 2019")

    def _assert_all_readable(self) -> None:
        for p in Patient.objects.select_related("practice", "data_key"):
            self.assertTrue(p.first_name)
        p = Patient.objects.get(pk=self.patient.pk)
        self.assertEqual((p.first_name, p.last_name, p.insurance_number), ("Anna", "Berger", "A123456780"))
        d = Diagnosis.objects.get()
        self.assertEqual(d.note, "Unfall 2019")
        self.assertEqual(crypto.pseudonym(p.practice, p.code), p.pseudonym)
        self.assertEqual(crypto.blind_index_query(p.practice, "Berger")[0] in p.name_index, True)

    def test_master_key_rotation_and_destroy(self) -> None:
        old_primary = crypto.master_keyring().primary
        call_command("rotate_master_key")
        ring = crypto.master_keyring()
        self.assertEqual(ring.primary, old_primary + 1)
        self.assertFalse(PracticeKey.objects.exclude(master_version=ring.primary).exists())
        self._assert_all_readable()
        call_command("rotate_master_key", "--destroy", str(old_primary))
        self.assertNotIn(old_primary, crypto.master_keyring().keys)
        self._assert_all_readable()
        # MFA secrets moved to the new version as well.
        from allauth.mfa.models import Authenticator

        self.assertTrue(all(a.data["secret"].startswith(f"m{ring.primary}:") for a in Authenticator.objects.all()))

    def test_destroying_the_primary_is_refused(self) -> None:
        from django.core.management.base import CommandError

        with self.assertRaises(CommandError):
            call_command("rotate_master_key", "--destroy", str(crypto.master_keyring().primary))

    def test_practice_key_rotation(self) -> None:
        before = list(Patient.objects.values_list("first_name_ct", flat=True))
        call_command("rotate_practice_key", str(self.practice.code))
        self.assertEqual(PracticeKey.objects.filter(practice=self.practice, retired_at__isnull=True).get().version, 2)
        self.assertEqual(set(DataKey.objects.filter(practice=self.practice).values_list("practice_key_version", flat=True)), {2})
        # Field ciphertexts are untouched (only the data keys were re-wrapped): no downtime, no re-encryption.
        self.assertEqual(before, list(Patient.objects.values_list("first_name_ct", flat=True)))
        self._assert_all_readable()
        # New patients after the rotation work too, and practice B is unaffected.
        from duktus.models import Practice

        new = make_patient(Practice.objects.get(pk=self.practice.pk), first_name="Nach", last_name="Rotation")
        self.assertEqual(Patient.objects.get(pk=new.pk).last_name, "Rotation")
        self.assertEqual(PracticeKey.objects.filter(practice=self.practice_b).get().version, 1)

    def _restore(self) -> None:
        self._override.disable()
        crypto.reset_caches()
        self._tmp.cleanup()
