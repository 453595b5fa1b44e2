from __future__ import annotations

from tests.base import BaseTestCase


class NavigationTestCase(BaseTestCase):
    def nav(self) -> str:
        html = self.client.get("/patienten/").content.decode()
        return html[html.index("<nav>"):html.index("</nav>")]

    def test_owner_reaches_the_practice_pages(self) -> None:
        self.login(self.olga)
        nav = self.nav()
        for href in ('href="/ki/einstellungen/"', 'href="/datenschutz/aufbewahrung/"', 'href="/dokumente/briefkopf/"',
                     'href="/leitlinien/"'):
            self.assertIn(href, nav)

    def test_therapist_gets_the_clinical_links_only(self) -> None:
        nav = self.nav()
        self.assertIn('href="/leitlinien/"', nav)
        self.assertNotIn('href="/ki/einstellungen/"', nav)

    def test_assistant_gets_no_clinical_link(self) -> None:
        self.login(self.bob)
        nav = self.nav()
        self.assertNotIn('href="/leitlinien/"', nav)
        self.assertNotIn("Fragebögen", nav)
