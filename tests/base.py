"""Personas and builders (STYLE.md §7).

Alice: therapist in practice A (TOTP on). Olga: owner of practice A. Bob: assistant in practice A.
Charlie: therapist in practice B. Each test gets fresh rows (no shared encrypted instances).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import struct
import time
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.test import TestCase, TransactionTestCase

from duktus.models import Role
from duktus.services import add_member, create_practice
from patients import services as patient_services
from patients.models import Patient

PASSWORD = "Sehr-geheimes-Passwort-42"


def totp_now(secret: str, at: float | None = None) -> str:
    counter = int((at or time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


def make_user(email: str, practice: Any = None, role: str | None = None, *, totp: bool = True, name: str = "") -> Any:
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    user.totp_secret = None
    if practice is not None and role is not None:
        add_member(practice=practice, user=user, role=role, display_name=name or email)
        if totp and role != Role.ASSISTANT:
            secret = generate_totp_secret()
            TOTP.activate(user, secret)
            user.totp_secret = secret
    return user


def make_practice(name: str = "Praxis A") -> Any:
    return create_practice(name=name, city="Berlin")


PATIENT_DEFAULTS: dict[str, Any] = {
    "first_name": "Anna",
    "last_name": "Berger",
    "birth_date": dt.date(1981, 3, 15),
    "gender": "female",
    "street": "Lindenstraße 12",
    "postal_code": "10115",
    "city": "Berlin",
    "phone": "030 5550123",
    "email": "anna.berger@example.org",
    "insurance_type": "gkv",
    "insurer": "AOK Nordost",
    "insurance_number": "A123456780",
    "treatment_start": dt.date(2026, 1, 10),
    "treatment_end": None,
    "is_minor": False,
    "guardian_name": "",
    "guardian_contact": "",
    "guardian_custody": "",
}


def make_patient(practice: Any, therapist: Any = None, **overrides: Any) -> Patient:
    data = {**PATIENT_DEFAULTS, **overrides}
    return patient_services.create_patient(practice=practice, data=data, therapist=therapist)


def patient_form_data(**overrides: Any) -> dict[str, Any]:
    data = {**PATIENT_DEFAULTS, **overrides}
    out: dict[str, Any] = {}
    for k, v in data.items():
        if v is None or v is False:
            continue
        out[k] = v.isoformat() if isinstance(v, dt.date) else ("on" if v is True else v)
    return out


class PersonasMixin:
    client: Any

    def setUp(self) -> None:
        super().setUp()
        self.practice = make_practice("Praxis A")
        self.alice = make_user("alice@example.org", self.practice, Role.THERAPIST, name="Alice")
        self.olga = make_user("olga@example.org", self.practice, Role.OWNER, name="Olga")
        self.bob = make_user("bob@example.org", self.practice, Role.ASSISTANT, name="Bob")
        self.practice_b = make_practice("Praxis B")
        self.charlie = make_user("charlie@example.org", self.practice_b, Role.THERAPIST, name="Charlie")
        self.patient = make_patient(self.practice, therapist=self.alice)
        self.client.force_login(self.alice)

    def login(self, user: Any) -> None:
        self.client.logout()
        self.client.force_login(user)


class BaseTestCase(PersonasMixin, TestCase):
    pass


class BaseTransactionTestCase(PersonasMixin, TransactionTestCase):
    """For tests where another process or connection must see committed rows."""
