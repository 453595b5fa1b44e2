from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from documents import services
from documents.models import Document, DocumentVersion, Provenance, VersionKind
from duktus.models import AuditEntry
from tests.base import BaseTestCase, make_patient
from tests.documents.helpers import fill_record, make_document


class CreateDocumentTestCase(BaseTestCase):
    def url(self, patient=None) -> str:  # type: ignore[no-untyped-def]
        return reverse("documents:create", args=[(patient or self.patient).code])

    def test_it_works(self) -> None:
        fill_record(self.patient, self.alice)
        r = self.client.post(self.url(), {"template": "verlaufsdokumentation"})
        doc = Document.objects.get()
        self.assertRedirects(r, doc.get_absolute_url(), fetch_redirect_response=False)
        doc.patient = self.patient
        # Pre-filled with structured data, ready to write by hand without any model.
        self.assertIn("KZT 1", doc.sections["rahmen"])
        self.assertIn("8 durchgeführt", doc.sections["rahmen"])
        self.assertIn("PHQ-9: 17 (12.01.2026) → 8 (20.03.2026)", doc.sections["fragebogen"])
        self.assertIn("reliable Verbesserung", doc.sections["fragebogen"])
        self.assertEqual(doc.provenance["rahmen"], Provenance.MANUAL)
        self.assertEqual(DocumentVersion.objects.filter(document=doc).count(), 1)
        self.assertTrue(AuditEntry.objects.filter(action="document.create", patient_pseudonym=self.patient.pseudonym).exists())

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_rejects_an_unknown_template(self) -> None:
        r = self.client.post(self.url(), {"template": "horoskop"})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Bitte eine vorhandene Vorlage wählen.", status_code=422)
        self.assertFalse(Document.objects.exists())

    def test_it_rejects_an_unknown_variant(self) -> None:
        r = self.client.post(self.url(), {"template": "ptv3_antrag_kurzzeittherapie", "variant": "gestalt"})
        self.assertContains(r, "Diese Variante gibt es", status_code=422)
        self.assertFalse(Document.objects.exists())

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"template": "anamnese"}).status_code, 403)
        self.assertFalse(Document.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"template": "anamnese"}).status_code, 404)
        self.assertFalse(Document.objects.exists())

    def test_every_template_can_be_created_and_opened(self) -> None:
        from documents import definitions

        for template in definitions.all_templates().values():
            for variant in [v.key for v in template.variants] or [""]:
                with self.subTest(template.key, variant=variant):
                    doc = make_document(self.patient, self.alice, template.key, variant)
                    r = self.client.get(doc.get_absolute_url())
                    self.assertEqual(r.status_code, 200)
                    for s in template.sections(variant):
                        self.assertContains(r, f'id="section-{s.key}"')
                        self.assertContains(r, s.guidance[:40])


class SectionUpdateTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "sitzungsprotokoll")

    def url(self, key: str = "themen") -> str:
        return reverse("documents:section_update", args=[self.doc.code, key])

    def fresh(self) -> Document:
        doc = Document.objects.get(pk=self.doc.pk)
        doc.patient = self.patient
        return doc

    def test_it_autosaves(self) -> None:
        r = self.client.post(self.url(), {"text": "Schlaf und Grübeln besprochen."}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'id="save-themen"')
        self.assertContains(r, "gespeichert")
        self.assertEqual(self.fresh().sections["themen"], "Schlaf und Grübeln besprochen.")
        self.assertEqual(self.fresh().provenance["themen"], Provenance.MANUAL)

    def test_autosave_appends_versions_sparingly(self) -> None:
        with time_machine.travel(dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC), tick=False) as tm:
            doc = make_document(self.patient, self.alice, "anamnese")
            for n in range(5):
                services.update_section(document=doc, key="anlass", text=f"Text {n}", user=self.alice)
            self.assertEqual(DocumentVersion.objects.filter(document=doc).count(), 1)
            tm.shift(dt.timedelta(minutes=11))
            services.update_section(document=doc, key="anlass", text="Text später", user=self.alice)
            self.assertEqual(DocumentVersion.objects.filter(document=doc, kind=VersionKind.AUTOSAVE).count(), 1)
            services.update_section(document=doc, key="anlass", text="Olga ergänzt", user=self.olga)
            self.assertEqual(DocumentVersion.objects.filter(document=doc, kind=VersionKind.AUTOSAVE).count(), 2)

    def test_a_plain_post_saves_a_version(self) -> None:
        r = self.client.post(self.url(), {"text": "Neu."})
        self.assertRedirects(r, self.doc.get_absolute_url(), fetch_redirect_response=False)
        self.assertEqual(DocumentVersion.objects.filter(document=self.doc, kind=VersionKind.SAVE).count(), 2)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_rejects_too_long_text(self) -> None:
        r = self.client.post(self.url(), {"text": "x" * (services.MAX_SECTION_CHARS + 1)}, HTTP_HX_REQUEST="true")
        self.assertContains(r, "Der Abschnitt ist zu lang", status_code=422)
        self.assertEqual(self.fresh().sections["themen"], "")

    def test_unknown_section_is_404(self) -> None:
        self.assertEqual(self.client.post(self.url("gibtsnicht"), {"text": "x"}).status_code, 404)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), {"text": "x"}).status_code, 403)
        self.assertEqual(self.fresh().sections["themen"], "")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), {"text": "x"}).status_code, 404)
        self.assertEqual(self.fresh().sections["themen"], "")

    def test_unassigned_therapist_gets_403(self) -> None:
        other = make_patient(self.practice, therapist=self.olga, first_name="Karl", last_name="Zander")
        doc = make_document(other, self.olga)
        r = self.client.post(reverse("documents:section_update", args=[doc.code, "ausblick"]), {"text": "x"})
        self.assertEqual(r.status_code, 403)

    def test_it_is_encrypted_at_rest(self) -> None:
        self.client.post(self.url(), {"text": "Streit mit der Schwester Hildegard"}, HTTP_HX_REQUEST="true")
        raw = Document.objects.filter(pk=self.doc.pk).values_list("sections_ct", flat=True).get()
        self.assertNotIn("Hildegard", raw)
        for raw in DocumentVersion.objects.values_list("sections_ct", flat=True):
            self.assertNotIn("Hildegard", raw)


class ProvenanceTestCase(BaseTestCase):
    def test_ai_provenance_is_kept_for_good(self) -> None:
        doc = make_document(self.patient, self.alice, "anamnese")
        # What draft_section writes (without a model call, exercised in test_ai_draft):
        doc.sections = {**doc.sections, "anlass": "Überweisung durch die Hausärztin."}
        doc.provenance = {**doc.provenance, "anlass": Provenance.AI}
        doc.save()
        services._append_version(doc, kind=VersionKind.AI_DRAFT, user=self.alice, author_kind="ai")
        doc = services.update_section(document=doc, key="anlass", text="Überweisung durch die Hausärztin, wegen Schlafstörungen.",
                                      user=self.alice)
        self.assertEqual(doc.provenance["anlass"], Provenance.AI_EDITED)
        doc = services.update_section(document=doc, key="anlass", text="Komplett neu geschrieben.", user=self.alice)
        self.assertEqual(doc.provenance["anlass"], Provenance.AI_EDITED)
        doc = services.update_section(document=doc, key="anlass", text="Überweisung durch die Hausärztin.", user=self.alice)
        self.assertEqual(doc.provenance["anlass"], Provenance.AI)
        self.assertTrue(doc.ai_assisted)
        self.assertEqual(doc.provenance["beschwerden"], Provenance.MANUAL)


class VersionsAreAppendOnlyTestCase(BaseTestCase):
    def test_versions_cannot_change_or_vanish(self) -> None:
        from django.core.exceptions import ValidationError

        doc = make_document(self.patient, self.alice)
        version = DocumentVersion.objects.get(document=doc)
        version.document = doc
        with self.assertRaises(ValidationError):
            version.save()
        with self.assertRaises(ValidationError):
            version.delete()
