"""AI panel: question → task → (streamed) answer with cited sources → accept / edit / reject,
"Was die KI gesehen hat", and every failure as a German message with a retry button."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from duktus.llm import gateway
from duktus.models import AuditEntry, LLMCall, PracticeAISettings
from sessions import services
from sessions.models import AI_BEGIN, AI_END, AIRequest
from tests.llm.base import LLMTestCase
from tests.sessions.helpers import make_session, reload

NOTE = ("Frau Henrike Wolkenstein wirkt heute gedrückt, schläft schlecht. Arbeitet als Verkäuferin bei der "
        "Bäckerei Sonnenschein. PHQ-9: 17.")
QUESTION = "Welche Interventionen empfiehlt die Leitlinie bei mittelgradiger depressiver Episode?"
ANSWER = ("Die Leitlinie nennt Psychotherapie als gleichwertige Option [E1]. Für [PERSON_1] käme "
          "Verhaltensaktivierung in Frage [E2]. Die Entscheidung liegt bei Ihnen.")


class PanelTestCase(LLMTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.session = make_session(self.pat, self.alice, note=NOTE)
        self.ask_url = reverse("sessions:ai_ask", args=[self.session.code])

    def ask(self, question: str = QUESTION) -> Any:
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.ask_url, {"question": question}, HTTP_HX_REQUEST="true")

    def item(self) -> AIRequest:
        item = AIRequest.objects.select_related("session").get()
        item.session.patient = self.pat
        return item

    def url(self, name: str, item: AIRequest) -> str:
        return reverse(f"sessions:{name}", args=[self.session.code, item.code])

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.llm.requests if r["path"].endswith("/chat/completions")]


class AskTestCase(PanelTestCase):
    def test_it_works_with_streamed_answer_and_cited_sources(self) -> None:
        self.llm.reply(ANSWER, chunk_size=12)
        r = self.ask()
        self.assertEqual(r.status_code, 200)
        self.assertIn("duktus:asked", r["HX-Trigger"])
        item = self.item()
        self.assertEqual(item.state, "done")
        self.assertIn("Für Henrike Wolkenstein käme", item.answer)  # restored
        self.assertEqual(len(item.sources), 5)
        self.assertEqual([s["cited"] for s in item.sources[:3]], [True, True, False])
        chat = self.chat_requests()
        self.assertEqual(len(chat), 1)
        body = chat[0]["body"]
        self.assertTrue(body["stream"])
        self.assertEqual(body["temperature"], 0.3)  # the dialog role
        prompt = body["messages"][1]["content"]
        self.assertIn("[E1]", prompt)
        self.assertIn(item.sources[0]["text"], prompt)
        self.assertIn("zitiere", body["messages"][0]["content"])

        page = self.client.get(self.url("ai_item", item))
        self.assertContains(page, "Henrike Wolkenstein käme")
        self.assertContains(page, "KI-generiert")
        self.assertContains(page, "Quellen")
        self.assertContains(page, "zitiert", count=2)
        self.assertNotContains(page, 'hx-trigger="every 1s"')  # done: polling stops
        self.assertContains(page, "In Notiz übernehmen")
        unverified = sum(1 for s in item.sources if not s["verified"])
        self.assertContains(page, "ungeprüft – noch nicht am Leitlinientext geprüft", count=unverified)

    def test_the_answer_is_stored_progressively(self) -> None:
        self.llm.reply(ANSWER, chunk_size=8)
        with mock.patch.object(services, "PARTIAL_SAVE_SECONDS", 0), CaptureQueriesContext(connection) as q:
            self.ask()
        partial = [x for x in q.captured_queries
                   if x["sql"].startswith('UPDATE "therapy_sessions_airequest" SET "answer_ct"') and "WHERE" in x["sql"]]
        self.assertGreater(len(partial), 5)
        self.assertNotIn("Wolkenstein", " ".join(x["sql"] for x in partial))  # encrypted

    def test_a_running_answer_is_polled_every_second(self) -> None:
        self.llm.reply(ANSWER)
        self.ask()
        item = self.item()
        AIRequest.objects.filter(pk=item.pk).update(state="running")
        item.refresh_from_db()
        item.session.patient = self.pat
        item.answer = "Die Leitlinie nennt"
        item.save(update_fields=["answer_ct"])
        page = self.client.get(self.url("ai_item", item))
        self.assertContains(page, 'hx-trigger="every 1s"')
        self.assertContains(page, "wird geschrieben")
        self.assertContains(page, "Die Leitlinie nennt")

    def test_process_notes_never_reach_the_model(self) -> None:
        services.save_note(session=self.session, text="PRIVAT-Gegenübertragung-XYZ", revision=0, field="process_notes")
        self.llm.reply(ANSWER)
        self.ask()
        self.assertEqual(self.item().state, "done")
        for body in self.llm.bodies():
            self.assertNotIn("PRIVAT-Gegen", body)

    def test_recent_sessions_go_into_the_context(self) -> None:
        import datetime as dt

        earlier = make_session(self.pat, self.alice, note="Frühere Sitzung: Exposition geplant.", date=dt.date(2026, 2, 23))
        services.close_session(session=earlier)
        self.llm.reply("Zusammenfassung.")
        self.ask("Fasse die letzten drei Sitzungen zusammen")
        prompt = self.chat_requests()[0]["body"]["messages"][1]["content"]
        self.assertIn("Exposition geplant", prompt)
        self.assertIn("Sitzung vom 23.02.2026", prompt)

    def test_bad_input_is_422_and_nothing_saved(self) -> None:
        r = self.client.post(self.ask_url, {"question": "  "}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 422)
        self.assertEqual(r["HX-Retarget"], "#ask-error")
        self.assertContains(r, "Bitte eine Frage eingeben.", status_code=422)
        self.assertFalse(AIRequest.objects.exists())

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.ask_url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.ask_url, {"question": QUESTION}).status_code, 403)
        self.assertFalse(AIRequest.objects.exists())

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.ask_url, {"question": QUESTION}).status_code, 404)
        self.assertFalse(AIRequest.objects.exists())

    def test_an_expired_login_is_401(self) -> None:
        self.client.logout()
        self.assertEqual(self.client.post(self.ask_url, {"question": QUESTION}).status_code, 401)

    def test_the_task_is_idempotent(self) -> None:
        self.llm.reply(ANSWER)
        self.ask()
        item = self.item()
        services.answer_question(item_id=item.pk)  # a redelivered message
        self.assertEqual(len(self.chat_requests()), 1)
        self.assertEqual(self.item().attempts, 1)

    def test_a_stale_running_claim_is_taken_over(self) -> None:
        import datetime as dt

        from django.utils import timezone

        item = services.ask(session=self.session, question=QUESTION)  # on_commit not run: still queued
        AIRequest.objects.filter(pk=item.pk).update(state="running", started_at=timezone.now() - dt.timedelta(minutes=10))
        self.llm.reply(ANSWER)
        services.answer_question(item_id=item.pk)
        self.assertEqual(self.item().state, "done")


class DecideTestCase(PanelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.llm.reply(ANSWER)
        self.ask()
        self.it = self.item()
        self.decide_url = self.url("ai_decide", self.it)

    def test_accept_appends_the_marked_text_to_the_note(self) -> None:
        r = self.client.post(self.decide_url, {"decision": "accepted"}, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, "data-note-append")
        self.assertContains(r, "übernommen")
        note = reload(self.session).note
        self.assertTrue(note.startswith(NOTE))
        self.assertIn(AI_BEGIN, note)
        self.assertIn("Für Henrike Wolkenstein käme", note)
        self.assertTrue(note.rstrip().endswith(AI_END))
        item = self.item()
        self.assertEqual((item.decision, item.decided_by), ("accepted", self.alice))
        self.assertTrue(AuditEntry.objects.filter(action="session.ai.accepted", object_id=str(item.code)).exists())
        # The revision moved on: the page adopts it with the appended text.
        self.assertContains(r, f'data-revision="{reload(self.session).note_revision}"')

    def test_edit_stores_the_edited_text_marked_as_ai(self) -> None:
        self.client.post(self.decide_url, {"decision": "edited", "text": "Verhaltensaktivierung erwägen (gekürzt)."})
        note = reload(self.session).note
        self.assertIn("bearbeitet", note)
        self.assertIn("Verhaltensaktivierung erwägen (gekürzt).", note)
        self.assertNotIn("gleichwertige Option", note)
        self.assertEqual(self.item().decided_text, "Verhaltensaktivierung erwägen (gekürzt).")

    def test_reject_leaves_the_note_alone(self) -> None:
        self.client.post(self.decide_url, {"decision": "rejected"})
        self.assertEqual(reload(self.session).note, NOTE)
        self.assertEqual(self.item().decision, "rejected")
        self.assertTrue(AuditEntry.objects.filter(action="session.ai.rejected").exists())

    def test_ai_text_stays_marked_in_the_frozen_note_and_versions(self) -> None:
        self.client.post(self.decide_url, {"decision": "accepted"})
        self.client.post(reverse("sessions:close", args=[self.session.code]))
        page = self.client.get(reverse("sessions:detail", args=[self.session.code]))
        self.assertContains(page, 'class="ai-text"', count=2)  # current note + version 1
        self.assertContains(page, "KI-generiert, übernommen")

    def test_bad_input_is_422_and_nothing_saved(self) -> None:
        r = self.client.post(self.decide_url, {"decision": "edited", "text": " "})
        self.assertEqual(r.status_code, 422)
        self.assertContains(r, "Der bearbeitete Text ist leer.", status_code=422)
        self.assertEqual(self.item().decision, "pending")
        self.assertEqual(reload(self.session).note, NOTE)

    def test_a_second_decision_is_refused(self) -> None:
        self.client.post(self.decide_url, {"decision": "rejected"})
        r = self.client.post(self.decide_url, {"decision": "accepted"})
        self.assertContains(r, "bereits entschieden", status_code=422)
        self.assertEqual(reload(self.session).note, NOTE)

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.decide_url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.decide_url, {"decision": "accepted"}).status_code, 403)
        self.assertEqual(self.item().decision, "pending")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.decide_url, {"decision": "accepted"}).status_code, 404)
        self.assertEqual(self.item().decision, "pending")


class SeenTestCase(PanelTestCase):
    def test_it_shows_exactly_what_left_the_system(self) -> None:
        self.llm.reply(ANSWER)
        self.ask()
        item = self.item()
        r = self.client.get(self.url("ai_seen", item))
        self.assertEqual(r.status_code, 200)
        received = self.chat_requests()[0]["body"]["messages"]
        self.assertEqual(services.sent_messages(item=item), received)
        html = r.content.decode()
        for m in received:
            # The page shows each message verbatim (HTML-escaped).
            from django.utils.html import escape

            self.assertIn(escape(m["content"]), html)
        self.assertNotIn("Wolkenstein", html)
        self.assertIn("[PERSON_", html)
        self.assertTrue(AuditEntry.objects.filter(action="session.ai.seen").exists())

    def test_nothing_sent_says_so(self) -> None:
        PracticeAISettings.objects.all().delete()
        self.ask()
        r = self.client.get(self.url("ai_seen", self.item()))
        self.assertContains(r, "nichts an die KI gesendet")

    def test_it_requires_clinical_role(self) -> None:
        self.ask()
        self.login(self.bob)
        self.assertEqual(self.client.get(self.url("ai_seen", self.item())).status_code, 403)

    def test_it_checks_ownership(self) -> None:
        self.ask()
        self.login(self.charlie)
        self.assertEqual(self.client.get(self.url("ai_seen", self.item())).status_code, 404)
        self.assertEqual(self.client.get(self.url("ai_item", self.item())).status_code, 404)

    def test_it_rejects_post(self) -> None:
        self.ask()
        self.assertEqual(self.client.post(self.url("ai_seen", self.item())).status_code, 405)


class FailureTestCase(PanelTestCase):
    """Every failure: a German message and a retry button; question and note survive; no 500."""

    def assertFailedWith(self, message: str) -> AIRequest:
        r = self.ask()
        self.assertEqual(r.status_code, 200)
        item = self.item()
        self.assertEqual(item.state, "failed")
        self.assertIn(message, item.error_message)
        self.assertEqual(item.question, QUESTION)
        self.assertEqual(reload(self.session).note, NOTE)
        page = self.client.get(self.url("ai_item", item))
        self.assertContains(page, message)
        self.assertContains(page, "Erneut versuchen")
        self.assertContains(page, QUESTION)
        self.assertNotIn("Wolkenstein", item.error_message)
        return item

    def retry_ok(self, item: AIRequest, **data: str) -> None:
        self.llm.reply(ANSWER)
        with self.captureOnCommitCallbacks(execute=True):
            r = self.client.post(self.url("ai_retry", item), data, HTTP_HX_REQUEST="true")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(self.item().state, "done")
        self.assertIn("Henrike Wolkenstein", self.item().answer)

    def test_outage(self) -> None:
        self.llm.mode = "fail"
        item = self.assertFailedWith("nicht erreichbar")
        # What was sent before the model failed is still shown.
        seen = self.client.get(self.url("ai_seen", item))
        self.assertContains(seen, "Genau dieser anonymisierte Text")
        self.assertNotContains(seen, "Wolkenstein")
        self.retry_ok(item)

    def test_timeout(self) -> None:
        self.llm.mode, self.llm.delay = "slow", 1.5
        with self.settings(LLM_TIMEOUT_SECONDS=0.3):
            item = self.assertFailedWith("nicht rechtzeitig")
        self.retry_ok(item)

    def test_malformed(self) -> None:
        self.llm.mode = "malformed"
        self.retry_ok(self.assertFailedWith("keine verwertbare Antwort"))

    def test_unreachable(self) -> None:
        with self.settings(LLM_BASE_URL="http://127.0.0.1:9/v1"):
            self.assertFailedWith("nicht erreichbar")

    def test_no_consent(self) -> None:
        self.give_consent(self.pat, action="withdrawn")
        item = self.assertFailedWith("keine Einwilligung")
        self.assertEqual(self.chat_requests(), [])
        page = self.client.get(reverse("sessions:detail", args=[self.session.code]))
        self.assertContains(page, 'id="ai-notice"')
        self.give_consent(self.pat)
        self.retry_ok(item)

    def test_ai_switched_off(self) -> None:
        PracticeAISettings.objects.all().delete()
        self.assertFailedWith("nicht freigeschaltet")
        self.assertEqual(self.llm.requests, [])

    def test_no_model_configured(self) -> None:
        with self.settings(LLM_API_KEY=""):
            self.assertFailedWith("Kein KI-Modell konfiguriert")
            page = self.client.get(reverse("sessions:detail", args=[self.session.code]))
            self.assertContains(page, "Notizen und Leitliniensuche funktionieren ohne Modell")
        self.assertEqual(self.llm.requests, [])

    def test_unexpected_error_is_not_a_500(self) -> None:
        with mock.patch.object(services, "build_messages", side_effect=RuntimeError("boom")):
            self.assertFailedWith("fehlgeschlagen")

    def test_leak_guard_blocks_and_shows_what_was_found(self) -> None:
        anon = gateway.anonymizer()
        real = anon.anonymize

        class Unchanged:
            def __init__(self, text: str, mapping: object) -> None:
                self.text, self.mapping = text, mapping

        anon.anonymize = lambda text, mapping=None, **kw: Unchanged(text, mapping)  # type: ignore[method-assign]
        self.addCleanup(lambda: setattr(anon, "anonymize", real))
        item = self.assertFailedWith("nicht gesendet")
        self.assertIn("PERSON", item.error_message)
        self.assertEqual(self.chat_requests(), [])
        self.assertEqual(LLMCall.objects.filter(status="blocked").count(), 1)
        self.assertTrue(AuditEntry.objects.filter(action="llm.blocked").exists())

    def test_a_warning_can_be_overridden_audited(self) -> None:
        from anonymizer import Entity

        anon = gateway.anonymizer()
        real = anon.residual_risk
        anon.residual_risk = lambda text, known=(): [Entity(0, 3, "PERSON", "xyz", severity="warn")]  # type: ignore[method-assign]
        self.addCleanup(lambda: setattr(anon, "residual_risk", real))
        item = self.assertFailedWith("möglicherweise noch identifizierende")
        page = self.client.get(self.url("ai_item", item))
        self.assertContains(page, "trotzdem senden")
        self.assertEqual(self.chat_requests(), [])
        self.retry_ok(item, override="1")
        self.assertTrue(self.item().override_warnings)
        self.assertTrue(AuditEntry.objects.filter(action="session.ai.override", detail="PERSON").exists())
        self.assertIn("übergangen", AuditEntry.objects.filter(action="llm.call").latest("id").detail)

    def test_override_without_warning_is_refused(self) -> None:
        self.llm.mode = "fail"
        item = self.assertFailedWith("nicht erreichbar")
        r = self.client.post(self.url("ai_retry", item), {"override": "1"})
        self.assertContains(r, "keine Warnung", status_code=422)
        self.assertEqual(self.item().state, "failed")

    def test_retry_rejects_get(self) -> None:
        self.llm.mode = "fail"
        item = self.assertFailedWith("nicht erreichbar")
        self.assertEqual(self.client.get(self.url("ai_retry", item)).status_code, 405)

    def test_retry_requires_clinical_role(self) -> None:
        self.llm.mode = "fail"
        item = self.assertFailedWith("nicht erreichbar")
        self.login(self.bob)
        self.assertEqual(self.client.post(self.url("ai_retry", item)).status_code, 403)
        self.assertEqual(self.item().state, "failed")

    def test_retry_checks_ownership(self) -> None:
        self.llm.mode = "fail"
        item = self.assertFailedWith("nicht erreichbar")
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.url("ai_retry", item)).status_code, 404)
        self.assertEqual(self.item().state, "failed")


class AuditTestCase(PanelTestCase):
    def test_ask_answer_accept_are_audited_without_content(self) -> None:
        self.llm.reply(ANSWER)
        self.ask()
        item = self.item()
        self.client.post(self.url("ai_decide", item), {"decision": "accepted"})
        actions = set(AuditEntry.objects.filter(object_id=str(item.code)).values_list("action", flat=True))
        self.assertTrue({"session.ai.ask", "session.ai.answer", "session.ai.accepted"} <= actions)
        blob = json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)))
        self.assertNotIn("Wolkenstein", blob)
        self.assertNotIn("Interventionen", blob)


class CancelTestCase(PanelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.it = services.ask(session=self.session, question=QUESTION)  # on_commit not run: still queued
        self.it.session = self.session
        self.cancel_url = self.url("ai_cancel", self.it)

    def test_a_queued_question_never_starts(self) -> None:
        r = self.client.post(self.cancel_url, HTTP_HX_REQUEST="true")
        self.assertContains(r, "abgebrochen")
        self.assertContains(r, "Erneut versuchen")
        services.answer_question(item_id=self.it.pk)  # the queued message arrives later
        self.assertEqual(self.item().state, "failed")
        self.assertEqual(self.llm.requests, [])
        self.assertTrue(AuditEntry.objects.filter(action="session.ai.cancel").exists())
        self.llm.reply(ANSWER)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(self.url("ai_retry", self.it))
        self.assertEqual(self.item().state, "done")
        self.assertEqual(self.item().question, QUESTION)

    def test_a_running_answer_stops_at_the_next_piece(self) -> None:
        self.llm.reply(ANSWER, chunk_size=4)
        checks = iter([False, False, False])
        with mock.patch.object(services, "PARTIAL_SAVE_SECONDS", 0), \
                mock.patch.object(services, "_cancelled", lambda item_id: next(checks, True)):
            services.answer_question(item_id=self.it.pk)
        item = self.item()
        self.assertEqual((item.state, item.error_kind), ("failed", "Cancelled"))
        self.assertIn("abgebrochen", item.error_message)
        self.assertEqual(LLMCall.objects.get().error_kind, "Cancelled")
        self.assertEqual(reload(self.session).note, NOTE)

    def test_a_finished_answer_cannot_be_cancelled(self) -> None:
        self.llm.reply(ANSWER)
        services.answer_question(item_id=self.it.pk)
        r = self.client.post(self.cancel_url)
        self.assertContains(r, "läuft nicht mehr", status_code=422)
        self.assertEqual(self.item().state, "done")

    def test_it_rejects_get(self) -> None:
        self.assertEqual(self.client.get(self.cancel_url).status_code, 405)

    def test_it_requires_clinical_role(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.post(self.cancel_url).status_code, 403)
        self.assertEqual(self.item().state, "queued")

    def test_it_checks_ownership(self) -> None:
        self.login(self.charlie)
        self.assertEqual(self.client.post(self.cancel_url).status_code, 404)
        self.assertEqual(self.item().state, "queued")


class MarkingTestCase(PanelTestCase):
    def test_accepted_text_cannot_lose_its_ai_marking(self) -> None:
        self.llm.reply(ANSWER)
        self.ask()
        item = self.item()
        self.client.post(self.url("ai_decide", item), {"decision": "accepted"})
        session = reload(self.session)
        stripped = session.note.replace(AI_END, "").split("⟦KI-generiert")[0] + item.answer
        save = reverse("sessions:note_save", args=[self.session.code])
        r = self.client.post(save, {"field": "note", "text": stripped, "revision": session.note_revision})
        self.assertEqual(r.status_code, 409)
        self.assertIn("gekennzeichnet bleiben", r.json()["error"])
        self.assertEqual(reload(self.session).note, session.note)
        # Editing inside the marking, or deleting the AI text, is fine.
        edited = session.note.replace("gleichwertige Option", "mögliche Option")
        self.assertEqual(self.client.post(save, {"field": "note", "text": edited, "revision": session.note_revision}).status_code, 200)
        self.assertEqual(self.client.post(save, {"field": "note", "text": NOTE, "revision": session.note_revision + 1}).status_code, 200)


class MemoryContextTestCase(PanelTestCase):
    def test_confirmed_memory_goes_into_the_context_and_is_listed(self) -> None:
        from memory import services as memory_services

        entry = memory_services.add_entry(patient=self.pat, type="clinical_fact", text="Schlafstörung seit Januar 2026", user=self.alice)
        self.llm.reply(ANSWER)
        self.ask("Was wissen wir über den Schlaf?")
        item = self.item()
        self.assertEqual(item.memory_refs, [str(entry.code)])
        prompt = self.chat_requests()[0]["body"]["messages"][1]["content"]
        self.assertIn("Schlafstörung seit Januar 2026", prompt)
        page = self.client.get(self.url("ai_item", item))
        self.assertContains(page, "Verwendete Erinnerungen (1)")
        self.assertContains(page, "Schlafstörung seit Januar 2026")
