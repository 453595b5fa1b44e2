from __future__ import annotations

from duktus.models import AuditEntry, PracticeAISettings
from tests.base import BaseTestCase

URL = "/ki/einstellungen/"


class AISettingsViewTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.login(self.olga)

    def test_it_works(self) -> None:
        r = self.client.get(URL)
        self.assertContains(r, 'id="ai-status"')
        self.assertContains(r, "Ausgeschaltet")
        r = self.client.post(URL, {"enabled": "on", "provider": "IONOS AI Model Hub", "avv_signed_on": "2026-01-02"})
        self.assertRedirects(r, URL)
        ai = PracticeAISettings.objects.get(practice=self.practice)
        self.assertTrue(ai.enabled)
        self.assertEqual((ai.provider, str(ai.avv_signed_on), ai.enabled_by), ("IONOS AI Model Hub", "2026-01-02", self.olga))
        self.assertTrue(AuditEntry.objects.filter(action="llm.enabled").exists())
        r = self.client.get(URL)
        # The stored date comes back in the ISO form <input type="date"> needs, so saving the form
        # again keeps it (with the German format the browser shows an empty field).
        self.assertContains(r, 'value="2026-01-02"')

    def test_it_switches_off(self) -> None:
        self.client.post(URL, {"enabled": "on", "provider": "IONOS", "avv_signed_on": "2026-01-02"})
        r = self.client.post(URL, {"provider": "IONOS"}, follow=True)
        self.assertContains(r, "Die KI-Funktionen sind ausgeschaltet.")
        ai = PracticeAISettings.objects.get(practice=self.practice)
        self.assertFalse(ai.enabled)
        self.assertEqual(str(ai.avv_signed_on), "2026-01-02")

    def test_it_requires_avv_date(self) -> None:
        r = self.client.post(URL, {"enabled": "on", "provider": "IONOS"})
        self.assertEqual(r.status_code, 422)
        self.assertFalse(PracticeAISettings.objects.exists())

    def test_it_requires_owner(self) -> None:
        for user in (self.alice, self.bob):
            self.login(user)
            self.assertEqual(self.client.get(URL).status_code, 403)
            self.assertEqual(self.client.post(URL, {"enabled": "on", "provider": "X", "avv_signed_on": "2026-01-02"}).status_code, 403)
        self.assertFalse(PracticeAISettings.objects.exists())

    def test_it_only_touches_own_practice(self) -> None:
        # No object id in the URL (404 not applicable): Charlie's post switches only practice B.
        self.login(self.charlie)
        self.assertEqual(self.client.get(URL).status_code, 403)
        self.assertFalse(PracticeAISettings.objects.filter(practice=self.practice).exists())
