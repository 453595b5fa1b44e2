"""Every memory endpoint: works, rejects the wrong method, 403 for the assistant (Bob), 404 for
another practice (Charlie) with nothing changed; bad input: German message, 422, nothing saved."""

from __future__ import annotations

import uuid

from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.urls import reverse
from html.parser import HTMLParser

from duktus.models import AuditEntry
from memory import services
from memory.models import EntryStatus, ExtractionRun, MemoryEntry, PatientSummary
from tests.base import BaseTestCase, make_patient
from tests.memory.helpers import FakeSource, make_entry

HX = {"HX-Request": "true"}


def ids(html: str) -> set[str]:
    found: set[str] = set()

    class P(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.update(v for k, v in attrs if k == "id" and v)

    P().feed(html)
    return found


class MemoryViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.entry = make_entry(self.patient, text="Grübelt abends über die Arbeit.")

    def status_of(self, entry: MemoryEntry | None = None) -> str:
        return MemoryEntry.objects.get(pk=(entry or self.entry).pk).status


class PatientPageTestCase(MemoryViewTestCase):
    def test_it_shows_the_section_to_clinicians(self) -> None:
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, "Klinisches Gedächtnis")
        self.assertContains(r, "Was wissen wir über Schlaf?")
        self.assertContains(r, "Grübelt abends über die Arbeit.")
        self.assertIn("memory", ids(r.content.decode()))

    def test_assistant_sees_no_memory(self) -> None:
        self.login(self.bob)
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertEqual(r.status_code, 200)
        self.assertNotContains(r, "Klinisches Gedächtnis")
        self.assertNotContains(r, "Grübelt")

    def test_open_crisis_events_show_as_warnings(self) -> None:
        from patients.crisis import raise_crisis

        raise_crisis(patient=self.patient, source="manual", source_id="m1", summary="Äußert Suizidgedanken")
        r = self.client.get(reverse("memory:section", args=[self.patient.code]), headers=HX)
        self.assertIn("memory-crisis", ids(r.content.decode()))
        self.assertContains(r, "Äußert Suizidgedanken")

    def test_section_query_count_does_not_grow_with_entries(self) -> None:
        url = reverse("memory:section", args=[self.patient.code])
        for i in range(5):
            make_entry(self.patient, text=f"Eintrag Nummer {i}", status=EntryStatus.CONFIRMED)
        self.client.get(url, headers=HX)
        with CaptureQueriesContext(connection) as first:
            self.client.get(url, headers=HX)
        for i in range(5):
            make_entry(self.patient, text=f"Weiterer Eintrag {i}", status=EntryStatus.CONFIRMED, user=self.olga)
        with CaptureQueriesContext(connection) as second:
            self.client.get(url, headers=HX)
        self.assertEqual(len(first), len(second))


class SectionTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:section", args=[self.patient.code])

    def test_it_works(self) -> None:
        r = self.client.get(self.url(), headers=HX)
        self.assertIn(f"entry-{self.entry.code}", ids(r.content.decode()))
        self.assertTrue(AuditEntry.objects.filter(action="memory.view").exists())

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)

    def test_unassigned_therapist_gets_403(self) -> None:
        other = make_patient(self.practice, therapist=self.olga)
        self.assertEqual(self.client.get(reverse("memory:section", args=[other.code])).status_code, 403)


class ReviewTestCase(MemoryViewTestCase):
    def url(self, entry: MemoryEntry | None = None) -> str:
        return reverse("memory:review", args=[self.patient.code, (entry or self.entry).code])

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), {"action": "confirm"}, headers=HX)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.status_of(), "confirmed")
        html = r.content.decode()
        self.assertIn("memory", ids(html))
        self.assertIn("memory-confirmed", ids(html))
        self.assertIn("Grübelt abends", html)

    def test_every_action(self) -> None:
        for action, expected in (("confirm", "confirmed"), ("outdated", "outdated"), ("restore", "confirmed"),
                                 ("reject", "rejected"), ("reopen", "proposed"), ("reject", "rejected")):
            self.client.post(self.url(), {"action": action}, headers=HX)
            self.assertEqual(self.status_of(), expected, action)

    def test_without_htmx_it_redirects(self) -> None:
        r = self.client.post(self.url(), {"action": "reject"})
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]) + "#memory", fetch_redirect_response=False)

    def test_bad_action_is_422(self) -> None:
        r = self.client.post(self.url(), {"action": "loeschen"}, headers=HX)
        self.assertContains(r, "Unbekannte Aktion.", status_code=422)
        r = self.client.post(self.url(), {"action": "outdated"}, headers=HX)  # proposed → outdated
        self.assertContains(r, "Statuswechsel ist nicht möglich", status_code=422)
        self.assertEqual(self.status_of(), "proposed")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"action": "confirm"}).status_code, 403)
        self.assertEqual(self.status_of(), "proposed")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"action": "confirm"}).status_code, 404)
        self.assertEqual(self.status_of(), "proposed")

    def test_an_entry_of_another_patient_is_404(self) -> None:
        other = make_patient(self.practice, therapist=self.alice, last_name="Zweite")
        theirs = make_entry(other)
        r = self.client.post(reverse("memory:review", args=[self.patient.code, theirs.code]), {"action": "confirm"})
        self.assertEqual(r.status_code, 404)
        self.assertEqual(self.status_of(theirs), "proposed")


class EntryEditTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:entry_edit", args=[self.patient.code, self.entry.code])

    def text(self) -> str:
        e = MemoryEntry.objects.get(pk=self.entry.pk)
        e.patient = self.patient
        return e.text

    def test_it_works(self) -> None:
        r = self.client.get(self.url(), headers=HX)
        self.assertIn(f"entry-{self.entry.code}", ids(r.content.decode()))
        self.assertContains(r, "Grübelt abends über die Arbeit.")
        self.assertContains(self.client.get(self.url()), "Gedächtniseintrag bearbeiten")  # full page
        r = self.client.post(self.url(), {"type": "clinical_fact", "text": "Grübelt abends, v. a. sonntags.", "date": "2026-03-04"}, headers=HX)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.text(), "Grübelt abends, v. a. sonntags.")
        self.assertEqual(self.status_of(), "proposed")

    def test_goal_fields(self) -> None:
        goal = services.create_goal(patient=self.patient, text="Wieder joggen gehen")
        url = reverse("memory:entry_edit", args=[self.patient.code, goal.code])
        r = self.client.post(url, {"type": "therapeutic_goal", "text": "Dreimal pro Woche joggen", "goal_target": "3×/Woche",
                                   "attainment_scale": "percent", "attainment": "40"}, headers=HX)
        self.assertEqual(r.status_code, 200)
        g = MemoryEntry.objects.get(pk=goal.pk)
        g.patient = self.patient
        self.assertEqual((g.goal_target, g.attainment, g.attainment_scale), ("3×/Woche", 40, "percent"))
        self.assertContains(r, "40 %")

    def test_bad_input_is_422(self) -> None:
        r = self.client.post(self.url(), {"type": "clinical_fact", "text": "x"}, headers=HX)
        self.assertContains(r, "Der Eintrag ist zu kurz", status_code=422)
        self.assertEqual(r["HX-Retarget"], f"#entry-{self.entry.code}")
        r = self.client.post(self.url(), {"type": "therapeutic_goal", "text": "Ziel: joggen", "attainment_scale": "gas", "attainment": "5"})
        self.assertContains(r, "zwischen -2 und 2", status_code=422)
        self.assertEqual(self.text(), "Grübelt abends über die Arbeit.")

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url()).status_code, 403)
        self.assertEqual(self.client.post(self.url(), {"type": "clinical_fact", "text": "geändert"}).status_code, 403)
        self.assertEqual(self.text(), "Grübelt abends über die Arbeit.")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"type": "clinical_fact", "text": "geändert"}).status_code, 404)
        self.assertEqual(self.text(), "Grübelt abends über die Arbeit.")


class EntryAddTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:entry_add", args=[self.patient.code])

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), {"type": "resource", "text": "Singt im Chor."}, headers=HX)
        self.assertEqual(r.status_code, 200)
        e = MemoryEntry.objects.get(type="resource")
        self.assertEqual((e.status, e.source_kind, e.confirmed_by), ("confirmed", "manual", self.alice))
        self.assertContains(r, "Singt im Chor.")

    def test_a_goal_with_smart_fields(self) -> None:
        self.client.post(self.url(), {"type": "therapeutic_goal", "text": "Allein einkaufen", "goal_measure": "Einkäufe ohne Begleitung",
                                      "goal_due": "2026-10-01", "attainment_scale": "gas", "attainment": "-1"}, headers=HX)
        g = MemoryEntry.objects.get(type="therapeutic_goal")
        g.patient = self.patient
        self.assertEqual((g.goal_measure, str(g.goal_due), g.attainment), ("Einkäufe ohne Begleitung", "2026-10-01", -1))

    def test_bad_input_is_422(self) -> None:
        r = self.client.post(self.url(), {"type": "diagnose", "text": ""}, headers=HX)
        self.assertContains(r, "Bitte eine gültige Art wählen.", status_code=422)
        self.assertContains(r, "Bitte einen Text eingeben.", status_code=422)
        self.assertEqual(MemoryEntry.objects.count(), 1)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"type": "resource", "text": "Singt im Chor."}).status_code, 403)
        self.assertEqual(MemoryEntry.objects.count(), 1)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"type": "resource", "text": "Singt im Chor."}).status_code, 404)
        self.assertEqual(MemoryEntry.objects.count(), 1)


class SearchViewTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:search", args=[self.patient.code])

    def test_it_works(self) -> None:
        make_entry(self.patient, text="Schlafstörungen seit dem Frühjahr.", status=EntryStatus.CONFIRMED)
        r = self.client.post(self.url(), {"q": "Was wissen wir über Schlaf?"}, headers=HX)
        html = r.content.decode()
        self.assertIn("memory-hits", ids(html))
        self.assertLess(html.index("Schlafstörungen seit dem Frühjahr."), html.index("Grübelt abends"))
        self.assertIn("vorgeschlagen", html)  # the proposal is marked as such
        self.assertIn("vergleicht Wortbestandteile", html)  # the offline backend says what it cannot do
        audit = AuditEntry.objects.get(action="memory.search")
        self.assertNotIn("Schlaf", audit.detail)
        self.assertContains(self.client.post(self.url(), {"q": "Schlaf"}), "durchsuchen")  # full page

    def test_bad_input_is_422(self) -> None:
        r = self.client.post(self.url(), {"q": "x"}, headers=HX)
        self.assertContains(r, "mindestens 2 Zeichen", status_code=422)

    def test_it_rejects_get(self) -> None:
        # The question is patient content: never in a URL.
        self.assertEqual(self.client.get(self.url(), {"q": "Schlaf"}).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"q": "Schlaf"}).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"q": "Schlaf"}).status_code, 404)


class SummaryViewTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:summary", args=[self.patient.code])

    def test_it_works(self) -> None:
        self.assertContains(self.client.get(self.url()), "Noch keine Version.")
        r = self.client.post(self.url(), {"text": "Kurze Fallkonzeption."})
        self.assertRedirects(r, reverse("patients:detail", args=[self.patient.code]) + "#memory", fetch_redirect_response=False)
        s = PatientSummary.objects.get()
        s.patient = self.patient
        self.assertEqual((s.text, s.author, s.created_by), ("Kurze Fallkonzeption.", "human", self.alice))
        self.assertContains(self.client.get(self.url()), "Version 1")

    def test_bad_input_is_422(self) -> None:
        r = self.client.post(self.url(), {"text": ""})
        self.assertContains(r, "darf nicht leer sein", status_code=422)
        self.assertFalse(PatientSummary.objects.exists())

    def test_it_rejects_put(self) -> None:
        self.assertEqual(self.client.put(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"text": "x y"}).status_code, 403)
        self.assertFalse(PatientSummary.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"text": "x y"}).status_code, 404)
        self.assertFalse(PatientSummary.objects.exists())


class SummaryRebuildTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:summary_rebuild", args=[self.patient.code])

    def test_it_works(self) -> None:
        services.confirm_entry(entry=self.entry)
        services.save_summary(patient=self.patient, text="Eigene Fassung")
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.url(), headers=HX)
        self.assertEqual(r.status_code, 200)
        latest = PatientSummary.objects.order_by("-version").first()
        self.assertEqual((latest.version, latest.author, latest.created_by), (2, "list", self.alice))

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.client.post(self.url()).status_code, 403)
        self.assertFalse(PatientSummary.objects.exists())

    def test_it_checks_ownership(self) -> None:
        services.confirm_entry(entry=self.entry)
        self.login(self.charlie)
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(self.client.post(self.url()).status_code, 404)
        self.assertFalse(PatientSummary.objects.exists())


class RunRetryTestCase(MemoryViewTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.source = FakeSource("document")
        self.addCleanup(self.source.close)
        sid = self.source.add(self.patient, "Text ohne Modell.", self.alice)
        # Without a configured model the gateway refuses: the run fails with "refused".
        services.extract_from_source(source_kind="document", source_id=sid)
        self.run = ExtractionRun.objects.get()

    def url(self) -> str:
        return reverse("memory:run_retry", args=[self.patient.code, self.run.code])

    def test_it_works(self) -> None:
        self.assertEqual((self.run.status, self.run.error_kind), ("failed", "refused"))
        self.assertContains(self.client.get(reverse("memory:section", args=[self.patient.code]), headers=HX), "fehlgeschlagen: Nicht gesendet: KI nicht eingerichtet")
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.url(), headers=HX)
        self.assertEqual(r.status_code, 200)
        self.run.refresh_from_db()
        self.assertEqual(self.run.status, "failed")  # still no model: tried again, refused again
        self.assertTrue(AuditEntry.objects.filter(action="memory.extract_retry").exists())

    def test_a_finished_run_is_422(self) -> None:
        ExtractionRun.objects.filter(pk=self.run.pk).update(status="done")
        r = self.client.post(self.url(), headers=HX)
        self.assertContains(r, "Nur fehlgeschlagene Auswertungen", status_code=422)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url()).status_code, 404)
        self.assertEqual(reverse("memory:run_retry", args=[self.patient.code, uuid.uuid4()]).count("/"), 6)


class EntriesListTestCase(MemoryViewTestCase):
    def url(self) -> str:
        return reverse("memory:entries", args=[self.patient.code])

    def test_it_works(self) -> None:
        for i in range(12):
            make_entry(self.patient, text=f"Befund Nummer {i:02d}", status=EntryStatus.CONFIRMED)
        section = self.client.get(reverse("memory:section", args=[self.patient.code]), headers=HX).content.decode()
        self.assertEqual(section.count("Befund Nummer"), 10)  # the section shows the newest ten per type
        self.assertIn("alle 12 anzeigen", section)
        r = self.client.get(self.url(), {"type": "clinical_fact"})
        self.assertEqual(r.content.decode().count("Befund Nummer"), 12)
        self.assertNotContains(r, "Grübelt abends")  # a proposal, not confirmed
        self.assertNotContains(r, "hx-post")  # plain forms on the list page
        self.assertTrue(AuditEntry.objects.filter(action="memory.list", detail="clinical_fact").exists())
        services.reject_entry(entry=self.entry)
        self.assertContains(self.client.get(self.url(), {"status": "archiv"}), "Grübelt abends")

    def test_bad_input_is_422(self) -> None:
        self.assertContains(self.client.get(self.url(), {"type": "diagnose"}), "Unbekannte Art", status_code=422)

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url()).status_code, 404)
