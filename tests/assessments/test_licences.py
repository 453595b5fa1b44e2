"""The licence rule: C-SSRS, ISI, ORS and SRS are entered from paper (item numbers, neutral
labels, bare values) until the practice records its licence and loads its licensed texts from
a file; only then are electronic forms and patient links switched on — in that practice only."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from unittest import TestCase

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessments import services
from assessments.instruments import INSTRUMENTS, parse_licensed_form
from assessments.models import Administration, InstrumentLicence, PatientLink
from duktus.models import AuditEntry
from tests.assessments.helpers import fake_request, make_link, post_items
from tests.base import BaseTestCase, make_patient

LICENSED = ("cssrs", "isi", "ors", "srs")
ISI_FORM = {
    "items": [f"ISI-Lizenztext {n}" for n in range(1, 8)],
    "options": [f"Lizenzanker {v}" for v in range(5)],
    "instruction": "Lizenzierte Instruktion",
    "copyright": "© Lizenzgeber – lizenzierte Fassung Praxis A",
}


def licensed_texts(code: str) -> list[str]:
    return [f"{code}-Lizenztext {n}" for n in range(1, len(INSTRUMENTS[code].items) + 1)]


class ParseLicensedFormTestCase(TestCase):
    def test_a_plain_list_gives_items_only(self):
        form = parse_licensed_form("ors", ["a", "b", "c", "d"])
        self.assertEqual((form.items, form.options, form.instruction), (("a", "b", "c", "d"), None, ""))

    def test_shared_answer_labels_apply_to_every_item(self):
        form = parse_licensed_form("isi", ISI_FORM)
        self.assertEqual(len(form.options), 7)
        self.assertEqual(form.options[6], tuple(f"Lizenzanker {v}" for v in range(5)))
        self.assertEqual(form.instruction, "Lizenzierte Instruktion")
        self.assertIn("Lizenzgeber", form.copyright)

    def test_answer_labels_per_item(self):
        options = [[f"Q{n} A{v}" for v in range(5)] for n in range(1, 4)]
        form = parse_licensed_form("auditc", {"items": ["1", "2", "3"], "options": options})
        self.assertEqual(form.options[1][4], "Q2 A4")

    def test_it_rejects_wrong_label_counts_naming_the_item(self):
        with self.assertRaises(ValueError) as caught:
            parse_licensed_form("isi", {**ISI_FORM, "options": ["a", "b", "c", "d"]})
        self.assertIn("Item 1: Erwartet werden 5 Antwortbeschriftungen", str(caught.exception))
        per_item = [[f"A{v}" for v in range(5)]] * 6 + [["A0"]]
        with self.assertRaises(ValueError) as caught:
            parse_licensed_form("isi", {**ISI_FORM, "options": per_item})
        self.assertIn("Item 7", str(caught.exception))
        with self.assertRaises(ValueError):
            parse_licensed_form("isi", {**ISI_FORM, "options": [[f"A{v}" for v in range(5)]] * 6})

    def test_it_rejects_labels_where_they_do_not_apply(self):
        for code in ("cssrs", "ors", "srs"):
            items = licensed_texts(code)
            with self.subTest(code=code), self.assertRaises(ValueError) as caught:
                parse_licensed_form(code, {"items": items, "options": ["x", "y"]})
            self.assertIn("nicht vorgesehen", str(caught.exception))

    def test_it_rejects_unknown_fields_empty_labels_and_shipped_instruments(self):
        for data in ({**ISI_FORM, "extra": 1}, {**ISI_FORM, "options": ["a", "", "c", "d", "e"]},
                     {**ISI_FORM, "instruction": 5}, {"options": ISI_FORM["options"]}, "text"):
            with self.subTest(data=str(data)[:40]), self.assertRaises(ValueError) as caught:
                parse_licensed_form("isi", data)
            self.assertNotIn("ISI-Lizenztext", str(caught.exception))
        with self.assertRaises(ValueError):
            parse_licensed_form("phq9", [str(n) for n in range(9)])


class PaperEntryByDefaultTestCase(BaseTestCase):
    def test_every_licensed_instrument_is_paper_only_without_a_licence(self) -> None:
        page = self.client.get(reverse("patients:detail", args=[self.patient.code])).content.decode()
        link_form = page[page.index('id="links"'):page.index('id="schedules"')]
        self.assertIn('<option value="phq9"', link_form)
        for code in LICENSED:
            with self.subTest(code=code):
                r = self.client.get(reverse("assessments:record", args=[self.patient.code, code]))
                self.assertContains(r, "Eingabe vom Papierbogen")
                for label in INSTRUMENTS[code].items:
                    self.assertContains(r, label)
                r = self.client.post(reverse("assessments:link_create", args=[self.patient.code]), {"instrument": code, "days": "7"})
                self.assertEqual(r.status_code, 422)
                self.assertNotIn(f'<option value="{code}"', link_form)
        self.assertFalse(PatientLink.objects.exists())

    def test_paper_entry_shows_bare_values_not_answer_texts(self) -> None:
        r = self.client.get(reverse("assessments:record", args=[self.patient.code, "isi"]))
        html = r.content.decode()
        for v in range(5):
            self.assertIn(f'name="item_1" value="{v}"', html)
        self.assertNotContains(r, "Lizenzanker")

    def test_paper_entry_is_scored_and_keeps_item_answers(self) -> None:
        url = reverse("assessments:record", args=[self.patient.code, "srs"])
        r = self.client.post(url, {"administered_on": "2026-02-03", **post_items(["9,5", "8.0", "9", "9.1"])})
        self.assertEqual(r.status_code, 302)
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.total, a.severity, a.answers), ("35.6", "concern", ["9.5", "8.0", "9.0", "9.1"]))


class LicensedElectronicFormTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.owner_request = fake_request(self.olga, self.practice)

    def record(self, code: str, form: object) -> InstrumentLicence:
        return services.record_licence(practice=self.practice, instrument=code, licence_note="Vertrag 2026-17",
                                       item_texts=parse_licensed_form(code, form), request=self.owner_request)

    def test_upload_with_answer_labels_switches_on_the_patient_link(self) -> None:
        self.login(self.olga)
        upload = SimpleUploadedFile("isi.json", json.dumps(ISI_FORM).encode(), content_type="application/json")
        r = self.client.post(reverse("assessments:licences"), {"instrument": "isi", "licence_note": "Mapi 2026-17", "items_file": upload})
        self.assertEqual(r.status_code, 302)
        self.assertTrue(AuditEntry.objects.filter(action="assessment.licence_record", detail="isi").exists())
        self.assertContains(self.client.get(reverse("assessments:licences")), "lizenzierte Texte geladen (mit Antwortbeschriftungen)")
        link, token = make_link(self.patient, self.alice, instrument="isi")
        self.client.logout()
        r = self.client.get(reverse("assessments:fill", args=[token]))
        self.assertContains(r, "ISI-Lizenztext 7")
        self.assertContains(r, "Lizenzanker 4")
        self.assertContains(r, "Lizenzierte Instruktion")
        self.assertContains(r, "lizenzierte Fassung Praxis A")
        r = self.client.post(reverse("assessments:fill", args=[token]), post_items([3, 3, 3, 3, 3, 3, 4]))
        self.assertContains(r, "Vielen Dank")
        a = Administration.objects.get()
        a.patient = self.patient
        self.assertEqual((a.source, a.total, a.severity), ("link", "22", "severe"))
        self.assertEqual(a.answers, [3, 3, 3, 3, 3, 3, 4])

    def test_therapist_form_shows_the_licensed_labels(self) -> None:
        self.record("isi", ISI_FORM)
        r = self.client.get(reverse("assessments:record", args=[self.patient.code, "isi"]))
        self.assertContains(r, "ISI-Lizenztext 1")
        self.assertContains(r, "Lizenzanker 0")
        self.assertNotContains(r, "Eingabe vom Papierbogen")

    def test_each_licensed_instrument_gets_links_after_its_licence(self) -> None:
        for code in LICENSED:
            with self.subTest(code=code):
                url = reverse("assessments:link_create", args=[self.patient.code])
                self.assertEqual(self.client.post(url, {"instrument": code, "days": "7"}).status_code, 422)
                self.record(code, licensed_texts(code))
                r = self.client.post(url, {"instrument": code, "days": "7"})
                self.assertEqual(r.status_code, 200)
                self.assertContains(r, 'id="link-qr"')
        self.assertEqual(PatientLink.objects.count(), 4)

    def test_cssrs_licensed_link_applies_skip_logic_and_shows_help(self) -> None:
        self.record("cssrs", licensed_texts("cssrs"))
        link, token = make_link(self.patient, self.alice, instrument="cssrs")
        self.client.logout()
        url = reverse("assessments:fill", args=[token])
        r = self.client.get(url)
        self.assertContains(r, "cssrs-Lizenztext 6")
        r = self.client.post(url, {"q1": "yes", "q2": "yes", "q6": "no"})
        self.assertContains(r, "Frage 3 (q3): Antwort fehlt, weil Frage 2 bejaht wurde.", status_code=422)
        r = self.client.post(url, {"q1": "yes", "q2": "yes", "q3": "no", "q4": "yes", "q5": "no", "q6": "no"})
        self.assertContains(r, 'id="risk-help"')
        self.assertContains(r, "0800 111 0 222")

    def test_the_licence_of_one_practice_does_not_open_another(self) -> None:
        self.record("isi", ISI_FORM)
        self.login(self.charlie)
        other = make_patient(self.practice_b, therapist=self.charlie)
        r = self.client.get(reverse("assessments:record", args=[other.code, "isi"]))
        self.assertContains(r, "Eingabe vom Papierbogen")
        self.assertNotContains(r, "ISI-Lizenztext")
        r = self.client.post(reverse("assessments:link_create", args=[other.code]), {"instrument": "isi", "days": "7"})
        self.assertEqual(r.status_code, 422)
        self.assertNotContains(self.client.get(reverse("assessments:licences")), "Vertrag 2026-17")


class LoadLicenceCommandTestCase(BaseTestCase):
    def write(self, data: object) -> str:
        folder = Path(tempfile.mkdtemp())
        path = folder / "form.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        self.addCleanup(path.unlink)
        return str(path)

    def call(self, **kw: str) -> str:
        out = io.StringIO()
        args = {"practice": str(self.practice.code), "instrument": "isi", "file": self.write(ISI_FORM),
                "note": "Mapi 2026-17", "owner": "olga@example.org", **kw}
        call_command("load_instrument_licence", *[f"--{k}={v}" for k, v in args.items()], stdout=out)
        return out.getvalue()

    def test_it_works(self) -> None:
        out = self.call()
        self.assertIn("7 Itemtexte geladen", out)
        self.assertNotIn("ISI-Lizenztext", out)
        lic = InstrumentLicence.objects.get()
        lic.practice = self.practice
        self.assertEqual((lic.recorded_by, lic.licensed_form().options[0][4]), (self.olga, "Lizenzanker 4"))
        self.assertEqual(AuditEntry.objects.get(action="assessment.licence_record").actor, self.olga)

    def test_it_needs_the_owner_and_a_valid_file(self) -> None:
        for kw in ({"owner": "alice@example.org"}, {"owner": "charlie@example.org"},
                   {"file": "/nonexistent.json"}, {"practice": "not-a-uuid"}):
            with self.subTest(kw=kw), self.assertRaises(CommandError):
                self.call(**kw)
        with self.assertRaises(CommandError) as caught:
            self.call(file=self.write({"items": ["x"]}))
        self.assertIn("Erwartet werden 7 Itemtexte", str(caught.exception))
        self.assertFalse(InstrumentLicence.objects.exists())
