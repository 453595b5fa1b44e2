from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection

from duktus.models import AuditEntry
from memory import queries, services
from memory.models import EntryStatus, MemoryEntry, MemoryVector
from tests.base import BaseTestCase
from tests.memory.helpers import make_entry


class ProposeEntryTestCase(BaseTestCase):
    def test_it_stores_an_encrypted_proposal_with_a_vector(self) -> None:
        sid = uuid.uuid4()
        entry = services.propose_entry(self.patient, "preference", "Anna mag keine Gruppentherapie.", "document", sid,
                                       "Gruppen sind nichts für mich", user=self.alice)
        entry = MemoryEntry.objects.get(pk=entry.pk)
        entry.patient = self.patient
        self.assertEqual((entry.status, entry.type, entry.source_kind, entry.source_id), ("proposed", "preference", "document", sid))
        self.assertEqual(entry.text, "Anna mag keine Gruppentherapie.")
        self.assertEqual(entry.excerpt, "Gruppen sind nichts für mich")
        self.assertEqual(entry.practice_id, self.practice.pk)
        with connection.cursor() as cur:
            cur.execute("SELECT text_ct, excerpt_ct FROM memory_memoryentry")
            ct = "".join(cur.fetchone())
        self.assertNotIn("Gruppentherapie", ct)
        vector = MemoryVector.objects.get(entry=entry)
        self.assertEqual((vector.backend, len(vector.embedding)), (services.OFFLINE_BACKEND, 384))
        audit = AuditEntry.objects.get(action="memory.propose")
        self.assertEqual(audit.object_id, str(entry.code))
        self.assertNotIn("Gruppentherapie", audit.detail)

    def test_the_vector_is_made_from_the_anonymized_text(self) -> None:
        entry = services.propose_entry(self.patient, "context", "Anna Berger arbeitet in Berlin als Lehrerin.", "session", uuid.uuid4())
        anon = services.anonymize_for_embedding(self.patient, [entry.text])[0]
        self.assertNotIn("Berger", anon)
        self.assertNotIn("Berlin", anon)
        stored = list(MemoryVector.objects.get(entry=entry).embedding)
        expected = services._offline.embed([services.offline_text(anon)])[0]
        self.assertAlmostEqual(sum(a * b for a, b in zip(stored, expected, strict=True)), 1.0, places=5)

    def test_it_refuses_bad_input(self) -> None:
        with self.assertRaisesMessage(services.ChangeRefused, "Unbekannter Eintragstyp"):
            services.propose_entry(self.patient, "diagnosis", "Text", "session", uuid.uuid4())
        with self.assertRaisesMessage(services.ChangeRefused, "zu kurz"):
            services.propose_entry(self.patient, "clinical_fact", "  ", "session", uuid.uuid4())
        with self.assertRaisesMessage(services.ChangeRefused, "Quelle"):
            services.propose_entry(self.patient, "clinical_fact", "Schläft schlecht", "email", uuid.uuid4())
        self.assertFalse(MemoryEntry.objects.exists())


class ReviewTransitionsTestCase(BaseTestCase):
    def test_confirm(self) -> None:
        entry = make_entry(self.patient)
        services.confirm_entry(entry=entry, user=self.alice)
        entry.refresh_from_db()
        self.assertEqual((entry.status, entry.confirmed_by, entry.reviewed_by), ("confirmed", self.alice, self.alice))
        self.assertIsNotNone(entry.confirmed_at)
        self.assertTrue(AuditEntry.objects.filter(action="memory.confirmed", object_id=str(entry.code)).exists())

    def test_reject_removes_the_vector(self) -> None:
        entry = make_entry(self.patient)
        self.assertTrue(MemoryVector.objects.filter(entry=entry).exists())
        services.reject_entry(entry=entry, user=self.alice)
        self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, "rejected")
        self.assertFalse(MemoryVector.objects.filter(entry=entry).exists())

    def test_reopen_after_reject_embeds_again(self) -> None:
        entry = make_entry(self.patient, status=EntryStatus.REJECTED)
        services.change_status(entry=entry, status=EntryStatus.PROPOSED, user=self.alice)
        self.assertTrue(MemoryVector.objects.filter(entry=entry).exists())

    def test_outdated_and_back(self) -> None:
        entry = make_entry(self.patient, status=EntryStatus.CONFIRMED)
        services.mark_outdated(entry=entry, user=self.alice)
        self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, "outdated")
        self.assertTrue(MemoryVector.objects.filter(entry=entry).exists())  # still findable as history
        services.change_status(entry=entry, status=EntryStatus.CONFIRMED, user=self.alice)
        self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, "confirmed")

    def test_invalid_transitions_are_refused(self) -> None:
        cases = [(EntryStatus.PROPOSED, EntryStatus.OUTDATED), (EntryStatus.PROPOSED, EntryStatus.PROPOSED),
                 (EntryStatus.REJECTED, EntryStatus.CONFIRMED), (EntryStatus.OUTDATED, EntryStatus.PROPOSED),
                 (EntryStatus.CONFIRMED, EntryStatus.PROPOSED), (EntryStatus.CONFIRMED, "gelöscht")]
        for start, target in cases:
            entry = make_entry(self.patient, status=start)
            with self.subTest(start=start, target=target), self.assertRaises(services.ChangeRefused):
                services.change_status(entry=entry, status=target, user=self.alice)
            self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, start)

    def test_a_concurrent_change_wins(self) -> None:
        entry = make_entry(self.patient)
        stale = MemoryEntry.objects.get(pk=entry.pk)
        stale.patient = self.patient
        services.reject_entry(entry=entry, user=self.alice)
        with self.assertRaisesMessage(services.ChangeRefused, "inzwischen geändert"):
            services.confirm_entry(entry=stale, user=self.olga)
        self.assertEqual(MemoryEntry.objects.get(pk=entry.pk).status, "rejected")

    def test_edit_keeps_status_and_remakes_the_vector(self) -> None:
        entry = make_entry(self.patient, status=EntryStatus.CONFIRMED)
        before = list(MemoryVector.objects.get(entry=entry).embedding)
        services.edit_entry(entry=entry, data={"type": "progress", "text": "Schläft wieder sieben Stunden.",
                                               "date": dt.date(2026, 4, 1)}, user=self.alice)
        entry = MemoryEntry.objects.get(pk=entry.pk)
        entry.patient = self.patient
        self.assertEqual((entry.status, entry.type, entry.text, entry.date),
                         ("confirmed", "progress", "Schläft wieder sieben Stunden.", dt.date(2026, 4, 1)))
        self.assertNotEqual(before, list(MemoryVector.objects.get(entry=entry).embedding))

    def test_delete_removes_entry_and_vector(self) -> None:
        entry = make_entry(self.patient, status=EntryStatus.CONFIRMED)
        services.delete_entry(entry=entry, user=self.alice)
        self.assertFalse(MemoryEntry.objects.exists())
        self.assertFalse(MemoryVector.objects.exists())
        self.assertTrue(AuditEntry.objects.filter(action="memory.delete").exists())


class GoalsTestCase(BaseTestCase):
    def test_create_and_read_goals(self) -> None:
        doc = uuid.uuid4()
        goal = services.create_goal(patient=self.patient, text="Wieder regelmäßig arbeiten gehen.",
                                    measure="Arbeitstage pro Woche", baseline="0 Tage", target="4 Tage",
                                    relevance="finanzielle Sicherheit, Struktur", due=dt.date(2026, 9, 30),
                                    attainment_scale="percent", attainment=10, source_kind="document", source_id=doc,
                                    user=self.alice)
        services.create_goal(patient=self.patient, text="Vorschlag: Sport", confirmed=False)
        goals = queries.goals_for_patient(self.patient)
        self.assertEqual([g.code for g in goals], [goal.code])
        g = goals[0]
        self.assertEqual((g.status, g.goal_measure, g.goal_target, g.goal_due, g.attainment, g.attainment_display),
                         ("confirmed", "Arbeitstage pro Woche", "4 Tage", dt.date(2026, 9, 30), 10, "10 %"))
        self.assertEqual(len(g.attainment_history), 1)
        self.assertEqual((g.source_kind, g.source_id), ("document", doc))

    def test_update_goal_appends_attainment_history(self) -> None:
        goal = services.create_goal(patient=self.patient, text="Angst im Supermarkt bewältigen", attainment_scale="gas", attainment=-1)
        services.update_goal(goal=goal, attainment=1, attainment_on=dt.date(2026, 5, 1), target="allein einkaufen", user=self.alice)
        g = queries.goals_for_patient(self.patient)[0]
        self.assertEqual((g.attainment, g.goal_target), (1, "allein einkaufen"))
        self.assertEqual([h["value"] for h in g.attainment_history], [-1, 1])
        self.assertIn("+1", g.attainment_display)
        services.mark_outdated(entry=g, user=self.alice)  # reached: kept for the Fortführungsbericht
        self.assertEqual(queries.goals_for_patient(self.patient), [])
        self.assertEqual(len(queries.goals_for_patient(self.patient, include_outdated=True)), 1)

    def test_attainment_is_validated(self) -> None:
        with self.assertRaisesMessage(services.ChangeRefused, "zwischen -2 und 2"):
            services.create_goal(patient=self.patient, text="Ziel eins", attainment_scale="gas", attainment=3)
        with self.assertRaisesMessage(services.ChangeRefused, "Skala"):
            services.create_goal(patient=self.patient, text="Ziel zwei", attainment=50)
        goal = services.create_goal(patient=self.patient, text="Ziel drei")
        with self.assertRaisesMessage(services.ChangeRefused, "zwischen 0 und 100"):
            services.update_goal(goal=goal, attainment_scale="percent", attainment=101)
        with self.assertRaises(TypeError):
            services.update_goal(goal=goal, colour="blau")
        fact = make_entry(self.patient)
        with self.assertRaisesMessage(services.ChangeRefused, "kein Therapieziel"):
            services.update_goal(goal=fact, attainment=1)
        self.assertEqual(MemoryEntry.objects.filter(type="therapeutic_goal").count(), 1)


class VectorStatusTestCase(BaseTestCase):
    def test_the_vector_follows_the_entry_status(self) -> None:
        entry = make_entry(self.patient)
        self.assertEqual(MemoryVector.objects.get(entry=entry).status, "proposed")
        services.confirm_entry(entry=entry)
        self.assertEqual(MemoryVector.objects.get(entry=entry).status, "confirmed")
        services.mark_outdated(entry=entry)
        self.assertEqual(MemoryVector.objects.get(entry=entry).status, "outdated")
        services.edit_entry(entry=entry, data={"text": "Neuer Text für den Eintrag."})
        self.assertEqual(MemoryVector.objects.get(entry=entry).status, "outdated")
