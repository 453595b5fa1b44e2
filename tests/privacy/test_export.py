from __future__ import annotations

import datetime as dt
import io
import json

import pyzipper
from django.urls import reverse

from duktus.models import AuditEntry, ExportJob, Role
from duktus.privacy import export, registry, schema
from patients import services as patient_services
from tests.base import BaseTestCase, make_user
from tests.privacy.helpers import IsolatedFilesMixin


def _add_part_with_notes() -> None:
    from patients.models import Patient

    registry.register(
        Patient, key="process_notes", title="Prozessnotizen", category="process_notes",
        exporter=lambda p: [{"text": "Notiz über Übertragung"}], eraser=lambda p: 0,
    )


class ExportTestCase(IsolatedFilesMixin, BaseTestCase):
    def _start(self, **data: object) -> tuple[ExportJob, str]:
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(reverse("privacy:export_start", args=[self.patient.code]), data)
        self.assertEqual(r.status_code, 200)
        job = ExportJob.objects.get()
        return job, r.context["password"]

    def _open(self, content: bytes, password: str) -> tuple[dict, str]:
        with pyzipper.AESZipFile(io.BytesIO(content)) as zf:
            zf.setpassword(password.encode())
            data = json.loads(zf.read("datenauskunft.json"))
            html = zf.read("datenauskunft.html").decode()
        return data, html

    def test_it_works(self) -> None:
        patient_services.add_diagnosis(patient=self.patient, icd_code="F32.1", icd_version=2025, certainty="G",
                                       is_primary=True, diagnosed_on=dt.date(2026, 1, 12), note="")
        job, password = self._start()
        self.assertRegex(password, r"^[A-Z2-9]{5}(-[A-Z2-9]{5}){3}$")
        job.refresh_from_db()
        self.assertEqual(job.status, ExportJob.Status.DONE)
        self.assertNotIn(password, job.password_hash)
        self.assertTrue(export.password_matches(job, password))
        r = self.client.get(reverse("privacy:export_download", args=[job.code]))
        self.assertEqual(r.status_code, 200)
        data, html = self._open(r.content, password)
        self.assertEqual(schema.validate(data, schema.load_schema()), [])
        self.assertEqual(data["parts"]["master_data"][0]["last_name"], "Berger")
        self.assertEqual(data["parts"]["diagnoses"][0]["icd_code"], "F32.1")
        self.assertTrue(data["parts"]["access_log"])
        self.assertIn("Berger", html)
        self.assertIn("Stammdaten", html)
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        self.assertTrue({"privacy.export_requested", "privacy.export_built", "privacy.export_downloaded"} <= actions)

    def test_zip_needs_the_password(self) -> None:
        _job, password = self._start()
        content = (export.export_dir() / ExportJob.objects.get().file_name).read_bytes()
        with pyzipper.AESZipFile(io.BytesIO(content)) as zf:
            for info in zf.infolist():
                self.assertTrue(info.flag_bits & 0x1)  # encrypted
                i = info.extra.find(b"\x01\x99")  # WinZip AES extra field
                self.assertEqual(info.extra[i + 8], 3)  # strength 3 = AES-256
            with self.assertRaises(RuntimeError):
                zf.read("datenauskunft.json")
            zf.setpassword(b"AAAAA-BBBBB-CCCCC-DDDDD")
            with self.assertRaises(RuntimeError):
                zf.read("datenauskunft.json")
        self._open(content, password)

    def test_download_is_one_time(self) -> None:
        job, _ = self._start()
        url = reverse("privacy:export_download", args=[job.code])
        self.assertEqual(self.client.get(url).status_code, 200)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(list(export.export_dir().iterdir()), [])

    def test_status_is_polled(self) -> None:
        job, _ = self._start()
        r = self.client.get(reverse("privacy:export_status", args=[job.code]), HTTP_HX_REQUEST="true")
        self.assertContains(r, 'id="export-status"')
        self.assertContains(r, 'id="export-download"')

    def test_it_withholds_parts_with_reason(self) -> None:
        registry.autodiscover()
        saved = dict(registry._parts)
        self.addCleanup(lambda: (registry._parts.clear(), registry._parts.update(saved)))
        _add_part_with_notes()
        r = self.client.post(reverse("privacy:export_start", args=[self.patient.code]), {"withheld": ["process_notes"]})
        self.assertEqual(r.status_code, 422)  # a reason is required
        job, password = self._start(withheld=["process_notes"], withheld_reason="§ 630g Abs. 1 S. 1 BGB: erhebliche therapeutische Gründe")
        content = self.client.get(reverse("privacy:export_download", args=[job.code])).content
        data, html = self._open(content, password)
        self.assertEqual(schema.validate(data, schema.load_schema()), [])
        self.assertTrue(data["separate_parts"]["process_notes"]["withheld"])
        self.assertEqual(data["separate_parts"]["process_notes"]["rows"], [])
        self.assertNotIn("Übertragung", html)
        self.assertIn("erhebliche therapeutische Gründe", html)

    def test_expired_file_is_deleted(self) -> None:
        job, _ = self._start()
        job.refresh_from_db()
        later = job.finished_at + dt.timedelta(hours=25)
        self.assertEqual(export.delete_expired_exports(now=later), 1)
        job.refresh_from_db()
        self.assertEqual(job.status, ExportJob.Status.EXPIRED)
        self.assertEqual(self.client.get(reverse("privacy:export_download", args=[job.code])).status_code, 404)

    def test_it_requires_rw_access(self) -> None:
        self.login(self.bob)
        r = self.client.post(reverse("privacy:export_start", args=[self.patient.code]))
        self.assertEqual(r.status_code, 403)
        self.assertFalse(ExportJob.objects.exists())

    def test_it_checks_ownership(self) -> None:
        job, _ = self._start()
        self.login(self.charlie)
        self.assertEqual(self.client.post(reverse("privacy:export_start", args=[self.patient.code])).status_code, 404)
        self.assertEqual(self.client.get(reverse("privacy:export_download", args=[job.code])).status_code, 404)
        self.assertEqual(ExportJob.objects.count(), 1)

    def test_only_requester_or_owner_downloads(self) -> None:
        job, _ = self._start()
        url = reverse("privacy:export_download", args=[job.code])
        other = make_user("theo@example.org", self.practice, Role.THERAPIST)
        self.login(other)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login(self.olga)
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(reverse("privacy:export_start", args=[self.patient.code])).status_code, 405)

    def test_detail_page_shows_card_for_clinical_only(self) -> None:
        url = reverse("patients:detail", args=[self.patient.code])
        self.assertContains(self.client.get(url), 'id="privacy"')
        self.login(self.bob)
        self.assertNotContains(self.client.get(url), 'id="privacy"')


class ExportContentTestCase(IsolatedFilesMixin, BaseTestCase):
    """What the ZIP holds: readable HTML with German labels, JSON valid against the
    versioned schema, the schema itself, attached files, AI calls as shown."""

    def _export(self, **data: object) -> tuple[dict, str, pyzipper.AESZipFile]:
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(reverse("privacy:export_start", args=[self.patient.code]), data)
        job = ExportJob.objects.get()
        content = self.client.get(reverse("privacy:export_download", args=[job.code])).content
        zf = pyzipper.AESZipFile(io.BytesIO(content))
        zf.setpassword(r.context["password"].encode())
        self.addCleanup(zf.close)
        return json.loads(zf.read("datenauskunft.json")), zf.read("datenauskunft.html").decode(), zf

    def test_record_is_readable_html(self) -> None:
        patient_services.add_diagnosis(patient=self.patient, icd_code="F32.1", icd_version=2025, certainty="G",
                                       is_primary=True, diagnosed_on=dt.date(2026, 1, 12), note="")
        data, html, zf = self._export()
        self.assertIn("Nachname", html)  # German labels, not field names
        self.assertIn("ICD-10-GM", html)
        self.assertLess(html.index("Stammdaten"), html.index("Diagnosen"))
        self.assertLess(html.index("Diagnosen"), html.index("Zugriffsprotokoll"))
        self.assertIn("@page", html)  # print stylesheet: the browser prints the record to PDF
        self.assertEqual(json.loads(zf.read("schema/export_schema_v1.json")), schema.load_schema())
        # every registered app contributes its part (sessions, documents, memory, questionnaires …)
        for key in ("master_data", "diagnoses", "consents", "access_log", "questionnaires", "ai_calls",
                    "therapy_sessions", "session_note_versions", "documents", "memory_entries"):
            self.assertIn(key, data["parts"], key)
        self.assertIn("session_process_notes", data["separate_parts"])

    def test_files_are_attached_and_listed(self) -> None:
        from patients.models import Patient

        registry.autodiscover()
        saved = dict(registry._parts)
        self.addCleanup(lambda: (registry._parts.clear(), registry._parts.update(saved)))
        registry.register(Patient, key="test_letters", title="Briefe", exporter=lambda p: [{"title": "Befundbericht"}],
                          eraser=lambda p: 0, files=lambda p: [("Befund/1.pdf", b"%PDF-1.4 Befund")])
        data, html, zf = self._export()
        self.assertEqual(zf.read("dokumente/test_letters/Befund_1.pdf"), b"%PDF-1.4 Befund")
        self.assertEqual(data["files"][0]["path"], "dokumente/test_letters/Befund_1.pdf")
        self.assertEqual(len(data["files"][0]["sha256"]), 64)
        self.assertIn("dokumente/test_letters/Befund_1.pdf", html)
        self.assertEqual(schema.validate(data, schema.load_schema()), [])

    def test_lazy_file_contents_are_rendered_in_threads(self) -> None:
        import threading

        from patients.models import Patient

        registry.autodiscover()
        saved = dict(registry._parts)
        self.addCleanup(lambda: (registry._parts.clear(), registry._parts.update(saved)))
        seen: set[str] = set()

        def render(n: int) -> bytes:
            seen.add(threading.current_thread().name)
            return f"%PDF-1.4 Brief {n}".encode()

        registry.register(Patient, key="test_lazy", title="Briefe", exporter=lambda p: [], eraser=lambda p: 0,
                          files=lambda p: [(f"brief-{n}.pdf", (lambda n=n: render(n))) for n in range(5)] + [("fix.pdf", b"%PDF-fix")])
        data, files = export.collect(self.patient, [])
        self.assertEqual([path for path, _ in files if "test_lazy" in path],
                         [f"dokumente/test_lazy/brief-{n}.pdf" for n in range(5)] + ["dokumente/test_lazy/fix.pdf"])
        self.assertEqual(dict(files)["dokumente/test_lazy/brief-3.pdf"], b"%PDF-1.4 Brief 3")
        self.assertTrue(all(name.startswith("export-files") for name in seen))
        self.assertEqual(schema.validate(data, schema.load_schema()), [])

    def test_documents_are_attached_as_pdf(self) -> None:
        from documents import definitions
        from documents import services as document_services

        document_services.create_document(patient=self.patient, template_key=sorted(definitions.all_templates())[0], user=self.alice)
        data, _html, zf = self._export()
        pdfs = [f for f in data["files"] if f["part"] == "documents"]
        self.assertEqual(len(pdfs), 1)
        self.assertEqual(zf.read(pdfs[0]["path"])[:5], b"%PDF-")

    def test_ai_calls_as_shown_to_the_therapist(self) -> None:
        from duktus.models import LLMCall, LLMConversation

        conv = LLMConversation(patient=self.patient)
        conv.mapping = {}
        conv.save()
        call = LLMCall(conversation=conv, role="dialog", model="m", status=LLMCall.Status.OK)
        call.request_sent = {"messages": [{"role": "user", "content": "Wie geht es [PERSON_1]?"}]}
        call.response_text = "[PERSON_1] wirkt stabiler."
        call.restored_text = "Frau Berger wirkt stabiler."
        call.save()
        data, html, _ = self._export()
        row = data["parts"]["ai_calls"][0]
        self.assertEqual(row["answer"], "Frau Berger wirkt stabiler.")
        self.assertIn("[PERSON_1]", row["sent_anonymized"])
        self.assertIn("Antwort (wie angezeigt)", html)

    def test_withheld_reason_is_encrypted_and_in_the_export(self) -> None:
        reason = "Erhebliche therapeutische Gründe: akute Suizidalität"
        data, html, _ = self._export(withheld=["process_notes"], withheld_reason=reason)
        self.assertEqual(data["withheld_reason"], reason)
        self.assertTrue(data["separate_parts"]["session_process_notes"]["withheld"])
        self.assertIn(reason, html)
        self.assertNotIn("Suizid", ExportJob.objects.values_list("withheld_reason_ct", flat=True).get())

    def test_progress_is_reported_per_part(self) -> None:
        seen: list[int] = []
        export.collect(self.patient, [], progress=seen.append)
        self.assertEqual(len(seen), len(registry.parts()))
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(seen[-1], 70)

    def test_schema_rejects_invalid_exports(self) -> None:
        data, _ = export.collect(self.patient, [])
        spec = schema.load_schema()
        self.assertEqual(schema.validate(data, spec), [])
        broken = json.loads(json.dumps(data))
        del broken["parts"]["diagnoses"]
        broken["schema_version"] = "2"
        broken["separate_parts"]["session_process_notes"]["category"] = "secret"
        broken["files"] = [{"part": "x", "path": "y", "size": "12", "sha256": "z"}]
        errors = schema.validate(broken, spec)
        self.assertIn("$.parts.diagnoses: missing", errors)
        self.assertIn("$.schema_version: must be '1'", errors)
        self.assertTrue(any("category" in e for e in errors))
        self.assertIn("$.files[0].size: expected integer", errors)


class ThirdPartyTestCase(IsolatedFilesMixin, BaseTestCase):
    def test_guardian_data_is_listed_separately_and_withholdable(self) -> None:
        from tests.base import make_patient

        minor = make_patient(self.practice, therapist=self.alice, last_name="Klein", is_minor=True,
                             guardian_name="Gerda Klein", guardian_contact="0170 1234567", guardian_custody="gemeinsam")
        data, _ = export.collect(minor, [])
        self.assertNotIn("guardian_name", data["parts"]["master_data"][0])
        self.assertEqual(data["separate_parts"]["guardians"]["rows"][0]["guardian_name"], "Gerda Klein")
        self.assertEqual(data["separate_parts"]["guardians"]["category"], "third_party")
        withheld, _ = export.collect(minor, ["third_party"], withheld_reason="Schutz der Rechte Dritter")
        self.assertEqual(withheld["separate_parts"]["guardians"], {
            "title": "Angaben über Dritte: Sorgeberechtigte", "category": "third_party", "withheld": True, "rows": []})
        self.assertNotIn("Gerda", json.dumps(withheld))
        html = export.render_record(withheld)
        self.assertIn("Schutz der Rechte Dritter", html)
        self.assertNotIn("Gerda", html)
        r = self.client.get(reverse("privacy:patient", args=[minor.code]))
        self.assertContains(r, "Angaben über Dritte: Sorgeberechtigte: 1 Eintrag (")
