from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import override_settings

from duktus.llm import gateway
from duktus.models import PracticeAISettings
from patients import services as patient_services
from tests.base import BaseTestCase, make_patient
from tests.fake_llm import FakeLLM

IDENTIFIERS = {
    "first_name": "Henrike", "last_name": "Wolkenstein", "birth_date": dt.date(1979, 4, 12),
    "street": "Kastanienallee 77", "postal_code": "10435", "city": "Berlin", "phone": "0176 24681357",
    "email": "h.wolkenstein@posteo.de", "insurance_number": "K987654321",
    "guardian_name": "Dietrich Wolkenstein", "employer": "Bäckerei Sonnenschein",
}
# Strings that must never leave the process (checked case-insensitively in every request body).
SECRETS = ["Henrike", "Wolkenstein", "Dietrich", "Kastanienallee", "10435", "24681357",
           "h.wolkenstein@posteo.de", "posteo", "K987654321", "12.04.1979", "Sonnenschein"]


class LLMTestCase(BaseTestCase):
    consent = True
    ai_on = True

    def setUp(self) -> None:
        super().setUp()
        self.llm = FakeLLM().start()
        self.addCleanup(self.llm.stop)
        ov = override_settings(LLM_API_KEY="test-key", LLM_BASE_URL=self.llm.base_url, LLM_MAX_RETRIES=0,
                               LLM_TIMEOUT_SECONDS=2)
        ov.enable()
        self.addCleanup(ov.disable)
        self.pat = make_patient(self.practice, therapist=self.alice, **IDENTIFIERS)
        if self.consent:
            self.give_consent(self.pat)
        if self.ai_on:
            PracticeAISettings.objects.create(practice=self.practice, enabled=True, provider="IONOS",
                                              avv_signed_on=dt.date(2026, 1, 2), enabled_by=self.olga)

    def give_consent(self, patient: Any, action: str = "given") -> None:
        patient_services.record_consent(patient=patient, purpose="ai", action=action,
                                        effective_on=dt.date(2026, 1, 10), given_by="patient")

    def complete(self, text: str, **kw: Any) -> gateway.LLMResult:
        kw.setdefault("role", "dialog")
        return gateway.complete(patient=self.pat, messages=[{"role": "user", "content": text}], user=self.alice, **kw)

    def assertNothingLeaked(self) -> None:
        self.assertTrue(self.llm.requests)
        for body in self.llm.bodies():
            low = body.casefold()
            for s in SECRETS:
                self.assertNotIn(s.casefold(), low, f"identifier reached the server: {s}")
