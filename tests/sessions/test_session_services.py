from __future__ import annotations

import datetime as dt

from django.db import connection

from duktus.models import AuditEntry
from patients import services as patient_services
from patients.crisis import CrisisEvent
from sessions import services
from sessions.models import NoteVersion, TherapySession
from tests.base import BaseTestCase
from tests.sessions.helpers import fake_request, make_session, reload


class SessionLifecycleTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.request = fake_request(self.alice, self.practice)

    def test_it_numbers_sessions_within_the_approval(self) -> None:
        approval = patient_services.add_approval(patient=self.patient, phase="kzt1", approved_sessions=24,
                                                 approved_on=dt.date(2026, 1, 5), sessions_used=6)
        first = make_session(self.patient, self.alice, approval=approval, running=False)
        second = make_session(self.patient, self.alice, approval=approval, running=False)
        self.assertEqual((first.number, second.number), (7, 8))
        self.assertEqual(first.contingent_label, "7/24")
        self.assertIsNone(make_session(self.patient, self.alice, running=False).number)

    def test_closing_freezes_the_note_as_version_one_and_counts_the_session(self) -> None:
        approval = patient_services.add_approval(patient=self.patient, phase="kzt1", approved_sessions=24,
                                                 approved_on=dt.date(2026, 1, 5), sessions_used=6)
        session = make_session(self.patient, self.alice, approval=approval, note="Stimmung gedrückt, Aktivitätenplan besprochen.")
        version = services.close_session(session=session, request=self.request)
        self.assertEqual((version.number, version.kind), (1, "original"))
        session = reload(session)
        self.assertEqual(session.status, "done")
        stored = NoteVersion.objects.get(pk=version.pk)
        stored.session = session
        self.assertEqual(stored.text, "Stimmung gedrückt, Aktivitätenplan besprochen.")
        approval.refresh_from_db()
        self.assertEqual(approval.sessions_used, 7)
        with self.assertRaises(services.SessionError):
            services.close_session(session=session, request=self.request)
        with self.assertRaises(services.SessionError):
            services.save_note(session=session, text="still geändert", revision=session.note_revision, request=self.request)
        self.assertEqual(reload(session).note, "Stimmung gedrückt, Aktivitätenplan besprochen.")

    def test_corrections_keep_the_original_visible(self) -> None:
        session = make_session(self.patient, self.alice, note="Original: PHQ-9 14.")
        services.close_session(session=session, request=self.request)
        session = reload(session)
        services.correct_note(session=session, text="Original: PHQ-9 15.", reason="Tippfehler im Score", request=self.request)
        versions = list(NoteVersion.objects.filter(session=session).order_by("number"))
        for v in versions:
            v.session = session
        self.assertEqual([(v.number, v.kind) for v in versions], [(1, "original"), (2, "correction")])
        self.assertEqual(versions[0].text, "Original: PHQ-9 14.")
        self.assertEqual((versions[1].text, versions[1].reason, versions[1].author), ("Original: PHQ-9 15.", "Tippfehler im Score", self.alice))
        self.assertEqual(reload(session).note, "Original: PHQ-9 15.")
        with self.assertRaises(ValueError):
            versions[0].save()  # versions are never overwritten
        with self.assertRaises(services.SessionError):
            services.correct_note(session=reload(session), text="Original: PHQ-9 15.", reason="x", request=self.request)

    def test_a_stale_revision_is_refused(self) -> None:
        session = make_session(self.patient, self.alice)
        services.save_note(session=session, text="Fenster 1", revision=0, request=self.request)
        with self.assertRaises(services.SessionError):
            services.save_note(session=reload(session), text="Fenster 2", revision=0, request=self.request)
        self.assertEqual(reload(session).note, "Fenster 1")

    def test_notes_are_encrypted_in_the_database(self) -> None:
        session = make_session(self.patient, self.alice, note="Schlafstörung seit Januar")
        services.save_note(session=session, text="Geheime Prozessnotiz", revision=0, field="process_notes", request=self.request)
        with connection.cursor() as cur:
            cur.execute("SELECT note_ct, process_notes_ct FROM therapy_sessions_therapysession WHERE id = %s", [session.pk])
            row = " ".join(cur.fetchone())
        self.assertNotIn("Schlafstörung", row)
        self.assertNotIn("Prozessnotiz", row)
        self.assertEqual(reload(session).process_notes, "Geheime Prozessnotiz")

    def test_every_write_is_audited_without_content(self) -> None:
        session = make_session(self.patient, self.alice, note="Inhalt der Notiz")
        services.close_session(session=session, request=self.request)
        actions = list(AuditEntry.objects.filter(object_id=str(session.code)).values_list("action", flat=True))
        self.assertEqual(actions, ["session.create", "session.start", "session.note.save", "session.close"])
        self.assertFalse(AuditEntry.objects.filter(detail__icontains="Inhalt").exists())

    def test_closing_hands_the_note_to_memory_extraction(self) -> None:
        from memory.models import ExtractionRun

        session = make_session(self.patient, self.alice, note="Ziel: wieder regelmäßig schwimmen gehen.")
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            services.close_session(session=session, request=self.request)
        self.assertEqual(len(callbacks), 1)
        run = ExtractionRun.objects.get()
        self.assertEqual((run.source_kind, str(run.source_id), run.patient_id), ("session", str(session.code), self.patient.pk))

    def test_the_memory_source_never_includes_process_notes(self) -> None:
        session = make_session(self.patient, self.alice, note="Notiz")
        services.save_note(session=session, text="privat", revision=0, field="process_notes", request=self.request)
        self.assertIsNone(services.memory_source(str(session.code)))  # not closed yet
        services.close_session(session=session, request=self.request)
        patient, text, user, date = services.memory_source(str(session.code))
        self.assertEqual((patient.pk, text, user, date), (self.patient.pk, "Notiz", self.alice, session.date))


class CrisisCueTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.request = fake_request(self.alice, self.practice)
        self.session = make_session(self.patient, self.alice)

    def test_an_acute_note_raises_the_one_crisis_event(self) -> None:
        result = services.save_note(session=self.session, text="Pat. äußert konkrete Suizidgedanken mit Plan.", revision=0, request=self.request)
        self.assertTrue(result.crisis)
        event = CrisisEvent.objects.get()
        event.patient = self.patient
        self.assertEqual((event.source, event.source_id), ("session_note", str(self.session.code)))
        self.assertIn("Suizid", event.summary)
        # A second save of the same session does not raise a second event.
        services.save_note(session=self.session, text="Pat. äußert konkrete Suizidgedanken mit Plan. Krisenplan.", revision=1, request=self.request)
        self.assertEqual(CrisisEvent.objects.count(), 1)

    def test_negated_suicidality_raises_nothing(self) -> None:
        for i, text in enumerate(["Suizidalität verneint.", "Keine akute Suizidalität, distanziert sich glaubhaft."]):
            result = services.save_note(session=self.session, text=text, revision=i, request=self.request)
            self.assertFalse(result.crisis)
        self.assertFalse(CrisisEvent.objects.exists())

    def test_a_question_raises_it_too(self) -> None:
        services.ask(session=self.session, question="Sie sagt, sie will sich umbringen – was tun?", request=self.request)
        self.assertEqual(CrisisEvent.objects.get().source_id, str(self.session.code))
        # Note and further questions of the same session do not open a second event.
        services.save_note(session=self.session, text="Pat. äußert konkrete Suizidgedanken mit Plan.", revision=0, request=self.request)
        services.ask(session=self.session, question="Sie hat sich Tabletten zurückgelegt, um sich das Leben zu nehmen.", request=self.request)
        self.assertEqual(CrisisEvent.objects.count(), 1)


class SessionModelTestCase(BaseTestCase):
    def test_str_never_shows_content(self) -> None:
        session = make_session(self.patient, self.alice, note="Vertraulich")
        self.assertNotIn("Vertraulich", str(session))
        self.assertTrue(str(TherapySession.objects.get(pk=session.pk)).startswith("TherapySession "))


class AIMarkingTestCase(BaseTestCase):
    def test_segments_keep_ai_text_apart(self) -> None:
        import datetime as _dt

        block = services.ai_block("Vorschlag A", edited=False, when=_dt.datetime(2026, 3, 2, 10, 15))
        note = f"Eigene Notiz.\n\n{block}\nNachtrag."
        self.assertEqual(services.split_ai_segments(note), [
            (False, "", "Eigene Notiz.\n\n"),
            (True, "KI-generiert, übernommen 02.03.2026 10:15, unverändert", "Vorschlag A"),
            (False, "", "\nNachtrag."),
        ])

    def test_browser_line_breaks_are_stored_as_lf(self) -> None:
        session = make_session(self.patient, self.alice)
        services.save_note(session=session, text="Zeile 1\r\nZeile 2", revision=0, request=fake_request(self.alice, self.practice))
        self.assertEqual(reload(session).note, "Zeile 1\nZeile 2")
