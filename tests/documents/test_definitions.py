from __future__ import annotations

from pathlib import Path

from django.test import SimpleTestCase

from documents import definitions

EXPECTED = {
    "verlaufsdokumentation", "risikobewertung", "sitzungsprotokoll", "therapieplan", "krisenintervention",
    "abschlussbericht", "anamnese", "ptv3_antrag_kurzzeittherapie", "psychotherapie_verlaufsbericht",
    "befundbericht", "supervisionsbericht",
}


class DefinitionsTestCase(SimpleTestCase):
    def test_it_ships_the_eleven_templates(self) -> None:
        self.assertEqual(set(definitions.all_templates()), EXPECTED)

    def test_every_section_has_guidance_and_known_feeds(self) -> None:
        for template in definitions.all_templates().values():
            for variant in [v.key for v in template.variants] or [""]:
                for s in template.sections(variant):
                    self.assertTrue(s.guidance, f"{template.key}.{s.key}")
                    self.assertTrue(set(s.feeds) <= set(definitions.FEEDS), f"{template.key}.{s.key}")

    def test_ptv3_follows_the_leitfaden(self) -> None:
        t = definitions.get("ptv3_antrag_kurzzeittherapie")
        assert t is not None
        self.assertTrue(t.anonymous)
        self.assertEqual(t.max_pages, 2)
        self.assertTrue(t.authorship_declaration)
        vt = [s.title for s in t.sections("vt")]
        self.assertEqual([x.split(".")[0] for x in vt], ["1", "2", "3", "4", "5", "6"])
        self.assertIn("funktionalen Bedingungsmodell", vt[3])
        tp = t.sections("tp")
        self.assertIn("Psychodynamik", tp[3].title)
        self.assertIn("psychodynamische", tp[4].guidance)
        self.assertNotIn("psychodynamische", t.sections("vt")[4].guidance)
        self.assertEqual(t.sections("vt_umwandlung")[-1].title, "7. Zusatzinformationen bei Umwandlungsantrag")
        self.assertNotIn("p7_umwandlung", [s.key for s in t.sections("vt")])

    def test_kzt_short_form_has_no_report(self) -> None:
        t = definitions.get("ptv3_antrag_kurzzeittherapie")
        assert t is not None
        keys = [s.key for s in t.sections("kzt")]
        self.assertEqual(keys, ["kzt_antrag", "kzt_diagnosen", "kzt_indikation", "kzt_ziele"])
        self.assertIn("nicht erforderlich", t.variant("kzt").notice)

    def test_fortfuehrungsbericht_pulls_trends_goals_and_sessions(self) -> None:
        t = definitions.get("psychotherapie_verlaufsbericht")
        assert t is not None
        feeds = {f for s in t.sections() for f in s.feeds}
        self.assertTrue({"trends", "goals", "approvals"} <= feeds)

    def test_adding_a_template_is_adding_a_file(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "kurzbrief.yaml"
            path.write_text("key: kurzbrief\ntitle: Kurzbrief\nsections:\n  - key: text\n    title: Text\n"
                            "    guidance: Kurz.\n    feeds: [diagnoses]\n", encoding="utf-8")
            t = definitions.load_file(path)
        self.assertEqual([s.key for s in t.sections()], ["text"])

    def test_it_rejects_broken_files(self) -> None:
        import tempfile

        cases = {
            "unknown feed": "key: x\ntitle: X\nsections:\n  - {key: a, title: A, guidance: g, feeds: [horoscope]}\n",
            "no guidance": "key: x\ntitle: X\nsections:\n  - {key: a, title: A}\n",
            "unknown tag": "key: x\ntitle: X\nsections:\n  - {key: a, title: A, guidance: g, only: [vt]}\n",
            "duplicate": "key: x\ntitle: X\nsections:\n  - {key: a, title: A, guidance: g}\n  - {key: a, title: B, guidance: g}\n",
            "typo": "key: x\ntitle: X\nsectons: []\n",
        }
        for name, text in cases.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "x.yaml"
                path.write_text(text, encoding="utf-8")
                with self.assertRaises(definitions.DefinitionError):
                    definitions.load_file(path)
