from __future__ import annotations

import json

from duktus.llm import gateway, services
from duktus.models import AuditEntry, LLMCall, LLMConversation
from tests.llm.base import LLMTestCase

NOTE = ("Frau Henrike Wolkenstein (geb. 12.04.1979), Kastanienallee 77, 10435 Berlin, Tel. 0176 24681357, "
        "E-Mail h.wolkenstein@posteo.de, KVNR K987654321, arbeitet als Verkäuferin bei der Bäckerei Sonnenschein. "
        "Ihr Vater Dietrich Wolkenstein begleitet sie. Henrikes Stimmung ist gedrückt, PHQ-9: 17, F32.1.")


class CompleteTestCase(LLMTestCase):
    def test_it_never_sends_identifiers_across_calls(self) -> None:
        self.llm.reply("[PERSON_1] sollte die Verhaltensaktivierung fortsetzen.")
        first = self.complete(NOTE)
        conv = first.conversation
        gateway.complete(patient=self.pat, role="diagnostics", conversation=conv, user=self.alice, messages=[
            {"role": "system", "content": "Du bist ein klinischer Assistent."},
            {"role": "user", "content": "Was sagt Herr Wolkenstein über Frau Wolkenstein? Sie wohnt in der Kastanienallee."},
        ])
        gateway.complete(patient=self.pat, role="documentation", conversation=conv, user=self.alice,
                         messages=[{"role": "user", "content": "Bericht für henrike wolkenstein, Bäckerei Sonnenschein"}])
        self.assertEqual(len(self.llm.requests), 3)
        self.assertNothingLeaked()
        self.assertEqual(LLMCall.objects.filter(status="ok").count(), 3)

    def test_it_restores_names(self) -> None:
        self.llm.reply("[PERSON_1] sollte die Verhaltensaktivierung fortsetzen.")
        result = self.complete(NOTE)
        self.assertIn("Henrike Wolkenstein sollte", result.text)
        self.assertEqual(result.anonymized_text, "[PERSON_1] sollte die Verhaltensaktivierung fortsetzen.")
        call = LLMCall.objects.get(pk=result.call.pk)
        self.assertEqual(call.restored_text, result.text)
        self.assertNotIn("Henrike", call.restored_text_ct)  # encrypted at rest

    def test_placeholders_are_stable_in_a_conversation(self) -> None:
        r1 = self.complete("Henrike Wolkenstein berichtet von Schlafproblemen.")
        self.complete("Frau Wolkenstein schläft besser.", conversation=r1.conversation)
        contents = [r["body"]["messages"][-1]["content"] for r in self.llm.requests]
        self.assertIn("[PERSON_1]", contents[0])
        self.assertIn("[PERSON_1]", contents[1])
        self.assertEqual(LLMConversation.objects.count(), 1)

    def test_stored_request_equals_what_server_received(self) -> None:
        result = self.complete(NOTE)
        call = LLMCall.objects.get(pk=result.call.pk)
        received = self.llm.requests[0]["body"]
        self.assertEqual({k: call.request_sent[k] for k in ("model", "messages", "temperature")},
                         {k: received[k] for k in ("model", "messages", "temperature")})
        self.assertEqual(call.request_sent, received)
        self.assertEqual(call.model, "meta-llama/Llama-3.3-70B-Instruct")
        self.assertEqual(call.temperature, 0.3)
        self.assertEqual((call.prompt_tokens, call.completion_tokens), (11, 7))
        self.assertEqual(self.llm.requests[0]["headers"].get("authorization"), "Bearer test-key")

    def test_it_audits_with_pseudonym_only(self) -> None:
        self.complete(NOTE)
        entry = AuditEntry.objects.filter(action="llm.call").get()
        self.assertEqual(entry.patient_pseudonym, self.pat.pseudonym)
        self.assertNotIn("Wolkenstein", json.dumps([entry.detail, entry.object_id]))

    def test_it_streams_deltas(self) -> None:
        self.llm.reply("[PERSON_1] wirkt heute ruhiger.", chunk_size=5)
        deltas: list[str] = []
        result = self.complete(NOTE, on_delta=deltas.append)
        self.assertTrue(self.llm.requests[0]["body"]["stream"])
        self.assertGreater(len(deltas), 3)
        self.assertEqual(deltas[-1], result.text)
        self.assertIn("Henrike Wolkenstein wirkt heute ruhiger.", result.text)
        self.assertNothingLeaked()


class RefusalTestCase(LLMTestCase):
    consent = False

    def test_it_refuses_without_consent(self) -> None:
        with self.assertRaisesRegex(gateway.GatewayRefused, "Einwilligung"):
            self.complete(NOTE)
        self.assertEqual(self.llm.requests, [])
        self.assertEqual(LLMCall.objects.get().status, "refused")
        self.assertTrue(AuditEntry.objects.filter(action="llm.refused").exists())

    def test_it_refuses_after_withdrawal(self) -> None:
        self.give_consent(self.pat)
        self.give_consent(self.pat, action="withdrawn")
        with self.assertRaises(gateway.GatewayRefused):
            self.complete(NOTE)
        self.assertEqual(self.llm.requests, [])

    def test_it_refuses_without_api_key(self) -> None:
        self.give_consent(self.pat)
        with self.settings(LLM_API_KEY=""):
            self.assertFalse(gateway.is_configured())
            with self.assertRaisesRegex(gateway.GatewayRefused, "Kein KI-Modell konfiguriert"):
                self.complete(NOTE)
        self.assertEqual(self.llm.requests, [])


class PracticeSwitchTestCase(LLMTestCase):
    ai_on = False

    def test_it_refuses_until_owner_switches_ai_on(self) -> None:
        with self.assertRaisesRegex(gateway.GatewayRefused, "nicht freigeschaltet"):
            self.complete(NOTE)
        self.assertEqual(self.llm.requests, [])
        services.enable_for_practice(practice=self.practice, user=self.olga, provider="IONOS", avv_signed_on="2026-01-02")
        self.complete(NOTE)
        self.assertEqual(len(self.llm.requests), 1)


class LeakGuardTestCase(LLMTestCase):
    def test_it_blocks_a_surviving_known_identifier(self) -> None:
        anon = gateway.anonymizer()
        real = anon.anonymize

        class Unchanged:
            def __init__(self, text: str, mapping: object) -> None:
                self.text, self.mapping = text, mapping

        anon.anonymize = lambda text, mapping=None, **kw: Unchanged(text, mapping)  # type: ignore[method-assign]
        self.addCleanup(lambda: setattr(anon, "anonymize", real))
        with self.assertRaises(gateway.GatewayBlocked) as ctx:
            self.complete(NOTE)
        self.assertIn("PERSON", ctx.exception.labels)
        self.assertNotIn("Wolkenstein", str(ctx.exception))
        self.assertEqual(self.llm.requests, [])
        self.assertEqual(LLMCall.objects.get().status, "blocked")
        self.assertTrue(AuditEntry.objects.filter(action="llm.blocked").exists())

    def test_warning_can_be_overridden(self) -> None:
        from anonymizer import Entity

        anon = gateway.anonymizer()
        real = anon.residual_risk
        anon.residual_risk = lambda text, known=(): [Entity(0, 3, "PERSON", "xyz", severity="warn")]  # type: ignore[method-assign]
        self.addCleanup(lambda: setattr(anon, "residual_risk", real))
        with self.assertRaises(gateway.GatewayWarning):
            self.complete(NOTE)
        self.assertEqual(self.llm.requests, [])
        result = self.complete(NOTE, override_warnings=True)
        self.assertEqual(result.warnings, ["PERSON"])
        self.assertEqual(len(self.llm.requests), 1)
        self.assertIn("übergangen", AuditEntry.objects.filter(action="llm.call").get().detail)


class FailureTestCase(LLMTestCase):
    def assertFailed(self, exc_type: type, message: str) -> None:
        with self.assertRaises(exc_type) as ctx:
            self.complete(NOTE)
        self.assertIn(message, str(ctx.exception))
        self.assertNotIn("Wolkenstein", str(ctx.exception))
        call = LLMCall.objects.latest("id")
        self.assertEqual(call.status, "failed")
        self.assertEqual(call.error_kind, exc_type.__name__)

    def test_timeout(self) -> None:
        self.llm.mode, self.llm.delay = "slow", 1.5
        with self.settings(LLM_TIMEOUT_SECONDS=0.3):
            self.assertFailed(gateway.GatewayTimeout, "nicht rechtzeitig")

    def test_server_error(self) -> None:
        self.llm.mode = "fail"
        self.assertFailed(gateway.GatewayUnavailable, "Das KI-Modell ist nicht erreichbar. Bitte erneut versuchen.")

    def test_connection_closed(self) -> None:
        self.llm.mode = "close"
        self.assertFailed(gateway.GatewayUnavailable, "nicht erreichbar")

    def test_unreachable(self) -> None:
        with self.settings(LLM_BASE_URL="http://127.0.0.1:9/v1"):
            self.assertFailed(gateway.GatewayUnavailable, "nicht erreichbar")

    def test_malformed(self) -> None:
        self.llm.mode = "malformed"
        self.assertFailed(gateway.GatewayBadResponse, "keine verwertbare Antwort")

    def test_empty(self) -> None:
        self.llm.mode = "empty"
        self.assertFailed(gateway.GatewayBadResponse, "keine verwertbare Antwort")

    def test_it_retries_server_errors(self) -> None:
        self.llm.mode = "fail"
        with self.settings(LLM_MAX_RETRIES=2), self.assertRaises(gateway.GatewayUnavailable):
            self.complete(NOTE)
        self.assertEqual(len(self.llm.requests), 3)


class ConversationOwnershipTestCase(LLMTestCase):
    def test_it_rejects_another_patients_conversation(self) -> None:
        other = self.complete(NOTE).conversation
        self.give_consent(self.patient)
        with self.assertRaises(ValueError):
            gateway.complete(patient=self.patient, role="dialog", conversation=other,
                             messages=[{"role": "user", "content": "Hallo"}])
        self.assertEqual(len(self.llm.requests), 1)
