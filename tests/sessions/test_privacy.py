"""Sessions in the patient's data export (process notes listed apart) and in erasure."""

from __future__ import annotations

import datetime as dt

from duktus.privacy import erasure, export
from patients.models import Patient
from sessions import services
from sessions.models import AIRequest, NoteVersion, TherapySession
from tests.base import BaseTestCase
from tests.privacy.helpers import IsolatedFilesMixin
from tests.sessions.helpers import fake_request, make_session, reload


class SessionPrivacyTestCase(IsolatedFilesMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        request = fake_request(self.alice, self.practice)
        self.session = make_session(self.patient, self.alice, note="Notiz zur Sitzung")
        services.save_note(session=self.session, text="Meine Gegenübertragung", revision=0, field="process_notes", request=request)
        item = services.ask(session=self.session, question="Welche Hausaufgaben?", request=request)
        item.session = self.session
        services.close_session(session=reload(self.session), request=request)
        services.correct_note(session=reload(self.session), text="Notiz zur Sitzung (korrigiert)", reason="Ergänzung", request=request)

    def test_export_lists_sessions_versions_ai_requests_and_process_notes_apart(self) -> None:
        data, _files = export.collect(self.patient, withheld=[])
        parts = data["parts"]
        self.assertEqual(parts["therapy_sessions"][0]["note"], "Notiz zur Sitzung (korrigiert)")
        self.assertNotIn("process_notes", parts["therapy_sessions"][0])
        self.assertEqual([v["kind"] for v in parts["session_note_versions"]], ["Original", "Korrektur"])
        self.assertEqual(parts["session_note_versions"][0]["text"], "Notiz zur Sitzung")
        self.assertEqual(parts["session_ai_requests"][0]["question"], "Welche Hausaufgaben?")
        self.assertTrue(parts["session_ai_requests"][0]["ai_generated"])
        separate = data["separate_parts"]["session_process_notes"]
        self.assertEqual(separate["category"], "process_notes")
        self.assertEqual(separate["rows"][0]["process_notes"], "Meine Gegenübertragung")

    def test_process_notes_can_be_withheld(self) -> None:
        data, _files = export.collect(self.patient, withheld=["process_notes"], withheld_reason="§ 630g Abs. 1 BGB")
        self.assertTrue(data["separate_parts"]["session_process_notes"]["withheld"])
        self.assertEqual(data["separate_parts"]["session_process_notes"]["rows"], [])

    def test_erasure_removes_every_session_row(self) -> None:
        Patient.objects.filter(pk=self.patient.pk).update(treatment_end=dt.date(2010, 1, 1))
        self.patient.refresh_from_db()
        erasure.erase(request=None, patient=self.patient, actor=self.olga)
        self.assertFalse(TherapySession.objects.exists())
        self.assertFalse(NoteVersion.objects.exists())
        self.assertFalse(AIRequest.objects.exists())
