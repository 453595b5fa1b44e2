"""Synthetic demo data (no real persons). Deterministic, so seed_demo is idempotent."""

from __future__ import annotations

import datetime as dt
import random

from patients.validators import kvnr_check_digit

FIRST_F = ["Anna", "Lena", "Sophie", "Marie", "Julia", "Katharina", "Elif", "Zeynep", "Agnieszka", "Mia", "Hannah", "Sabine", "Petra", "Lea", "Nora"]
FIRST_M = ["Lukas", "Jonas", "Felix", "Maximilian", "Tobias", "Mehmet", "Paul", "Stefan", "Andreas", "Jan", "Piotr", "Niklas", "Thomas", "Emre", "David"]
LAST = ["Berger", "Hoffmann", "Schneider", "Weber", "Yılmaz", "Kowalski", "Krüger", "Lehmann", "Schäfer", "Neumann", "Zimmermann", "Wagner", "Öztürk", "Fischer", "Becker", "Hartmann", "Möller", "Schulz", "Braun", "Vogel"]
STREETS = ["Lindenstraße", "Goethestraße", "Am Stadtpark", "Hauptstraße", "Bahnhofstraße", "Mühlenweg", "Schillerplatz", "Rosenweg", "Kirchgasse", "Friedrichstraße"]
CITIES = [("10115", "Berlin"), ("20095", "Hamburg"), ("50667", "Köln"), ("80331", "München"), ("04109", "Leipzig"), ("01067", "Dresden"), ("60311", "Frankfurt am Main"), ("28195", "Bremen")]
INSURERS = ["AOK Nordost", "Techniker Krankenkasse", "BARMER", "DAK-Gesundheit", "IKK classic", "KKH"]
DIAGNOSES = [("F32.1", "G"), ("F33.1", "G"), ("F41.1", "G"), ("F43.1", "G"), ("F40.1", "G"), ("F41.0", "V"), ("F43.2", "G"), ("F50.2", "G"), ("F60.31", "V"), ("F42.2", "G")]


def make_kvnr(rng: random.Random) -> str:
    letter = chr(ord("A") + rng.randrange(26))
    digits = "".join(str(rng.randrange(10)) for _ in range(8))
    return f"{letter}{digits}{kvnr_check_digit(letter, digits)}"


def demo_patients(count: int = 20, seed: int = 20261122, today: dt.date | None = None) -> list[dict]:
    rng = random.Random(seed)
    today = today or dt.date(2026, 11, 1)
    out = []
    for i in range(count):
        female = i % 2 == 0
        first = rng.choice(FIRST_F if female else FIRST_M)
        last = LAST[i % len(LAST)]
        minor = i in (5, 13)
        age = rng.randrange(14, 17) if minor else rng.randrange(19, 72)
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(365))
        plz, city = rng.choice(CITIES)
        insurance_type = "gkv" if i % 5 else rng.choice(["pkv", "beihilfe", "selbst"])
        start = today - dt.timedelta(days=rng.randrange(30, 600))
        code, certainty = DIAGNOSES[i % len(DIAGNOSES)]
        out.append(
            {
                "first_name": first,
                "last_name": last,
                "birth_date": birth,
                "gender": "female" if female else ("diverse" if i == 7 else "male"),
                "street": f"{rng.choice(STREETS)} {rng.randrange(1, 120)}",
                "postal_code": plz,
                "city": city,
                "phone": f"0{rng.randrange(150, 179)} {rng.randrange(1000000, 9999999)}",
                "email": f"{first.lower()}.{last.lower()}@example.org".replace("ı", "i").replace("ü", "ue").replace("ä", "ae").replace("ö", "oe"),
                "insurance_type": insurance_type,
                "insurer": rng.choice(INSURERS) if insurance_type == "gkv" else ("Private Krankenversicherung" if insurance_type != "selbst" else ""),
                "insurance_number": make_kvnr(rng) if insurance_type == "gkv" else "",
                "treatment_start": start,
                "treatment_end": None,
                "is_minor": minor,
                "guardian_name": f"{rng.choice(FIRST_F)} {last}" if minor else "",
                "guardian_contact": f"0{rng.randrange(150, 179)} {rng.randrange(1000000, 9999999)}" if minor else "",
                "guardian_custody": "gemeinsames Sorgerecht" if minor else "",
                "_diagnosis": (code, certainty, start),
                "_ai_consent": i % 4 != 3,
                "_approval": ("kzt1" if i % 3 else "kzt2", 12, start + dt.timedelta(days=21), rng.randrange(0, 12)),
            }
        )
    return out
