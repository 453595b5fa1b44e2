"""Create patients through the web forms, dump the database with pg_dump and prove that none
of their identifying or health values occur in the dump, in any encoding we could think of."""

from __future__ import annotations

import base64
import codecs
import json
import subprocess
import urllib.parse

from django.db import connection
from django.urls import reverse

from duktus.embedded import postgres_bin
from tests.base import BaseTransactionTestCase, patient_form_data

SECRETS = [
    {"first_name": "Özlem", "last_name": "Käßmann-Wöhrle", "birth_date": "1977-08-29", "insurance_number": "K987654329",
     "street": "Quellenstraße 17", "postal_code": "04109", "city": "Leipzig", "phone": "0341 9988776", "email": "oezlem.kw@example.net",
     "employer": "Gärtnerei Wunderlich"},
    {"first_name": "Radosław", "last_name": "Zieliński", "birth_date": "1990-12-03", "insurance_number": "Z112233445",
     "street": "Ährenfeldweg 3", "postal_code": "01067", "city": "Dresden", "phone": "0351 4455667", "email": "r.zielinski@example.net",
     "employer": "Spedition Körbel"},
]
DIAGNOSIS_NOTE = "Rezidivierende Panikattacken nach Trennung vom Ehemann"


def encodings(value: str) -> set[bytes]:
    forms = {value, value.lower(), value.upper(), value.casefold()}
    out: set[bytes] = set()
    for f in forms:
        out.add(f.encode("utf-8"))
        out.add(json.dumps(f).strip('"').encode())  # \u00f6 escapes
        out.add(f.encode("utf-8").hex().encode())  # bytea hex
        out.add(urllib.parse.quote(f).encode())
        out.add(base64.b64encode(f.encode()).rstrip(b"="))
        try:
            out.add(f.encode("latin-1"))
        except UnicodeEncodeError:
            pass
        out.add(codecs.encode(f, "unicode_escape"))
    return {o for o in out if len(o) >= 4}


class PgDumpTestCase(BaseTransactionTestCase):
    def test_no_plaintext_in_dump(self) -> None:
        for s in SECRETS:
            data = patient_form_data(**s)
            r = self.client.post(reverse("patients:create"), data)
            self.assertEqual(r.status_code, 302, r.content[:2000])
            code = r["Location"].rstrip("/").split("/")[-1]
            r = self.client.post(reverse("patients:diagnosis_add", args=[code]),
                                 {"icd_code": "F41.0", "certainty": "G", "diagnosed_on": "2026-01-05", "note": DIAGNOSIS_NOTE})
            self.assertEqual(r.status_code, 302)
        params = connection.get_connection_params()
        dump = subprocess.run(
            [str(postgres_bin("pg_dump")), "-h", params["host"], "-U", "postgres", connection.settings_dict["NAME"]],
            check=True, capture_output=True,
        ).stdout
        self.assertGreater(len(dump), 10_000)
        self.assertIn(b"patients_patient", dump)
        # A bare 5-digit postal code can occur by chance inside timestamps (microseconds), so it is
        # checked together with the city below instead of alone.
        values = [v for s in SECRETS for k, v in s.items() if k != "postal_code"]
        values += [f"{s['postal_code']} {s['city']}" for s in SECRETS] + [DIAGNOSIS_NOTE, "Panikattacken", "Trennung vom Ehemann"]
        for value in values:
            for enc in encodings(value):
                self.assertNotIn(enc, dump, f"{value!r} found in dump as {enc!r}")
        # Dates as the application would format them, too.
        for s in SECRETS:
            y, m, d = s["birth_date"].split("-")
            self.assertNotIn(f"{d}.{m}.{y}".encode(), dump)
