from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.urls import reverse

from documents import queries, services
from documents.models import Document, DocumentStatus, DocumentVersion, VersionKind
from duktus.audit import verify_chain
from duktus.models import AuditEntry
from tests.base import PASSWORD, BaseTestCase, totp_now
from tests.documents.helpers import make_document


class SignTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        services.update_section(document=self.doc, key="themen", text="Schlaf und Grübeln.", user=self.alice)

    def url(self) -> str:
        return reverse("documents:sign", args=[self.doc.code])

    def data(self, **kw: str) -> dict[str, str]:
        return {"password": PASSWORD, "code": totp_now(self.alice.totp_secret), **kw}

    def fresh(self) -> Document:
        doc = Document.objects.get(pk=self.doc.pk)
        doc.patient = self.patient
        return doc

    def test_it_works(self) -> None:
        r = self.client.post(self.url(), self.data())
        self.assertRedirects(r, self.doc.get_absolute_url(), fetch_redirect_response=False)
        doc = self.fresh()
        self.assertEqual(doc.status, DocumentStatus.SIGNED)
        self.assertEqual(doc.signed_by, self.alice)
        self.assertEqual(len(doc.content_sha256), 64)
        # The hash is recomputable from the content and is in the audit chain.
        self.assertEqual(doc.content_sha256, services.content_hash(doc, signer=self.alice, at=doc.signed_at))
        entry = AuditEntry.objects.get(action="document.signed")
        self.assertEqual(entry.detail, f"sha256={doc.content_sha256}")
        self.assertEqual(entry.object_id, str(doc.code))
        self.assertTrue(verify_chain().ok)
        signed = DocumentVersion.objects.get(document=doc, kind=VersionKind.SIGNED)
        self.assertEqual(signed.content_sha256, doc.content_sha256)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.url()).status_code, 405)

    def test_it_needs_the_password(self) -> None:
        r = self.client.post(self.url(), self.data(password="falsch"))
        self.assertContains(r, "Das Passwort ist nicht korrekt.", status_code=422)
        self.assertEqual(self.fresh().status, DocumentStatus.DRAFT)

    def test_it_needs_a_totp_code(self) -> None:
        r = self.client.post(self.url(), self.data(code="000000" if totp_now(self.alice.totp_secret) != "000000" else "111111"))
        self.assertContains(r, "Der Code ist ungültig", status_code=422)
        r = self.client.post(self.url(), {"password": PASSWORD})
        self.assertContains(r, "Bitte den aktuellen Code", status_code=422)
        self.assertEqual(self.fresh().status, DocumentStatus.DRAFT)

    def test_a_code_signs_only_once(self) -> None:
        code = totp_now(self.alice.totp_secret)
        self.client.post(self.url(), {"password": PASSWORD, "code": code})
        other = make_document(self.patient, self.alice, "anamnese")
        r = self.client.post(reverse("documents:sign", args=[other.code]), {"password": PASSWORD, "code": code})
        self.assertEqual(r.status_code, 422)
        self.assertEqual(Document.objects.get(pk=other.pk).status, DocumentStatus.DRAFT)

    def test_ptv_forms_need_the_authorship_declaration(self) -> None:
        doc = make_document(self.patient, self.alice, "ptv3_antrag_kurzzeittherapie", "vt")
        url = reverse("documents:sign", args=[doc.code])
        r = self.client.post(url, self.data())
        self.assertContains(r, "Bitte bestätigen Sie die Verfasserschaft", status_code=422)
        cache.clear()
        r = self.client.post(url, self.data(authorship="on"))
        self.assertEqual(r.status_code, 302)
        doc = Document.objects.get(pk=doc.pk)
        self.assertIsNotNone(doc.authorship_declared_at)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url(), self.data()).status_code, 403)
        self.assertEqual(self.fresh().status, DocumentStatus.DRAFT)

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url(), self.data()).status_code, 404)
        self.assertEqual(self.fresh().status, DocumentStatus.DRAFT)


class LockAndAddendumTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        self.doc = services.update_section(document=self.doc, key="themen", text="Schlaf und Grübeln.", user=self.alice)
        services.sign_document(document=self.doc, user=self.alice)

    def test_signed_documents_are_locked(self) -> None:
        r = self.client.post(reverse("documents:section_update", args=[self.doc.code, "themen"]), {"text": "geändert"},
                             HTTP_HX_REQUEST="true")
        self.assertContains(r, "abgeschlossen und signiert", status_code=422)
        with self.assertRaises(services.DocumentLocked):
            services.update_section(document=self.doc, key="themen", text="geändert", user=self.alice)
        with self.assertRaises(services.DocumentLocked):
            services.save_version(document=self.doc, user=self.alice)
        doc = Document.objects.get(pk=self.doc.pk)
        doc.patient = self.patient
        self.assertEqual(doc.sections["themen"], "Schlaf und Grübeln.")
        page = self.client.get(self.doc.get_absolute_url())
        self.assertNotContains(page, reverse("documents:section_update", args=[self.doc.code, "themen"]))
        self.assertContains(page, "Nachtrag erfassen")

    def test_an_addendum_keeps_the_original_visible(self) -> None:
        cache.clear()
        r = self.client.post(reverse("documents:addendum", args=[self.doc.code]), {
            "text": "Korrektur: Die Sitzung fand am Dienstag statt.", "password": PASSWORD,
            "code": totp_now(self.alice.totp_secret)})
        self.assertEqual(r.status_code, 302)
        addendum = DocumentVersion.objects.get(document=self.doc, kind=VersionKind.ADDENDUM)
        addendum.document = self.doc
        self.assertEqual(addendum.addendum, "Korrektur: Die Sitzung fand am Dienstag statt.")
        self.assertEqual(addendum.sections["themen"], "Schlaf und Grübeln.")  # original unchanged
        self.assertEqual(AuditEntry.objects.get(action="document.addendum").detail, f"sha256={addendum.content_sha256}")
        page = self.client.get(self.doc.get_absolute_url())
        self.assertContains(page, "Schlaf und Grübeln.")
        self.assertContains(page, "Korrektur: Die Sitzung fand am Dienstag statt.")

    def test_an_addendum_needs_reauthentication(self) -> None:
        r = self.client.post(reverse("documents:addendum", args=[self.doc.code]), {"text": "x", "password": "falsch", "code": "1"})
        self.assertEqual(r.status_code, 422)
        self.assertFalse(DocumentVersion.objects.filter(kind=VersionKind.ADDENDUM).exists())

    def test_an_empty_addendum_is_rejected(self) -> None:
        cache.clear()
        r = self.client.post(reverse("documents:addendum", args=[self.doc.code]),
                             {"text": "  ", "password": PASSWORD, "code": totp_now(self.alice.totp_secret)})
        self.assertContains(r, "Bitte den Nachtrag eingeben.", status_code=422)

    def test_drafts_take_no_addendum(self) -> None:
        draft = make_document(self.patient, self.alice)
        r = self.client.post(reverse("documents:addendum", args=[draft.code]),
                             {"text": "x", "password": PASSWORD, "code": totp_now(self.alice.totp_secret)})
        self.assertContains(r, "Nachträge gibt es nur für signierte Dokumente", status_code=422)


class VersionsViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.doc = make_document(self.patient, self.alice, "sitzungsprotokoll")
        self.doc = services.update_section(document=self.doc, key="themen", text="Schlaf und Grübeln am Abend.",
                                           user=self.alice, autosave=False)
        self.doc = services.update_section(document=self.doc, key="themen", text="Schlaf, Grübeln und Sport am Abend.",
                                           user=self.alice, autosave=False)

    def test_it_lists_versions_with_author_and_time(self) -> None:
        r = self.client.get(reverse("documents:versions", args=[self.doc.code]))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, 'data-number="3"')
        self.assertContains(r, "alice@example.org")

    def test_it_shows_a_readable_diff_between_any_two_versions(self) -> None:
        r = self.client.get(reverse("documents:versions", args=[self.doc.code]), {"a": 1, "b": 3})
        self.assertContains(r, "<ins>Schlaf, Grübeln und Sport am Abend.</ins>", html=False)
        r = self.client.get(reverse("documents:versions", args=[self.doc.code]), {"a": 2, "b": 3})
        self.assertContains(r, "Version 2 → Version 3")
        diff = queries.diff(self.doc, *[v for v in queries.versions(self.doc) if v.number in (2, 3)])
        self.assertEqual([d.key for d in diff if d.changed], ["themen"])
        changed = next(d for d in diff if d.changed).html
        self.assertEqual(changed, "<del>Schlaf</del><ins>Schlaf, Grübeln</ins> und <del>Grübeln</del><ins>Sport</ins> am Abend.")
        self.assertContains(r, changed)

    def test_the_diff_escapes_content(self) -> None:
        doc = services.update_section(document=self.doc, key="themen", text="<script>x</script>", user=self.alice, autosave=False)
        r = self.client.get(reverse("documents:versions", args=[doc.code]), {"a": 3, "b": 4})
        self.assertNotContains(r, "<script>x</script>")
        self.assertContains(r, "&lt;script&gt;")

    def test_unknown_version_is_404(self) -> None:
        r = self.client.get(reverse("documents:versions", args=[self.doc.code]), {"a": 1, "b": 99})
        self.assertEqual(r.status_code, 404)

    def test_version_detail(self) -> None:
        r = self.client.get(reverse("documents:version", args=[self.doc.code, 2]))
        self.assertContains(r, "Schlaf und Grübeln am Abend.")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.get(reverse("documents:versions", args=[self.doc.code])).status_code, 404)
        self.assertEqual(self.client.get(reverse("documents:version", args=[self.doc.code, 1])).status_code, 404)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get(reverse("documents:versions", args=[self.doc.code])).status_code, 403)

    def test_hash_is_sha256_of_canonical_content(self) -> None:
        from django.utils import timezone

        at = timezone.now()
        h = services.content_hash(self.doc, signer=self.alice, at=at)
        self.assertEqual(len(h), 64)
        self.assertEqual(h, services.content_hash(self.doc, signer=self.alice, at=at))
        changed = services.update_section(document=self.doc, key="themen", text="anders", user=self.alice)
        self.assertNotEqual(h, services.content_hash(changed, signer=self.alice, at=at))
        self.assertNotEqual(h, hashlib.sha256(b"").hexdigest())
