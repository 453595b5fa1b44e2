from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from duktus import audit
from duktus.models import AuditEntry
from tests.base import BaseTestCase


class AuditChainTestCase(BaseTestCase):
    def _make_entries(self) -> None:
        for _ in range(3):
            self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.client.get(reverse("patients:list"))

    def test_chain_verifies(self) -> None:
        self._make_entries()
        out = StringIO()
        call_command("verify_audit", stdout=out)
        self.assertIn("intakt", out.getvalue())
        entries = list(AuditEntry.objects.order_by("id"))
        for prev, cur in zip(entries, entries[1:]):
            self.assertEqual(cur.prev_hash, prev.hash)

    def test_tampered_row_is_reported(self) -> None:
        self._make_entries()
        victim = AuditEntry.objects.filter(action="patient.view").order_by("id")[1]
        with connection.cursor() as cur:
            cur.execute("UPDATE duktus_auditentry SET actor_label = 'someone-else@example.org' WHERE id = %s", [victim.id])
        report = audit.verify_chain()
        self.assertFalse(report.ok)
        self.assertEqual(report.broken_id, victim.id)
        with self.assertRaisesMessage(CommandError, f"Eintrag {victim.id}"):
            call_command("verify_audit")

    def test_deleted_row_breaks_the_chain(self) -> None:
        self._make_entries()
        ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
        AuditEntry.objects.filter(id=ids[2]).delete()
        self.assertEqual(audit.verify_chain().broken_id, ids[3])

    def test_entries_have_no_clinical_content(self) -> None:
        self._make_entries()
        for e in AuditEntry.objects.all():
            blob = " ".join(str(v) for v in (e.actor_label, e.patient_pseudonym, e.action, e.object_type, e.object_id, e.detail))
            for secret in ("Anna", "Berger", "A123456780", "Lindenstraße"):
                self.assertNotIn(secret, blob)

    def test_one_entry_per_page_view(self) -> None:
        before = AuditEntry.objects.count()
        self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertEqual(AuditEntry.objects.count(), before + 1)
