from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from duktus.models import Membership
from patients.models import Patient
from patients.validators import kvnr_is_valid
from tests.base import totp_now


class SeedDemoTestCase(TestCase):
    def run_json(self) -> dict:
        out = StringIO()
        call_command("seed_demo", "--json", stdout=out)
        return json.loads(out.getvalue())

    def test_it_is_idempotent_and_prints_logins(self) -> None:
        first = self.run_json()
        second = self.run_json()
        self.assertEqual(Patient.objects.count(), 20)
        self.assertEqual(first, second)
        roles = sorted(u["role"] for u in first["users"])
        self.assertEqual(roles, ["assistant", "owner", "therapist"])
        self.assertEqual(Membership.objects.count(), 3)
        for u in first["users"]:
            if u["role"] != "assistant":
                self.assertRegex(u["totp_secret"], r"^[A-Z2-7]{32}$")
        for p in first["patients"]:
            self.assertTrue(p["first_name"] and p["last_name"] and p["birth_date"])
            if p["insurance_number"]:
                self.assertTrue(kvnr_is_valid(p["insurance_number"]))

    def test_demo_login_works_with_printed_secret(self) -> None:
        data = self.run_json()
        owner = next(u for u in data["users"] if u["role"] == "owner")
        r = self.client.post("/accounts/login/", {"login": owner["email"], "password": owner["password"]})
        self.assertEqual(r["Location"], "/accounts/2fa/authenticate/")
        r = self.client.post("/accounts/2fa/authenticate/", {"code": totp_now(owner["totp_secret"])})
        self.assertEqual(r.status_code, 302)
        r = self.client.get("/patienten/")
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, data["patients"][0]["last_name"])

    def test_human_output(self) -> None:
        out = StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("TOTP-Geheimnis", out.getvalue())
        self.assertIn("dr.sommer@demo.duktus.de", out.getvalue())
