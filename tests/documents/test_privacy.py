from __future__ import annotations

from documents import services
from documents.models import Document, DocumentVersion
from duktus.privacy import erasure, registry
from tests.base import BaseTestCase
from tests.documents.helpers import make_document
from tests.privacy.helpers import IsolatedFilesMixin


class DocumentsPrivacyTestCase(IsolatedFilesMixin, BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        self.doc = services.update_section(document=self.doc, key="themen", text="Konflikt mit dem Vorgesetzten.", user=self.alice)
        services.sign_document(document=self.doc, user=self.alice)
        services.add_addendum(document=self.doc, text="Nachtrag zur Sitzung.", user=self.alice)

    def parts(self) -> dict[str, registry.Part]:
        return {p.key: p for p in registry.parts()}

    def test_it_exports_documents_and_versions(self) -> None:
        parts = self.parts()
        docs = parts["documents"].exporter(self.patient)
        self.assertEqual(docs[0]["document"], "Sitzungsprotokoll")
        self.assertEqual(docs[0]["sections"]["Themen und Inhalte"], "Konflikt mit dem Vorgesetzten.")
        self.assertEqual(docs[0]["content_sha256"], Document.objects.get().content_sha256)
        versions = parts["document_versions"].exporter(self.patient)
        self.assertEqual([v["kind"] for v in versions][-2:], ["abgeschlossen und signiert", "Nachtrag"])
        self.assertEqual(versions[-1]["addendum"], "Nachtrag zur Sitzung.")

    def test_the_export_attaches_every_document_as_pdf(self) -> None:
        from duktus.privacy import export
        from tests.documents.helpers import pdf_text

        data, files = export.collect(self.patient, [])
        self.assertEqual(len(files), 1)
        path, content = files[0]
        self.assertTrue(path.startswith("dokumente/documents/") and path.endswith("-sitzungsprotokoll-signiert-"
                                                                                  f"{str(self.doc.code)[:8]}.pdf"), path)
        text = pdf_text(content)
        self.assertIn("Konflikt mit dem Vorgesetzten.", text)
        self.assertIn("Nachtrag zur Sitzung.", text)
        self.assertEqual(data["files"][0]["path"], path)

    def test_erasure_removes_documents_and_versions(self) -> None:
        erasure.erase(request=None, patient=self.patient, actor=self.olga, force_reason="Test der Löschung")
        self.assertFalse(Document.objects.exists())
        self.assertFalse(DocumentVersion.objects.exists())
