from __future__ import annotations

import json
import re

from django.urls import reverse

from documents import definitions, services
from documents.models import AuthorKind, Document, DocumentVersion, Provenance, VersionKind
from duktus.models import LLMCall
from tests.documents.helpers import fill_record, make_document
from tests.llm.base import LLMTestCase

MARKER_LINE = re.compile(r"^\[fehlt: [^\]]+\]$")


class EmptyRecordTestCase(LLMTestCase):
    def test_a_draft_from_an_empty_record_has_markers_not_findings(self) -> None:
        doc = make_document(self.pat, self.alice, "risikobewertung")
        for section in definitions.get("risikobewertung").sections():
            services.draft_section(document=doc, key=section.key, user=self.alice)
        doc = Document.objects.get(pk=doc.pk)
        doc.patient = self.pat
        for key, text in doc.sections.items():
            lines = [line for line in text.splitlines() if line.strip()]
            self.assertTrue(lines, key)
            for line in lines:
                self.assertRegex(line, MARKER_LINE, f"{key}: prose instead of a marker")
        self.assertIn("[fehlt: Fragebogenergebnisse (letzte Werte)]", doc.sections["einschaetzung"])
        # Nothing to draft from, so nothing was sent: no model can invent a finding.
        self.assertEqual(self.llm.requests, [])
        self.assertEqual(set(doc.provenance.values()), {Provenance.AI})

    def test_the_prompt_forbids_invention_and_names_what_is_missing(self) -> None:
        self.llm.reply("[fehlt: Beruf] [fehlt: Familienstand] [fehlt: Zahl der Kinder]")
        doc = make_document(self.pat, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        services.draft_section(document=doc, key="p1_soziodemographie", user=self.alice)
        self.assertEqual(len(self.llm.requests), 1)
        system, user = self.llm.requests[0]["body"]["messages"]
        self.assertIn("Erfinde keine Befunde", system["content"])
        self.assertIn("[fehlt: <was fehlt>]", system["content"])
        self.assertIn("pseudonymisiert", system["content"])
        self.assertIn("In der Akte liegen keine Angaben vor zu: Gedächtniseinträge", user["content"])
        self.assertIn("Geschlecht: weiblich", user["content"])
        self.assertIn("Alter: ", user["content"])  # the gateway's anonymizer coarsens the age band
        self.assertNothingLeaked()
        doc = Document.objects.get(pk=doc.pk)
        doc.patient = self.pat
        self.assertEqual(doc.sections["p1_soziodemographie"], "[fehlt: Beruf] [fehlt: Familienstand] [fehlt: Zahl der Kinder]")


class DraftWithRecordTestCase(LLMTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_record(self.pat, self.alice)
        self.doc = make_document(self.pat, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")

    def fresh(self) -> Document:
        doc = Document.objects.get(pk=self.doc.pk)
        doc.patient = self.pat
        return doc

    def test_it_drafts_through_the_documentation_role_with_sources(self) -> None:
        self.llm.reply("Die Patientin erreichte im PHQ-9 zuletzt 8 Punkte (leicht). [fehlt: psychischer Befund]")
        url = reverse("documents:draft", args=[self.doc.code])
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(url, {"section": "p2_symptomatik"}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 200)
        # The task runs after the response (here: when the on-commit callbacks run): the region polls.
        self.assertContains(r, 'hx-trigger="every 2s"')
        r = self.client.get(reverse("documents:section_status", args=[self.doc.code, "p2_symptomatik"]), HTTP_HX_REQUEST="true")
        doc = self.fresh()
        self.assertEqual(doc.sections["p2_symptomatik"], "Die Patientin erreichte im PHQ-9 zuletzt 8 Punkte (leicht). [fehlt: psychischer Befund]")
        self.assertEqual(doc.provenance["p2_symptomatik"], Provenance.AI)
        kinds = {s["kind"] for s in doc.sources["p2_symptomatik"]}
        self.assertEqual(kinds, {"assessment"})
        call = LLMCall.objects.get()
        self.assertEqual((call.role, call.status), ("documentation", "ok"))
        version = DocumentVersion.objects.filter(document=doc).order_by("-number").first()
        self.assertEqual((version.kind, version.author_kind, version.author), (VersionKind.AI_DRAFT, AuthorKind.AI, self.alice))
        sent = self.llm.requests[0]["body"]["messages"][1]["content"]
        self.assertIn("PHQ-9 am 20.03.2026: 8 (leicht)", sent)
        self.assertNothingLeaked()
        # The returned region lists the sources (openable) and shows the marker badge.
        self.assertContains(r, 'id="section-p2_symptomatik"')
        self.assertContains(r, "PHQ-9 vom 20.03.2026")
        self.assertContains(r, reverse("assessments:trend", args=[self.pat.code, "phq9"]))
        self.assertContains(r, "enthält [fehlt: …]")
        self.assertContains(r, "KI-Entwurf")

    def test_numbers_and_codes_not_in_the_sources_are_flagged(self) -> None:
        self.llm.reply("Im PHQ-9 zuletzt 8 Punkte, im BDI-II 31 Punkte; Diagnose F33.1 seit 04.02.2025. [fehlt: Befund 12]")
        services.draft_section(document=self.doc, key="p2_symptomatik", user=self.alice)
        doc = self.fresh()
        self.assertEqual(doc.unverified["p2_symptomatik"], ["31", "F33.1", "04.02.2025"])
        page = self.client.get(self.doc.get_absolute_url())
        self.assertContains(page, "Bitte prüfen – nicht in den Quellen gefunden: 31, F33.1, 04.02.2025")
        # Once the therapist removes the invented value, its hint goes too.
        services.update_section(document=doc, key="p2_symptomatik", user=self.alice,
                                text="Im PHQ-9 zuletzt 8 Punkte; Diagnose F33.1 seit 04.02.2025.")
        page = self.client.get(self.doc.get_absolute_url())
        self.assertContains(page, "nicht in den Quellen gefunden: F33.1, 04.02.2025")
        raw = Document.objects.filter(pk=doc.pk).values_list("unverified_ct", flat=True).get()
        self.assertNotIn("F33.1", raw)  # encrypted at rest

    def test_sources_can_be_opened(self) -> None:
        self.llm.reply("F32.1 G, mittelgradige depressive Episode.")
        services.draft_section(document=self.doc, key="p5_diagnose", user=self.alice)
        ref = self.fresh().sources["p5_diagnose"][0]
        self.assertEqual(ref["kind"], "diagnosis")
        page = self.client.get(self.doc.get_absolute_url())
        url = reverse("documents:source", args=[self.doc.code, "diagnosis", ref["code"]])
        self.assertContains(page, url)
        r = self.client.get(url)
        self.assertContains(r, "F32.1 G")
        self.login(self.charlie)
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_regenerate_one_section(self) -> None:
        self.llm.reply("Erster Entwurf.")
        services.draft_section(document=self.doc, key="p6_behandlungsplan", user=self.alice)
        services.update_section(document=self.doc, key="p6_behandlungsplan", text="Erster Entwurf, ergänzt.", user=self.alice)
        self.assertEqual(self.fresh().provenance["p6_behandlungsplan"], Provenance.AI_EDITED)
        self.llm.reply("Zweiter Entwurf.")
        services.draft_section(document=self.fresh(), key="p6_behandlungsplan", user=self.alice)
        doc = self.fresh()
        self.assertEqual(doc.sections["p6_behandlungsplan"], "Zweiter Entwurf.")
        self.assertEqual(doc.sections["p2_symptomatik"], self.doc.sections["p2_symptomatik"])  # others untouched
        self.assertEqual(DocumentVersion.objects.filter(document=doc, kind=VersionKind.AI_DRAFT).count(), 2)
        # One conversation per document: placeholders stay stable across its sections.
        self.assertEqual(len({c.conversation_id for c in LLMCall.objects.all()}), 1)

    def test_a_name_restored_into_an_ai_draft_blocks_the_ptv3_export(self) -> None:
        self.llm.reply("[PERSON_1] berichtet über gedrückte Stimmung.")
        services.draft_section(document=self.doc, key="p2_symptomatik", user=self.alice)
        self.assertIn("Wolkenstein", self.fresh().sections["p2_symptomatik"])
        r = self.client.get(reverse("documents:pdf", args=[self.doc.code]))
        self.assertContains(r, "Export gesperrt", status_code=422)

    def test_a_failing_model_leaves_the_text_and_says_why(self) -> None:
        before = self.fresh().sections["p5_diagnose"]
        self.llm.mode = "fail"
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("documents:draft", args=[self.doc.code]), {"section": "p5_diagnose"})
        doc = self.fresh()
        self.assertEqual(doc.sections["p5_diagnose"], before)
        self.assertEqual(doc.ai_status["p5_diagnose"]["state"], "failed")
        self.assertContains(self.client.get(self.doc.get_absolute_url()), "KI-Entwurf fehlgeschlagen: Das KI-Modell ist nicht erreichbar.")

    def test_a_gateway_warning_can_be_overridden_after_review(self) -> None:
        from anonymizer import Entity
        from duktus.llm import gateway

        anon = gateway.anonymizer()
        real = anon.residual_risk
        anon.residual_risk = lambda text, known=(): [Entity(0, 3, "PERSON", "xyz", severity="warn")]  # type: ignore[method-assign]
        self.addCleanup(lambda: setattr(anon, "residual_risk", real))
        url = reverse("documents:draft", args=[self.doc.code])
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, {"section": "p5_diagnose"})
        self.assertEqual(self.llm.requests, [])
        status = self.fresh().ai_status["p5_diagnose"]
        self.assertEqual((status["state"], status["warning"]), ("failed", True))
        self.assertContains(self.client.get(self.doc.get_absolute_url()), "Geprüft – trotzdem senden")
        self.llm.reply("F32.1 G.")
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(url, {"section": "p5_diagnose", "override": "1"})
        self.assertEqual(len(self.llm.requests), 1)
        self.assertEqual(self.fresh().sections["p5_diagnose"], "F32.1 G.")

    def test_draft_all_sections(self) -> None:
        self.llm.reply("Entwurf.")
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(reverse("documents:draft", args=[self.doc.code]))
        self.assertRedirects(r, self.doc.get_absolute_url(), fetch_redirect_response=False)
        doc = self.fresh()
        self.assertEqual(set(doc.provenance.values()), {Provenance.AI})
        self.assertTrue(all(v["state"] == "done" for v in doc.ai_status.values()))
        self.assertNothingLeaked()

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(reverse("documents:draft", args=[self.doc.code])).status_code, 405)

    def test_it_rejects_an_unknown_section(self) -> None:
        r = self.client.post(reverse("documents:draft", args=[self.doc.code]), {"section": "p9"})
        self.assertContains(r, "Unbekannter Abschnitt.", status_code=422)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(reverse("documents:draft", args=[self.doc.code]), {"section": "p5_diagnose"}).status_code, 403)
        self.assertEqual(self.llm.requests, [])

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(reverse("documents:draft", args=[self.doc.code]), {"section": "p5_diagnose"}).status_code, 404)
        self.assertEqual(self.llm.requests, [])

    def test_signed_documents_are_not_redrafted(self) -> None:
        services.sign_document(document=self.doc, user=self.alice)
        r = self.client.post(reverse("documents:draft", args=[self.doc.code]), {"section": "p5_diagnose"})
        self.assertEqual(r.status_code, 422)
        self.assertEqual(self.llm.requests, [])


class NoConsentTestCase(LLMTestCase):
    consent = False

    def test_htmx_gets_the_section_with_the_reason(self) -> None:
        doc = make_document(self.pat, self.alice, "anamnese")
        r = self.client.post(reverse("documents:draft", args=[doc.code]), {"section": "anlass"}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, 'id="section-anlass"', status_code=422)
        self.assertContains(r, "keine Einwilligung", status_code=422)

    def test_without_consent_nothing_is_sent_and_the_page_says_why(self) -> None:
        doc = make_document(self.pat, self.alice, "anamnese")
        r = self.client.post(reverse("documents:draft", args=[doc.code]), {"section": "anlass"})
        self.assertContains(r, "keine Einwilligung zur KI-Verarbeitung", status_code=422)
        self.assertEqual(self.llm.requests, [])
        page = self.client.get(doc.get_absolute_url())
        self.assertContains(page, "KI-Entwurf nicht verfügbar")
        self.assertNotContains(page, 'id="draft-all"')


class StatusPollTestCase(LLMTestCase):
    def test_pending_sections_poll_until_done(self) -> None:
        doc = make_document(self.pat, self.alice, "anamnese")
        services.mark_pending(document=doc, keys=["anlass"])
        url = reverse("documents:section_status", args=[doc.code, "anlass"])
        r = self.client.get(url, HTTP_HX_REQUEST="true")
        self.assertContains(r, 'hx-trigger="every 2s"')
        self.llm.reply("Überweisung durch [fehlt: überweisende Stelle].")
        fill_record(self.pat, self.alice)
        services.draft_section(document=Document.objects.get(pk=doc.pk), key="beschwerden", user=self.alice)
        services.draft_section(document=Document.objects.get(pk=doc.pk), key="anlass", user=self.alice)
        r = self.client.get(url, HTTP_HX_REQUEST="true")
        self.assertNotContains(r, 'hx-trigger="every 2s"')
        self.assertContains(r, "[fehlt: Sitzungen und Sitzungsnotizen]")
        self.assertTrue(json.dumps(Document.objects.get(pk=doc.pk).ai_status))
