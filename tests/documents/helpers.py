"""Builders for document tests: a record with diagnoses, questionnaire series, a Bewilligung."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from documents import services
from documents.models import Document
from patients import services as patient_services
from tests.assessments.helpers import make_administration

PHQ9_SEVERE = [2, 2, 2, 2, 2, 2, 2, 2, 1]  # total 17, item 9 = 1
PHQ9_BETTER = [1, 1, 1, 1, 1, 1, 1, 1, 0]  # total 8


def fill_record(patient: Any, user: Any) -> None:
    """Diagnosis F32.1, PHQ-9 17 → 8 (reliable improvement), GAD-7 once, KZT 1 with 8 of 12 sessions."""
    patient_services.add_diagnosis(patient=patient, icd_code="F32.1", icd_version=2025, certainty="G", is_primary=True,
                                   diagnosed_on=dt.date(2026, 1, 12))
    make_administration(patient, "phq9", PHQ9_SEVERE, day=dt.date(2026, 1, 12), user=user)
    make_administration(patient, "phq9", PHQ9_BETTER, day=dt.date(2026, 3, 20), user=user)
    make_administration(patient, "gad7", [1, 1, 1, 1, 1, 1, 1], day=dt.date(2026, 1, 12), user=user)
    patient_services.add_approval(patient=patient, phase="kzt1", approved_sessions=12, approved_on=dt.date(2026, 1, 20),
                                  sessions_used=8)


def make_document(patient: Any, user: Any, template_key: str = "verlaufsdokumentation", variant: str = "") -> Document:
    return services.create_document(patient=patient, template_key=template_key, variant=variant, user=user)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_metadata(content: bytes) -> dict[str, Any]:
    from pypdf import PdfReader

    return dict(PdfReader(io.BytesIO(content)).metadata or {})


def png_bytes(size: tuple[int, int] = (120, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (31, 58, 95)).save(out, format="PNG")
    return out.getvalue()
