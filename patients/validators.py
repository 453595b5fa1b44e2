"""Validators for German insurance data (no Django imports)."""

from __future__ import annotations

import re

KVNR_RE = re.compile(r"^[A-Z][0-9]{9}$")


def kvnr_check_digit(letter: str, eight_digits: str) -> int:
    """Check digit of the Krankenversichertennummer (unveränderbarer Teil, 10 characters).

    The letter becomes its two-digit alphabet position (A=01 … Z=26); with the 8 digits that gives
    10 digits, weighted alternately 1 and 2; two-digit products are replaced by their digit sum;
    the check digit is the sum modulo 10.
    """
    digits = f"{ord(letter.upper()) - 64:02d}" + eight_digits
    total = 0
    for i, ch in enumerate(digits):
        p = int(ch) * (1 if i % 2 == 0 else 2)
        total += p // 10 + p % 10
    return total % 10


def normalize_kvnr(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


def kvnr_is_valid(value: str) -> bool:
    v = normalize_kvnr(value)
    if not KVNR_RE.match(v):
        return False
    return kvnr_check_digit(v[0], v[1:9]) == int(v[9])
