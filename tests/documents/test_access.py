from __future__ import annotations

from django.urls import reverse

from documents import services
from duktus.models import AuditEntry
from tests.base import BaseTestCase, make_patient
from tests.documents.helpers import make_document, png_bytes


class DocumentDetailTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "therapieplan")

    def test_it_works_and_audits(self) -> None:
        r = self.client.get(self.doc.get_absolute_url())
        self.assertContains(r, "Therapieplan")
        self.assertContains(r, 'id="sign-form"')
        entry = AuditEntry.objects.filter(action="document.view").get()
        self.assertEqual((entry.patient_pseudonym, entry.object_id), (self.patient.pseudonym, str(self.doc.code)))
        self.assertNotIn("Berger", entry.detail)

    def test_it_rejects_post(self) -> None:
        self.assertEqual(self.client.post(self.doc.get_absolute_url()).status_code, 405)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(self.doc.get_absolute_url()).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        for name, kwargs in (("detail", {}), ("versions", {}), ("pdf", {}), ("pages", {}), ("version", {"number": 1}),
                             ("section_status", {"key": "ziele"})):
            with self.subTest(name):
                r = self.client.get(reverse(f"documents:{name}", kwargs={"code": self.doc.code, **kwargs}))
                self.assertEqual(r.status_code, 404)
        for name, kwargs in (("sign", {}), ("addendum", {}), ("version_save", {}), ("variant", {}), ("draft", {}),
                             ("section_update", {"key": "ziele"})):
            with self.subTest(name):
                r = self.client.post(reverse(f"documents:{name}", kwargs={"code": self.doc.code, **kwargs}), {"text": "x"})
                self.assertEqual(r.status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action__startswith="document.", actor=self.charlie).exists())

    def test_another_practice_does_not_list_the_document(self) -> None:
        other = make_patient(self.practice_b, therapist=self.charlie, first_name="Otto", last_name="Nagel")
        self.login(self.charlie)
        r = self.client.get(reverse("patients:detail", args=[other.code]))
        self.assertContains(r, 'id="documents"')
        self.assertNotContains(r, str(self.doc.code))
        self.assertContains(r, "Noch keine Dokumente.")

    def test_patient_page_lists_documents(self) -> None:
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, 'id="document-list"')
        self.assertContains(r, self.doc.get_absolute_url())
        self.login(self.olga)  # owners see every patient of the practice, and the letterhead link
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertContains(r, reverse("documents:letterhead"))

    def test_assistants_do_not_see_documents_on_the_patient_page(self) -> None:
        self.login(self.bob)
        r = self.client.get(reverse("patients:detail", args=[self.patient.code]))
        self.assertNotContains(r, 'id="documents"')

    def test_new_document_page(self) -> None:
        r = self.client.get(reverse("documents:new", args=[self.patient.code]))
        self.assertContains(r, "Kurzzeittherapie (KZT 1 / KZT 2)")
        self.login(self.charlie)
        self.assertEqual(self.client.get(reverse("documents:new", args=[self.patient.code])).status_code, 404)

    def test_version_save_and_variant_switch(self) -> None:
        doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        r = self.client.post(reverse("documents:version_save", args=[doc.code]))
        self.assertEqual(r.status_code, 302)
        self.assertEqual(doc.versions.count(), 2)
        services.update_section(document=doc, key="p4_anamnese", text="Lerngeschichte …", user=self.alice)
        r = self.client.post(reverse("documents:variant", args=[doc.code]), {"variant": "tp"})
        self.assertEqual(r.status_code, 302)
        page = self.client.get(doc.get_absolute_url())
        self.assertContains(page, "zur Psychodynamik")
        self.assertContains(page, "Lerngeschichte …")  # kept across the switch
        r = self.client.post(reverse("documents:variant", args=[doc.code]), {"variant": "gestalt"})
        self.assertContains(r, "Diese Variante kann hier nicht gewählt werden.", status_code=422)


class LetterheadTestCase(BaseTestCase):
    url = "/dokumente/briefkopf/"

    def test_it_works(self) -> None:
        self.login(self.olga)
        self.assertContains(self.client.get(self.url), "Praxis A")
        from django.core.files.uploadedfile import SimpleUploadedFile

        r = self.client.post(self.url, {"name": "Praxis Dr. Olga", "address": "Weg 1\n10115 Berlin", "contact": "030 1",
                                        "logo": SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")})
        self.assertRedirects(r, self.url, fetch_redirect_response=False)
        head = self.practice.letterhead
        self.assertEqual(head.name, "Praxis Dr. Olga")
        self.assertEqual(bytes(head.logo)[:8], b"\x89PNG\r\n\x1a\n")
        logo = self.client.get("/dokumente/briefkopf/logo/")
        self.assertEqual(logo["Content-Type"], "image/png")

    def test_it_rejects_a_fake_image(self) -> None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        self.login(self.olga)
        for name, data in (("logo.png", b"<svg onload=alert(1)>"), ("logo.gif", b"GIF89a" + b"\x00" * 20)):
            with self.subTest(name):
                r = self.client.post(self.url, {"name": "Praxis", "logo": SimpleUploadedFile(name, data)})
                self.assertEqual(r.status_code, 422)
                self.assertContains(r, "gültiges Bild", status_code=422)
        self.assertFalse(hasattr(self.practice, "letterhead") and self.practice.letterhead.pk)

    def test_it_rejects_a_huge_logo(self) -> None:
        with self.assertRaisesRegex(services.InvalidLogo, "höchstens 2000 Pixel"):
            services.validate_logo(png_bytes((2400, 10)))

    def test_it_requires_the_owner(self) -> None:
        self.assertEqual(self.client.get(self.url).status_code, 403)  # Alice, therapist
        self.assertEqual(self.client.post(self.url, {"name": "x"}).status_code, 403)


class DocumentListQueryCountTestCase(BaseTestCase):
    def test_query_count_does_not_grow_with_documents(self) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from documents.templatetags.document_tags import documents_section

        membership = self.alice.memberships.get()
        for _ in range(3):
            make_document(self.patient, self.alice, "anamnese")

        def count() -> int:
            with CaptureQueriesContext(connection) as ctx:
                context = documents_section({"membership": membership}, self.patient)
                [(d.title, d.ai_assisted, d.get_absolute_url()) for d in context["documents"]]
            return len(ctx.captured_queries)

        before = count()
        for _ in range(3):
            make_document(self.patient, self.alice, "befundbericht")
        self.assertEqual(count(), before)
