from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.urls import reverse

from tests.base import PASSWORD, BaseTestCase, totp_now


class TOTPLoginTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.logout()

    def test_password_then_totp(self) -> None:
        r = self.client.post(reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD})
        self.assertEqual(r.status_code, 302)
        self.assertEqual(r["Location"], reverse("mfa_authenticate"))
        # Not logged in yet: patient data is out of reach.
        self.assertEqual(self.client.get(reverse("patients:list")).status_code, 302)
        r = self.client.post(reverse("mfa_authenticate"), {"code": "000000"})
        self.assertContains(r, "Code")  # wrong code: form shown again
        r = self.client.post(reverse("mfa_authenticate"), {"code": totp_now(self.alice.totp_secret)})
        self.assertEqual(r.status_code, 302)
        self.assertContains(self.client.get(reverse("patients:list")), "Berger, Anna")

    def test_wrong_password(self) -> None:
        r = self.client.post(reverse("account_login"), {"login": "alice@example.org", "password": "falsch-falsch-falsch"})
        self.assertEqual(r.status_code, 200)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_login_is_rate_limited(self) -> None:
        for _ in range(5):
            self.client.post(reverse("account_login"), {"login": "alice@example.org", "password": "falsch-falsch-falsch"})
        r = self.client.post(reverse("account_login"), {"login": "alice@example.org", "password": PASSWORD})
        # Even the right password does not get through while the limit holds.
        self.assertNotEqual(r.get("Location"), reverse("mfa_authenticate"))
        self.assertIn(r.status_code, (200, 429))
        self.assertContains(r, "Anmeldeversuche", status_code=r.status_code)

    def test_signup_is_closed(self) -> None:
        r = self.client.get(reverse("account_signup"))
        self.assertContains(r, "geschlossen", status_code=200) if r.status_code == 200 else self.assertIn(r.status_code, (302, 403, 404))

    def test_session_expires_after_inactivity(self) -> None:
        import datetime as dt

        import time_machine
        from django.utils import timezone

        start = timezone.now()
        with time_machine.travel(start, tick=False) as traveller:
            self.client.force_login(self.alice)
            self.assertEqual(self.client.get(reverse("patients:list")).status_code, 200)
            traveller.move_to(start + dt.timedelta(minutes=25))  # activity keeps it alive
            self.assertEqual(self.client.get(reverse("patients:list")).status_code, 200)
            traveller.move_to(start + dt.timedelta(minutes=25 + 31))
            r = self.client.get(reverse("patients:list"))
            self.assertEqual(r.status_code, 302)
            self.assertIn("/accounts/login/", r["Location"])
        self.assertEqual(settings.SESSION_COOKIE_AGE, 30 * 60)

    def test_security_headers(self) -> None:
        self.client.force_login(self.alice)
        r = self.client.get(reverse("patients:list"))
        self.assertIn("default-src 'self'", r["Content-Security-Policy"])
        self.assertEqual(r["X-Frame-Options"], "DENY")
        self.assertEqual(r["Cache-Control"], "no-store")
        self.assertEqual(r["X-Content-Type-Options"], "nosniff")

    def test_csrf_is_enforced(self) -> None:
        from django.test import Client

        c = Client(enforce_csrf_checks=True)
        c.force_login(self.alice)
        r = c.post(reverse("patients:create"), {})
        self.assertEqual(r.status_code, 403)


class DeployCheckTestCase(BaseTestCase):
    def test_production_settings_pass_check_deploy(self) -> None:
        import os

        env = {
            **os.environ,
            "DUKTUS_ENV": "production",
            "SECRET_KEY": "x" * 30 + "-production-secret-key-for-the-check-only-0123456789",
            "ALLOWED_HOSTS": "praxis.example.org",
            "DATABASE_URL": "postgresql://duktus:pw@127.0.0.1:5432/duktus",
            "DUKTUS_MASTER_KEY": "1:" + "A" * 43 + "=",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "CACHE_URL": "redis://127.0.0.1:6379/1",
        }
        r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_production_without_secrets_fails_loudly(self) -> None:
        import os

        env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
        env["DUKTUS_ENV"] = "production"
        r = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SECRET_KEY", r.stderr)

    def test_production_requires_a_shared_cache_for_rate_limits(self) -> None:
        import os

        env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
        env.update({"DUKTUS_ENV": "production", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "praxis.example.org",
                    "DATABASE_URL": "postgresql://duktus:pw@127.0.0.1:5432/duktus", "DUKTUS_MASTER_KEY": "1:" + "A" * 43 + "=",
                    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"})
        r = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, cwd=settings.BASE_DIR)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CACHE_URL", r.stderr)
