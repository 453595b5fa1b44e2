"""Session pages: create, live view, start, autosave, close, corrections (personas per view)."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from duktus.models import AuditEntry
from patients import services as patient_services
from patients.crisis import CrisisEvent
from sessions.models import NoteVersion, TherapySession
from tests.base import BaseTestCase
from tests.sessions.helpers import make_session, reload


class SessionCreateTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.approval = patient_services.add_approval(patient=self.patient, phase="kzt1", approved_sessions=24,
                                                      approved_on=dt.date(2026, 1, 5), sessions_used=6)
        self.url = reverse("sessions:create", args=[self.patient.code])
        self.data = {"date": "2026-03-02", "duration_minutes": "50", "setting": "einzel", "approval": str(self.approval.code), "start": "1"}

    def test_it_works(self) -> None:
        r = self.client.get(self.url)
        self.assertContains(r, "Neue Sitzung")
        r = self.client.post(self.url, self.data)
        session = TherapySession.objects.get()
        self.assertRedirects(r, reverse("sessions:detail", args=[session.code]))
        self.assertEqual((session.status, session.number, session.setting), ("running", 7, "einzel"))

    def test_it_preselects_a_bewilligung_with_sessions_left(self) -> None:
        used_up = patient_services.add_approval(patient=self.patient, phase="kzt2", approved_sessions=12,
                                                approved_on=dt.date(2026, 2, 5), sessions_used=12)
        html = self.client.get(self.url).content.decode()
        self.assertIn(f'value="{self.approval.code}" selected', html)
        self.assertNotIn(f'value="{used_up.code}" selected', html)
        self.assertIn('value="' + timezone.localdate().isoformat() + '"', html)  # the date field is filled in

    def test_bad_input_is_422_and_nothing_saved(self) -> None:
        r = self.client.post(self.url, {**self.data, "duration_minutes": "2", "setting": "fantasie"})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Mindestens 5 Minuten.", status_code=422)
        self.assertContains(r, "Es wurde nichts gespeichert.", status_code=422)
        self.assertFalse(TherapySession.objects.exists())

    def test_it_rejects_another_patients_approval(self) -> None:
        other = patient_services.add_approval(patient=self.make_other(), phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 5))
        r = self.client.post(self.url, {**self.data, "approval": str(other.code)})
        self.assertEqual(r.status_code, 422)
        self.assertFalse(TherapySession.objects.exists())

    def make_other(self):  # type: ignore[no-untyped-def]
        from tests.base import make_patient

        return make_patient(self.practice, therapist=self.alice, first_name="Ole", last_name="Brandt")

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, self.data).status_code, 403)
        self.assertFalse(TherapySession.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, self.data).status_code, 404)
        self.assertFalse(TherapySession.objects.exists())

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url).status_code, 405)


class SessionDetailTestCase(BaseTestCase):
    def test_it_works_for_each_state(self) -> None:
        session = make_session(self.patient, self.alice, running=False)
        url = reverse("sessions:detail", args=[session.code])
        self.assertContains(self.client.get(url), "Sitzung beginnen")
        self.client.post(reverse("sessions:start", args=[session.code]))
        r = self.client.get(url)
        self.assertContains(r, 'id="live-session"')
        self.assertContains(r, 'data-autosave="note"')
        self.assertContains(r, "nie an die KI gesendet")
        self.assertContains(r, "Kein KI-Modell konfiguriert")  # the embedded default has no model
        self.assertContains(r, "js/session_live.js")
        # The crisis cue's limits are stated where the therapist writes (held-out recall is low).
        self.assertContains(r, 'id="crisis-cue-limit"')
        self.assertContains(r, "Kein Krisenhinweis heißt nicht, dass kein Risiko besteht")
        self.assertTrue(AuditEntry.objects.filter(action="session.view", object_id=str(session.code)).exists())

    def test_it_requires_clinical_role(self) -> None:
        session = make_session(self.patient, self.alice)
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("sessions:detail", args=[session.code])).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        session = make_session(self.patient, self.alice)
        self.login(self.charlie)
        self.assertEqual(self.client.get(reverse("sessions:detail", args=[session.code])).status_code, 404)

    def test_owner_sees_every_session_of_the_practice(self) -> None:
        session = make_session(self.patient, self.alice)
        self.login(self.olga)
        self.assertEqual(self.client.get(reverse("sessions:detail", args=[session.code])).status_code, 200)

    def test_it_rejects_post(self) -> None:
        session = make_session(self.patient, self.alice)
        self.assertEqual(self.client.post(reverse("sessions:detail", args=[session.code])).status_code, 405)

    def test_patient_timeline_lists_sessions(self) -> None:
        running = make_session(self.patient, self.alice, date=dt.date(2026, 3, 9))
        make_session(self.patient, self.alice, running=False, date=dt.date(2026, 3, 16))
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, 'id="sessions-timeline"')
        self.assertContains(r, "09.03.2026")
        self.assertContains(r, "16.03.2026")
        self.assertContains(r, "Live-Ansicht öffnen", count=1)
        self.assertContains(r, reverse("sessions:detail", args=[running.code]))


class SessionStartTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.session = make_session(self.patient, self.alice, running=False)
        self.url = reverse("sessions:start", args=[self.session.code])

    def test_it_works(self) -> None:
        self.assertRedirects(self.client.post(self.url), reverse("sessions:detail", args=[self.session.code]))
        self.assertEqual(reload(self.session).status, "running")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url).status_code, 403)
        self.assertEqual(reload(self.session).status, "planned")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.assertEqual(reload(self.session).status, "planned")


class NoteSaveTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.session = make_session(self.patient, self.alice)
        self.url = reverse("sessions:note_save", args=[self.session.code])

    def save(self, text: str, revision: int = 0, field: str = "note"):  # type: ignore[no-untyped-def]
        return self.client.post(self.url, {"field": field, "text": text, "revision": str(revision)})

    def test_it_works(self) -> None:
        r = self.save("Erster Satz.")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["revision"], 1)
        self.assertFalse(r.json()["crisis"])
        self.assertEqual(reload(self.session).note, "Erster Satz.")
        self.assertEqual(self.save("Erster Satz. Zweiter.", 1).json()["revision"], 2)

    def test_process_notes_are_saved_apart(self) -> None:
        self.assertEqual(self.save("Gegenübertragung: Ärger", field="process_notes").status_code, 200)
        session = reload(self.session)
        self.assertEqual((session.note, session.process_notes), ("", "Gegenübertragung: Ärger"))

    def test_a_stale_revision_is_409_and_nothing_overwritten(self) -> None:
        self.save("Fenster A")
        r = self.save("Fenster B", 0)
        self.assertEqual(r.status_code, 409)
        self.assertIn("anderen Fenster", r.json()["error"])
        self.assertEqual(reload(self.session).note, "Fenster A")

    def test_bad_input_is_422_and_nothing_saved(self) -> None:
        r = self.client.post(self.url, {"field": "diagnosis", "text": "x", "revision": "0"})
        self.assertEqual(r.status_code, 422)
        self.assertTrue(r.json()["error"])
        self.assertEqual(reload(self.session).note, "")

    def test_an_expired_login_answers_401_not_a_redirect(self) -> None:
        Session.objects.all().delete()  # what idle expiry does
        r = self.save("Text, der nicht verloren gehen darf")
        self.assertEqual(r.status_code, 401)
        self.assertTrue(r.json()["login"])
        self.assertEqual(reload(self.session).note, "")

    def test_the_token_endpoint_gives_a_fresh_csrf_token_after_login(self) -> None:
        r = self.client.get(reverse("sessions:csrf_token"))
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.json()["csrf"])
        self.client.logout()
        self.assertEqual(self.client.get(reverse("sessions:csrf_token")).status_code, 401)

    def test_an_acute_note_reports_the_crisis(self) -> None:
        r = self.save("Sie hat sich Tabletten zurückgelegt, um sich das Leben zu nehmen.")
        self.assertTrue(r.json()["crisis"])
        self.assertEqual(CrisisEvent.objects.get().source, "session_note")
        banner = self.client.get(reverse("sessions:crisis", args=[self.session.code]))
        self.assertContains(banner, 'id="crisis-banner"')
        self.assertContains(banner, "0800 111 0 111")
        self.assertContains(banner, "112")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.save("x").status_code, 403)
        self.assertEqual(reload(self.session).note, "")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.save("x").status_code, 404)
        self.assertEqual(reload(self.session).note, "")


class SessionCloseTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.session = make_session(self.patient, self.alice, note="Abschlussnotiz")
        self.url = reverse("sessions:close", args=[self.session.code])

    def test_it_works(self) -> None:
        r = self.client.post(self.url, follow=True)
        self.assertContains(r, "als Version 1 festgeschrieben")
        self.assertContains(r, "Version 1 · Original")
        self.assertNotContains(r, 'data-autosave="note"')
        self.assertContains(r, 'data-autosave="process_notes"')
        self.assertEqual(NoteVersion.objects.get().kind, "original")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url).status_code, 403)
        self.assertEqual(reload(self.session).status, "running")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url).status_code, 404)
        self.assertEqual(reload(self.session).status, "running")


class NoteCorrectTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.session = make_session(self.patient, self.alice, note="PHQ-9: 14")
        self.client.post(reverse("sessions:close", args=[self.session.code]))
        self.url = reverse("sessions:correct", args=[self.session.code])

    def test_it_works_and_shows_original_date_and_author(self) -> None:
        r = self.client.post(self.url, {"text": "PHQ-9: 15", "reason": "Zahlendreher"}, follow=True)
        self.assertContains(r, "Korrektur gespeichert")
        self.assertContains(r, "Version 2 · Korrektur")
        self.assertContains(r, "Grund: Zahlendreher")
        self.assertContains(r, "alice@example.org")
        self.assertContains(r, "PHQ-9: 14")  # the original stays readable
        self.assertEqual(NoteVersion.objects.count(), 2)

    def test_bad_input_is_422_and_nothing_saved(self) -> None:
        r = self.client.post(self.url, {"text": "PHQ-9: 15", "reason": ""})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Bitte den Grund der Korrektur angeben.", status_code=422)
        r = self.client.post(self.url, {"text": "PHQ-9: 14", "reason": "nichts"})
        self.assertContains(r, "unverändert", status_code=422)
        self.assertEqual(NoteVersion.objects.count(), 1)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url, {"text": "x", "reason": "y"}).status_code, 403)
        self.assertEqual(NoteVersion.objects.count(), 1)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url, {"text": "x", "reason": "y"}).status_code, 404)
        self.assertEqual(NoteVersion.objects.count(), 1)


class TimelineQueryCountTestCase(BaseTestCase):
    def test_more_sessions_cost_no_more_queries(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        url = reverse("patients:detail", args=[self.patient.code])
        for i in range(3):
            make_session(self.patient, self.alice, running=False, date=dt.date(2026, 3, 1) + dt.timedelta(days=i))
        self.client.get(url)  # warm caches (keys)
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        for i in range(6):
            make_session(self.patient, self.alice, running=False, date=dt.date(2026, 4, 1) + dt.timedelta(days=i))
        with CaptureQueriesContext(connection) as many:
            r = self.client.get(url)
        self.assertContains(r, "data-session=", count=9)
        self.assertEqual(len(many.captured_queries), len(few.captured_queries))
