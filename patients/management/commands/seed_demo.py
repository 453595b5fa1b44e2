from __future__ import annotations

import json
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from duktus import crypto
from duktus.models import Practice, Role
from duktus.services import add_member, create_practice
from patients import icd10gm, services
from patients.demo import demo_patients
from patients.models import ConsentAction, ConsentGivenBy, ConsentPurpose, Patient

DEMO_PRACTICE = "Psychotherapeutische Praxis am Stadtpark (Demo)"
DEMO_PASSWORD = "duktus-Demo-2026"  # synthetic demo only; the command refuses to run in production
DEMO_USERS = [
    ("dr.sommer@demo.duktus.de", "Dr. Clara Sommer", Role.OWNER),
    ("j.brandt@demo.duktus.de", "Jakob Brandt", Role.THERAPIST),
    ("empfang@demo.duktus.de", "Empfang (Assistenz)", Role.ASSISTANT),
]


class Command(BaseCommand):
    help = "Legt eine Demo-Praxis mit synthetischen Daten an (idempotent) und zeigt die Zugänge."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="Ausgabe als JSON (inkl. Patientendaten)")
        parser.add_argument("--patients", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo ist in Produktion gesperrt.")
        with transaction.atomic():
            practice = Practice.objects.filter(name=DEMO_PRACTICE).first() or create_practice(
                name=DEMO_PRACTICE, street="Am Stadtpark 1", postal_code="10115", city="Berlin", phone="030 1234567"
            )
            users = {}
            logins = []
            User = get_user_model()
            for email, name, role in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(username=email, email=email, password=DEMO_PASSWORD)
                    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                add_member(practice=practice, user=user, role=role, display_name=name)
                secret = None
                if role != Role.ASSISTANT:
                    auth = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
                    if auth is None:
                        secret = generate_totp_secret()
                        TOTP.activate(user, secret)
                    else:
                        secret = crypto.decrypt_system(auth.data["secret"])
                users[role] = user
                logins.append({"email": email, "name": name, "role": role.value, "password": DEMO_PASSWORD, "totp_secret": secret})
            existing = Patient.objects.filter(practice=practice).count()
            if existing < options["patients"]:
                for i, data in enumerate(demo_patients(options["patients"])[existing:], start=existing):
                    self._create(practice, data, users[Role.OWNER] if i % 2 else users[Role.THERAPIST])
        patients = []
        for p in Patient.objects.filter(practice=practice).select_related("data_key").order_by("id"):
            p.practice = practice
            patients.append({"code": str(p.code), "pseudonym": p.pseudonym, "first_name": p.first_name, "last_name": p.last_name,
                             "birth_date": p.birth_date.isoformat() if p.birth_date else None, "insurance_number": p.insurance_number})
        if options["json"]:
            self.stdout.write(json.dumps({"practice": practice.name, "users": logins, "patients": patients}, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"Demo-Praxis: {practice.name} ({len(patients)} Patient/innen)")
        for login in logins:
            totp = f"  TOTP-Geheimnis: {login['totp_secret']}" if login["totp_secret"] else "  (kein TOTP: Assistenz)"
            self.stdout.write(f"  {login['role']:<10} {login['email']:<28} Passwort: {login['password']}{totp}")
        self.stdout.write("TOTP-Geheimnis in eine Authenticator-App eintragen (oder: oathtool --totp -b GEHEIMNIS).")

    def _create(self, practice: Practice, data: dict[str, Any], therapist: Any) -> None:
        code, certainty, start = data["_diagnosis"]
        phase, sessions, approved_on, used = data["_approval"]
        fields = {k: v for k, v in data.items() if not k.startswith("_")}
        patient = services.create_patient(practice=practice, data=fields, therapist=therapist)
        found = icd10gm.lookup(code)
        services.add_diagnosis(patient=patient, icd_code=code, icd_version=found.version if found else 2025,
                               certainty=certainty, is_primary=True, diagnosed_on=start)
        if data["_ai_consent"]:
            services.record_consent(patient=patient, purpose=ConsentPurpose.AI, action=ConsentAction.GIVEN, effective_on=start,
                                    given_by=ConsentGivenBy.GUARDIAN if data["is_minor"] else ConsentGivenBy.PATIENT)
        services.add_approval(patient=patient, phase=phase, approved_sessions=sessions, approved_on=approved_on, sessions_used=used)
