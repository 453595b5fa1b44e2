from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from documents import definitions, pdf, services
from documents.models import Provenance, VersionKind
from duktus.models import AuditEntry
from tests.base import BaseTestCase
from tests.documents.helpers import fill_record, make_document, pdf_metadata, pdf_text, png_bytes


def _ai_section(doc, key: str, text: str, user):  # type: ignore[no-untyped-def]
    """What draft_section stores, without a model (the gateway path is tested in test_ai_draft)."""
    doc.sections = {**doc.sections, key: text}
    doc.provenance = {**doc.provenance, key: Provenance.AI}
    doc.save()
    services._append_version(doc, kind=VersionKind.AI_DRAFT, user=user, author_kind="ai")
    return doc


class EveryTemplateExportsTestCase(BaseTestCase):
    def test_each_template_renders_and_exports(self) -> None:
        fill_record(self.patient, self.alice)
        for template in definitions.all_templates().values():
            for variant in [v.key for v in template.variants] or [""]:
                with self.subTest(template.key, variant=variant):
                    doc = make_document(self.patient, self.alice, template.key, variant)
                    r = self.client.get(reverse("documents:pdf", args=[doc.code]))
                    self.assertEqual(r.status_code, 200)
                    self.assertEqual(r["Content-Type"], "application/pdf")
                    self.assertIn(self.patient.pseudonym, r["Content-Disposition"])
                    text = pdf_text(r.content)
                    for s in template.sections(variant):
                        self.assertIn(s.title.split(" ")[0], text)
                    self.assertIn("Seite 1 von", text)
                    if template.anonymous:
                        self.assertIn("Chiffre", text)
                        self.assertIn("B150381", text)
                        for identifier in ("Anna", "Berger", "15.03.1981", "Lindenstraße"):
                            self.assertNotIn(identifier, text)
                    else:
                        self.assertIn("Anna Berger", text)


class PdfContentTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        fill_record(self.patient, self.alice)

    @time_machine.travel(dt.datetime(2026, 3, 24, 9, 0, tzinfo=dt.UTC), tick=True)
    def test_german_dates_umlauts_quotes_and_charts(self) -> None:
        doc = make_document(self.patient, self.alice, "psychotherapie_verlaufsbericht")
        doc = services.update_section(document=doc, key="f2_ziele", user=self.alice,
                                      text='Die Patientin nennt das Ziel "wieder arbeiten" -- erreicht. Übelkeit, Ärger, Größe.')
        text = pdf_text(pdf.render_document(doc))
        self.assertIn("24. März 2026", text)
        self.assertIn("„wieder arbeiten“ – erreicht. Übelkeit, Ärger, Größe.", text)
        self.assertIn("PHQ-9: 17 (12.01.2026) → 8 (20.03.2026)", text)
        self.assertIn("reliable Verbesserung", text)
        self.assertIn("Durchgeführte Sitzungen insgesamt: 8", text)
        self.assertIn("Verlauf PHQ-9", text)  # the trend chart's caption
        self.assertIn("Summenwert", text)  # text inside the embedded SVG chart

    def test_ai_marking_in_metadata_only_when_a_section_started_as_ai(self) -> None:
        doc = make_document(self.patient, self.alice, "abschlussbericht")
        meta = pdf_metadata(pdf.render_document(doc))
        self.assertEqual(meta["/kiunterstuetzt"], "nein")
        self.assertNotIn("KI-unterstützt", meta.get("/Keywords", ""))
        doc = _ai_section(doc, "verlauf", "Entwurf aus der Akte.", self.alice)
        # Editing the AI text does not remove the marking.
        doc = services.update_section(document=doc, key="verlauf", text="Entwurf aus der Akte, bearbeitet.", user=self.alice)
        content = pdf.render_document(doc)
        meta = pdf_metadata(content)
        self.assertEqual(meta["/kiunterstuetzt"], "ja: KI-unterstützt erstellt")
        self.assertIn("KI-unterstützt erstellt", meta["/Keywords"])
        self.assertIn("KI-unterstützt erstellt", meta["/Subject"])
        self.assertIn("begannen als KI-Entwurf", pdf_text(content))

    def test_signed_pdf_shows_hash_and_declaration(self) -> None:
        doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        services.sign_document(document=doc, user=self.alice)
        content = pdf.render_document(doc)
        text = pdf_text(content).replace("\n", " ")
        self.assertIn("Erklärung zur Verfasserschaft", text)
        self.assertIn("elektronisch signiert am", text)
        self.assertIn("von Alice.", text)  # the display name in the practice, not the login
        self.assertIn("Bericht an die Gutachterin / den Gutachter (PTV 3)", text)
        self.assertIn(doc.content_sha256[:32], text.replace(" ", ""))
        self.assertEqual(pdf_metadata(content)["/dokumentstatus"], "signiert")

    def test_addenda_follow_the_original(self) -> None:
        doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        doc = services.update_section(document=doc, key="themen", text="Originaltext der Sitzung.", user=self.alice)
        services.sign_document(document=doc, user=self.alice)
        services.add_addendum(document=doc, text="Ergänzung: Hausaufgabe vergessen.", user=self.alice)
        text = pdf_text(pdf.render_document(doc))
        self.assertIn("Originaltext der Sitzung.", text)
        self.assertIn("Ergänzung: Hausaufgabe vergessen.", text)
        self.assertLess(text.index("Originaltext"), text.index("Nachtrag vom"))

    def test_letterhead_with_logo(self) -> None:
        services.save_letterhead(practice=self.practice, name="Praxis Dr. Sonnberg", address="Hauptstraße 5\n10115 Berlin",
                                 contact="030 999", logo=png_bytes(), remove_logo=False, user=self.olga)
        content = pdf.render_document(make_document(self.patient, self.alice, "befundbericht"))
        text = pdf_text(content)
        self.assertIn("Praxis Dr. Sonnberg", text)
        self.assertIn("Hauptstraße 5", text)
        self.assertIn(b"/Subtype /Image", content)

    def test_two_page_guidance(self) -> None:
        doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        self.assertLessEqual(pdf.page_count(doc), 2)
        long = "Die Patientin schildert ausführlich ihre Lebensgeschichte. " * 250
        doc = services.update_section(document=doc, key="p4_anamnese", text=long, user=self.alice)
        r = self.client.get(reverse("documents:pages", args=[doc.code]))
        self.assertContains(r, "in der Regel 2 Seiten")


class Ptv3NameCheckTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "tp")

    def url(self) -> str:
        return reverse("documents:pdf", args=[self.doc.code])

    def test_a_name_in_the_body_blocks_the_export(self) -> None:
        services.update_section(document=self.doc, key="p4_anamnese", text="Frau Berger wuchs als ältestes Kind auf.",
                                user=self.alice)
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Export gesperrt", status_code=422)
        self.assertContains(r, "Name in „4. Behandlungsrelevante Angaben", status_code=422)
        self.assertNotEqual(r.get("Content-Type"), "application/pdf")
        self.assertTrue(AuditEntry.objects.filter(action="document.export_blocked").exists())
        self.assertFalse(AuditEntry.objects.filter(action="document.export_pdf").exists())

    def test_birth_date_and_address_block_too(self) -> None:
        for text in ("Geboren am 15.03.1981.", "Wohnt in der Lindenstraße 12.", "Erreichbar unter anna.berger@example.org"):
            with self.subTest(text):
                services.update_section(document=self.doc, key="p1_soziodemographie", text=text, user=self.alice)
                self.assertEqual(self.client.get(self.url()).status_code, 422)

    def test_an_addendum_with_a_name_blocks_the_export(self) -> None:
        services.sign_document(document=self.doc, user=self.alice)
        self.assertEqual(self.client.get(self.url()).status_code, 200)
        services.add_addendum(document=self.doc, text="Korrektur: Anna Berger ist verheiratet.", user=self.alice)
        self.assertContains(self.client.get(self.url()), "Nachtrag", status_code=422)

    def test_a_clean_report_exports_without_any_name(self) -> None:
        services.update_section(document=self.doc, key="p4_anamnese", user=self.alice,
                                text="Die Patientin wuchs als ältestes von drei Kindern auf.")
        r = self.client.get(self.url())
        self.assertEqual(r.status_code, 200)
        text = pdf_text(r.content)
        self.assertIn("Die Patientin wuchs als ältestes von drei Kindern auf.", text)
        for identifier in ("Anna", "Berger", "1981", "Lindenstraße", "10115", "A123456780"):
            self.assertNotIn(identifier, text)
        self.assertIn("B150381", text)  # KBV Chiffre: initial + TTMMJJ, in the header only

    def test_non_anonymous_templates_are_not_checked(self) -> None:
        doc = make_document(self.patient, self.alice, "anamnese")
        services.update_section(document=doc, key="anlass", text="Frau Berger kommt auf Empfehlung.", user=self.alice)
        self.assertEqual(self.client.get(reverse("documents:pdf", args=[doc.code])).status_code, 200)


class PdfAccessTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "anamnese")

    def test_it_works_and_audits(self) -> None:
        r = self.client.get(reverse("documents:pdf", args=[self.doc.code]))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r["Cache-Control"], "no-store")
        entry = AuditEntry.objects.get(action="document.export_pdf")
        self.assertEqual(entry.patient_pseudonym, self.patient.pseudonym)

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(reverse("documents:pdf", args=[self.doc.code])).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("documents:pdf", args=[self.doc.code])).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(reverse("documents:pdf", args=[self.doc.code])).status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="document.export_pdf").exists())
