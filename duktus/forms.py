"""Form pieces every app shares."""

from __future__ import annotations

from typing import Any

from django import forms


class DateInput(forms.DateInput):
    """A native date picker. Browsers only accept ISO values in <input type="date">: with the
    German display format the field comes up empty and saving the form again would erase the date."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")
