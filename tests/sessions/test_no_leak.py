"""A richly seeded patient, several sessions and conversations: none of the patient's
identifiers ever reaches the (fake) model server — chat and embedding requests alike, including
the memory extraction that closing a session starts."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from sessions.models import AIRequest
from tests.llm.base import SECRETS, LLMTestCase
from tests.sessions.helpers import make_session

NOTES = [
    "Frau Henrike Wolkenstein (geb. 12.04.1979), Kastanienallee 77, 10435 Berlin, Tel. 0176 24681357, "
    "E-Mail h.wolkenstein@posteo.de, KVNR K987654321. Arbeitet als Verkäuferin bei der Bäckerei Sonnenschein. "
    "Ihr Vater Dietrich Wolkenstein begleitet sie. Stimmung gedrückt, PHQ-9: 17.",
    "Henrikes Schlaf ist besser. Konflikt mit dem Vater (Herr Wolkenstein) wegen der Schichten in der Bäckerei Sonnenschein. "
    "Hausaufgabe: Aktivitätenprotokoll.",
    "Frau Wolkenstein berichtet, Dietrich habe angerufen (0176 24681357). Sie überlegt, die Stelle bei der Bäckerei Sonnenschein zu kündigen.",
]
QUESTIONS = [
    ["Welche Interventionen empfiehlt die Leitlinie bei mittelgradiger depressiver Episode für Frau Wolkenstein?",
     "Was hat Henrike über ihren Vater Dietrich Wolkenstein gesagt?"],
    ["Formuliere drei Hausaufgaben zur Verhaltensaktivierung für Henrike (Tel. 0176 24681357, h.wolkenstein@posteo.de).",
     "Wie passt die Arbeit in der Bäckerei Sonnenschein zur Aktivierung?"],
    ["Fasse die letzten drei Sitzungen zusammen.",
     "Sie wohnt Kastanienallee 77 in 10435 Berlin, KVNR K987654321 – was ist beim Folgeantrag zu beachten?"],
]
# What the patient record holds: names, relative, address, birth date, phone, e-mail, KVNR, employer.
KNOWN = SECRETS


class NoLeakTestCase(LLMTestCase):
    def run_sessions(self) -> list[str]:
        self.llm.reply("[PERSON_1] könnte von Verhaltensaktivierung profitieren [E1].", chunk_size=9)
        for i, (note, questions) in enumerate(zip(NOTES, QUESTIONS, strict=True)):
            session = make_session(self.pat, self.alice, note=note, date=dt.date(2026, 3, 2) + dt.timedelta(days=7 * i))
            for q in questions:
                with self.captureOnCommitCallbacks(execute=True):
                    r = self.client.post(reverse("sessions:ai_ask", args=[session.code]), {"question": q}, HTTP_HX_REQUEST="true")
                self.assertEqual(r.status_code, 200)
            with self.captureOnCommitCallbacks(execute=True):
                self.client.post(reverse("sessions:close", args=[session.code]))
        items = list(AIRequest.objects.select_related("session").order_by("id"))
        self.assertEqual([it.state for it in items], ["done"] * 6)
        dialog = [r for r in self.llm.requests if r["path"].endswith("/chat/completions") and r["body"].get("stream")]
        self.assertEqual(len(dialog), 6)
        # Earlier sessions' notes went along (as placeholders), so they are covered too.
        self.assertIn("Aktivitätenprotokoll", dialog[-1]["body"]["messages"][1]["content"])
        self.assertGreater(len(self.llm.requests), len(dialog))  # embeddings and memory extraction as well
        for it in items:  # restored for the therapist
            it.session.patient = self.pat
            self.assertIn("Henrike Wolkenstein könnte", it.answer)
        return [b.casefold() for b in self.llm.bodies()]

    def test_no_identifier_of_the_record_reaches_the_model(self) -> None:
        bodies = self.run_sessions()
        for s in KNOWN:
            for body in bodies:
                self.assertNotIn(s.casefold(), body, f"identifier reached the server: {s}")
