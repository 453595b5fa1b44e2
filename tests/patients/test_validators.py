from __future__ import annotations

from patients.validators import kvnr_check_digit, kvnr_is_valid, normalize_kvnr


def test_it_accepts_valid_kvnr() -> None:
    assert kvnr_is_valid("A123456780")
    assert kvnr_is_valid("a 1234 56780")


def test_it_rejects_wrong_check_digit_and_shapes() -> None:
    for bad in ("A123456781", "1234567890", "AB12345678", "A12345678", "A1234567800", ""):
        assert not kvnr_is_valid(bad), bad


def test_check_digit_uses_letter_position_and_cross_sums() -> None:
    # Z = 26 → digits 2,6; 8 digits 9 9 9 9 9 9 9 9 with weights 1,2,1,2,...
    # 2*1 + 6*2=12→3 + 9 + 18→9 + 9 + 9 + 9 + 9 + 9 + 9 = 77 → 7
    assert kvnr_check_digit("Z", "99999999") == 7
    assert kvnr_is_valid("Z999999997")


def test_normalize() -> None:
    assert normalize_kvnr(" a123 456 780 ") == "A123456780"
