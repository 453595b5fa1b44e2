"""Sessions and memory feed the documents: session notes (never process notes), therapy goals
(read and written through memory), confirmed memory entries, the course since the last report."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from documents import definitions, queries, services
from documents.models import Document
from memory import queries as memory_queries
from memory import services as memory_services
from memory.models import EntryType, SourceKind
from sessions import services as session_services
from tests.assessments.helpers import fake_request, make_administration
from tests.base import BaseTestCase
from tests.documents.helpers import PHQ9_BETTER, PHQ9_SEVERE, fill_record, make_document
from tests.sessions.helpers import make_session


def done_session(patient, user, day: dt.date, note: str, process: str = ""):  # type: ignore[no-untyped-def]
    s = make_session(patient, user, date=day, note=note)
    request = fake_request(user, patient.practice)
    if process:
        s.refresh_from_db()
        s.patient = patient
        session_services.save_note(session=s, text=process, revision=s.note_revision, field="process_notes", request=request)
    s.refresh_from_db()
    s.patient = patient
    session_services.close_session(session=s, request=request)
    return s


class SessionFeedTestCase(BaseTestCase):
    def test_session_notes_feed_but_process_notes_never(self) -> None:
        s = done_session(self.patient, self.alice, dt.date(2026, 3, 2), "Verhaltensaktivierung begonnen.",
                         process="Eigene Gegenübertragung: Ungeduld.")
        mats = {m.feed: m for m in queries.material(self.patient, ("sessions",))}
        text = "\n".join(mats["sessions"].lines)
        self.assertIn("Dokumentierte Sitzungen: 1", text)
        self.assertIn("Sitzung am 02.03.2026 (Einzel, 50 Min.): Verhaltensaktivierung begonnen.", text)
        self.assertNotIn("Gegenübertragung", text)
        self.assertEqual(mats["sessions"].sources[0].code, str(s.code))
        doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        # Hand-written drafts get the structured part (dates), not the note text.
        self.assertIn("Sitzung am 02.03.2026 (Einzel, 50 Min.)", doc.sections["themen"])
        self.assertNotIn("Verhaltensaktivierung", doc.sections["themen"])
        page = self.client.get(doc.get_absolute_url())
        self.assertContains(page, reverse("sessions:detail", args=[s.code]))

    def test_running_sessions_are_not_material(self) -> None:
        make_session(self.patient, self.alice, note="Noch offen.")
        self.assertEqual(queries.material(self.patient, ("sessions",))[0].lines, [])


class GoalsFeedTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.goal = memory_services.create_goal(patient=self.patient, text="Wieder an drei Tagen pro Woche arbeiten",
                                                measure="Arbeitstage pro Woche", baseline="0", target="3",
                                                due=dt.date(2026, 9, 30), attainment_scale="percent", attainment=40,
                                                user=self.alice)

    def test_goals_come_from_memory(self) -> None:
        m = queries.material(self.patient, ("goals",))[0]
        self.assertEqual(m.lines, ["Ziel: Wieder an drei Tagen pro Woche arbeiten; Messkriterium: Arbeitstage pro Woche; "
                                   "Ausgangslage: 0; Zielzustand: 3; bis 30.09.2026; Zielerreichung 40 % am "
                                   f"{queries.de_date(self.goal.attainment_on)}"])
        doc = make_document(self.patient, self.alice, "therapieplan")
        self.assertIn("Wieder an drei Tagen pro Woche arbeiten", doc.sections["ziele"])
        r = self.client.get(reverse("documents:source", args=[doc.code, "goal", self.goal.code]))
        self.assertContains(r, "Messkriterium: Arbeitstage pro Woche")

    def test_the_therapieplan_writes_goals_into_memory(self) -> None:
        doc = make_document(self.patient, self.alice, "therapieplan")
        r = self.client.post(reverse("documents:goal_add", args=[doc.code]), {
            "text": "Einschlafen innerhalb von 30 Minuten", "measure": "Schlaftagebuch", "due": "2026-08-01"})
        self.assertEqual(r.status_code, 302)
        goals = memory_queries.goals_for_patient(self.patient)
        new = next(g for g in goals if g.text == "Einschlafen innerhalb von 30 Minuten")
        self.assertEqual((new.source_kind, str(new.source_id)), (SourceKind.DOCUMENT, str(doc.code)))
        self.assertEqual(new.type, EntryType.THERAPEUTIC_GOAL)
        r = self.client.post(reverse("documents:goal_update", args=[doc.code, new.code]),
                             {f"{new.code}-scale": "gas", f"{new.code}-value": "1"})
        self.assertEqual(r.status_code, 302)
        new = memory_queries.entry_for_patient(self.patient, new.code)
        self.assertEqual((new.attainment_scale, new.attainment), ("gas", 1))
        r = self.client.post(reverse("documents:goals_apply", args=[doc.code, "ziele"]))
        self.assertEqual(r.status_code, 302)
        doc = Document.objects.get(pk=doc.pk)
        doc.patient = self.patient
        self.assertIn("Einschlafen innerhalb von 30 Minuten", doc.sections["ziele"])
        self.assertIn("GAS +1 etwas besser als erwartet", doc.sections["ziele"])
        page = self.client.get(doc.get_absolute_url())
        self.assertContains(page, 'id="goals-ziele"')

    def test_bad_goal_input(self) -> None:
        doc = make_document(self.patient, self.alice, "therapieplan")
        r = self.client.post(reverse("documents:goal_add", args=[doc.code]), {"text": ""})
        self.assertContains(r, "Bitte das Ziel beschreiben.", status_code=422)
        r = self.client.post(reverse("documents:goal_update", args=[doc.code, self.goal.code]),
                             {f"{self.goal.code}-scale": "percent", f"{self.goal.code}-value": "140"})
        self.assertContains(r, "zwischen 0 und 100", status_code=422)
        self.assertEqual(memory_queries.entry_for_patient(self.patient, self.goal.code).attainment, 40)
        other = make_document(self.patient, self.alice, "anamnese")
        r = self.client.post(reverse("documents:goal_add", args=[other.code]), {"text": "Ziel"})
        self.assertEqual(r.status_code, 422)

    def test_goal_endpoints_check_ownership_and_role(self) -> None:
        doc = make_document(self.patient, self.alice, "therapieplan")
        for user, status in ((self.charlie, 404), (self.bob, 403)):
            self.login(user)
            with self.subTest(user.email):
                r = self.client.post(reverse("documents:goal_add", args=[doc.code]), {"text": "Ziel von außen"})
                self.assertEqual(r.status_code, status)
                r = self.client.post(reverse("documents:goal_update", args=[doc.code, self.goal.code]),
                                     {f"{self.goal.code}-scale": "percent", f"{self.goal.code}-value": "90"})
                self.assertEqual(r.status_code, status)
        self.assertEqual(len(memory_queries.goals_for_patient(self.patient)), 1)
        self.assertEqual(memory_queries.entry_for_patient(self.patient, self.goal.code).attainment, 40)


class MemoryFeedTestCase(BaseTestCase):
    def test_confirmed_entries_feed(self) -> None:
        memory_services.add_entry(patient=self.patient, type=EntryType.CONTEXT, text="Arbeitet als Erzieherin, zwei Kinder.",
                                  date=dt.date(2026, 2, 1), user=self.alice)
        m = queries.material(self.patient, ("memory",))[0]
        self.assertEqual(m.lines, ["Lebenskontext (01.02.2026): Arbeitet als Erzieherin, zwei Kinder."])
        doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        req = services.build_draft_request(doc, definitions.get("ptv3_antrag_kurzzeittherapie").section("vt", "p1_soziodemographie"))
        self.assertIn("Arbeitet als Erzieherin, zwei Kinder.", req.messages[1]["content"])
        self.assertEqual({s["kind"] for s in req.sources}, {"patient", "memory"})


class FortfuehrungsberichtTestCase(BaseTestCase):
    def test_it_pulls_the_course_since_the_last_report(self) -> None:
        fill_record(self.patient, self.alice)  # PHQ-9 17 (12.01.) → 8 (20.03.), KZT 1 8/12
        with time_machine.travel(dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)):
            first = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
            services.sign_document(document=first, user=self.alice)
        make_administration(self.patient, "phq9", PHQ9_BETTER, day=dt.date(2026, 4, 20), user=self.alice)
        make_administration(self.patient, "phq9", PHQ9_SEVERE, day=dt.date(2026, 1, 5), user=self.alice)
        done_session(self.patient, self.alice, dt.date(2026, 1, 20), "Vor dem Bericht.")
        done_session(self.patient, self.alice, dt.date(2026, 3, 3), "Nach dem Bericht.")
        memory_services.create_goal(patient=self.patient, text="Soziale Kontakte wieder aufnehmen", attainment_scale="percent",
                                    attainment=70, user=self.alice)
        doc = make_document(self.patient, self.alice, "psychotherapie_verlaufsbericht")
        self.assertEqual(queries.since_for(doc), dt.date(2026, 2, 1))
        verlauf = doc.sections["f1_verlauf"]
        self.assertIn("Zeitraum: seit 01.02.2026", verlauf)
        self.assertIn("PHQ-9: 8 (20.03.2026) → 8 (20.04.2026), 2 Messungen", verlauf)
        self.assertIn("Dokumentierte Sitzungen seit 01.02.2026: 1", verlauf)
        self.assertIn("Durchgeführte Sitzungen insgesamt: 8", verlauf)
        self.assertIn("Ziel: Soziale Kontakte wieder aufnehmen", doc.sections["f2_ziele"])
        self.assertIn("Zielerreichung 70 %", doc.sections["f2_ziele"])
        self.assertIn("F32.1 G", doc.sections["f3_diagnosen"])


class DocumentAsMemorySourceTestCase(BaseTestCase):
    def test_signed_documents_feed_memory_proposals(self) -> None:
        doc = make_document(self.patient, self.alice, "anamnese")
        doc = services.update_section(document=doc, key="biographie", text="Arbeitet als Erzieherin.", user=self.alice)
        doc = services.update_section(document=doc, key="familie", text="[fehlt: Familienanamnese]", user=self.alice)
        self.assertIsNone(services.memory_source(str(doc.code)))  # drafts are no source
        self.assertIn("document", memory_services.registered_sources())
        with self.captureOnCommitCallbacks() as callbacks:
            services.sign_document(document=doc, user=self.alice)
        self.assertEqual(len(callbacks), 1)  # memory's extraction task, enqueued after commit
        patient, text, user, day = services.memory_source(str(doc.code))
        self.assertEqual((patient, user, day), (self.patient, self.alice, doc.signed_at.date()))
        self.assertIn("Biographische und soziale Anamnese:\nArbeitet als Erzieherin.", text)
        self.assertNotIn("fehlt", text)
