from __future__ import annotations

from duktus.models import LLMCall
from memory import queries, services
from memory.models import EntryStatus, PatientSummary
from tests.base import BaseTestCase
from tests.memory.base import MemoryLLMTestCase
from tests.memory.helpers import make_entry


class OfflineSummaryTestCase(BaseTestCase):
    def test_confirming_rebuilds_a_grouped_list(self) -> None:
        entry = make_entry(self.patient, text="Depressive Episode, PHQ-9 17.")
        self.assertFalse(PatientSummary.objects.exists())  # proposals do not count
        with self.captureOnCommitCallbacks(execute=True):
            services.confirm_entry(entry=entry, user=self.alice)
        s = queries.current_summary(self.patient)
        self.assertEqual((s.version, s.author, s.entry_count), (1, "list", 1))
        self.assertEqual(s.text, "Klinischer Befund:\n• Depressive Episode, PHQ-9 17. [02.03.2026]")
        # Nothing changed: no new version.
        self.assertIsNone(services.rebuild_summary(patient=self.patient))
        with self.captureOnCommitCallbacks(execute=True):
            services.add_entry(patient=self.patient, type="resource", text="Stabile Partnerschaft.", user=self.alice)
        self.assertEqual(queries.current_summary(self.patient).version, 2)
        self.assertIn("Ressource:\n• Stabile Partnerschaft.", queries.current_summary(self.patient).text)

    def test_a_therapists_version_is_kept_until_a_forced_rebuild(self) -> None:
        make_entry(self.patient, status=EntryStatus.CONFIRMED)
        services.rebuild_summary(patient=self.patient)
        human = services.save_summary(patient=self.patient, text="Meine eigene Fallkonzeption.", user=self.alice)
        self.assertEqual((human.version, human.author, human.created_by), (2, "human", self.alice))
        with self.captureOnCommitCallbacks(execute=True):
            services.add_entry(patient=self.patient, type="progress", text="Schläft besser.", user=self.alice)
        self.assertEqual(queries.current_summary(self.patient).text, "Meine eigene Fallkonzeption.")
        self.assertTrue(queries.section(self.patient)["summary_stale"])
        forced = services.rebuild_summary(patient=self.patient, force=True)
        self.assertEqual((forced.version, forced.author), (3, "list"))
        self.assertEqual([v.version for v in queries.summary_versions(self.patient)], [3, 2, 1])

    def test_empty_summary_is_refused(self) -> None:
        with self.assertRaises(services.ChangeRefused):
            services.save_summary(patient=self.patient, text="   ")

    def test_outdating_the_last_entry_says_so(self) -> None:
        entry = make_entry(self.patient, status=EntryStatus.CONFIRMED)
        services.rebuild_summary(patient=self.patient)
        services.mark_outdated(entry=entry)
        self.assertEqual(services.rebuild_summary(patient=self.patient).text, "Keine bestätigten Einträge.")


class AISummaryTestCase(MemoryLLMTestCase):
    def test_the_model_writes_the_summary_from_confirmed_entries(self) -> None:
        self.llm.answers("[PERSON_1] leidet seit dem Umzug unter Schlafstörungen; Ziel ist Joggen.")
        e = services.propose_entry(self.pat, "clinical_fact", "Henrike Wolkenstein schläft seit dem Umzug schlecht.",
                                   "session", "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        services.propose_entry(self.pat, "context", "Unbestätigt: arbeitet bei Siemens.", "session", "7d1f3b8e-2a4c-4c1e-9a55-0f3e8a1b2c3d")
        services.confirm_entry(entry=e, user=self.alice)
        s = services.rebuild_summary(patient=self.pat, user=self.alice)
        self.assertEqual(s.author, "ai")
        self.assertEqual(s.text, "Henrike Wolkenstein leidet seit dem Umzug unter Schlafstörungen; Ziel ist Joggen.")
        self.assertEqual(s.llm_call, LLMCall.objects.get(role="documentation"))
        sent = self.chat_requests()[-1]["body"]["messages"][1]["content"]
        self.assertIn("schläft seit dem Umzug schlecht", sent)
        self.assertNotIn("Siemens", sent)
        self.assertNothingLeaked()

    def test_a_model_failure_falls_back_to_the_list(self) -> None:
        self.llm.mode = "fail"
        make_entry(self.pat, status=EntryStatus.CONFIRMED)
        self.llm.mode = "fail"
        s = services.rebuild_summary(patient=self.pat)
        self.assertEqual(s.author, "list")
