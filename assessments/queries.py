"""Reads for questionnaires: electronic item texts, a patient's series and charts, and the start
page lists. Start-page reads take a constant number of queries however many patients there are:
patients come joined with their data key and share the request's practice instance, so
decryption needs no further query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from assessments.charts import trend_svg
from assessments.instruments import INSTRUMENTS, Instrument, LicensedForm, shipped_form
from assessments.models import Administration, InstrumentLicence, Notification, PatientLink, Schedule
from patients.crisis import CrisisEvent, CrisisStatus
from patients.queries import visible_patients

_MARKER = "00000000-0000-0000-0000-000000000000"


def licences(practice: Any) -> dict[str, InstrumentLicence]:
    out = {}
    for lic in InstrumentLicence.objects.filter(practice=practice).select_related("recorded_by"):
        lic.practice = practice
        out[lic.instrument] = lic
    return out


def electronic_form(practice: Any, code: str, licence_map: dict[str, InstrumentLicence] | None = None) -> LicensedForm | None:
    """Texts for an electronic form (shipped, or licensed and loaded by this practice), or None
    when the instrument may only be entered from paper with neutral labels."""
    shipped = shipped_form(code)
    if shipped is not None:
        return shipped
    lic = (licence_map if licence_map is not None else licences(practice)).get(code)
    return None if lic is None else lic.licensed_form()


def link_instruments(practice: Any) -> list[Instrument]:
    """Instruments a patient link may be sent for in this practice."""
    licence_map = licences(practice)
    return [i for code, i in INSTRUMENTS.items() if electronic_form(practice, code, licence_map) is not None]


def find_link(token_hash: str) -> PatientLink | None:
    """A usable link by its token hash, with the patient and practice joined; None otherwise."""
    link = (
        PatientLink.objects.usable().select_related("patient__data_key", "patient__practice", "patient__therapist", "created_by")
        .filter(token_hash=token_hash).first()
    )
    return link


# --- per patient ------------------------------------------------------------------------------------


@dataclass
class Series:
    instrument: Instrument
    administrations: list[Administration]
    svg: str = ""

    @property
    def latest(self) -> Administration:
        return self.administrations[-1]

    @property
    def url(self) -> str:
        return reverse("assessments:trend", args=[self.administrations[0].patient.code, self.instrument.code])


def administrations(patient: Any, instrument: str | None = None) -> list[Administration]:
    qs = Administration.objects.filter(patient=patient).select_related("entered_by")
    if instrument:
        qs = qs.filter(instrument=instrument)
    rows = list(qs.order_by("administered_on", "created_at", "id"))
    for a in rows:
        a.patient = patient
    return rows


def chart(code: str, rows: list[Administration], *, width: int = 640, height: int = 260) -> str:
    """trend_svg for stored administrations: totals (C-SSRS: risk level) and their flags."""
    points = []
    for a in rows:
        value: Any = a.severity if code == "cssrs" else a.total_value
        points.append((a.administered_on, value, set(a.flags or []) | set(a.change_flags)))
    cutoff = None
    if code in ("auditc", "pcl5") and rows and rows[-1].cutoff is not None:
        cutoff = int(rows[-1].cutoff)
    return trend_svg(code, points, width=width, height=height, cutoff=cutoff)


def patient_series(patient: Any, *, width: int = 520, height: int = 220) -> list[Series]:
    """One series per instrument with data, in INSTRUMENTS order, each with its chart."""
    by_code: dict[str, list[Administration]] = {}
    for a in administrations(patient):
        by_code.setdefault(a.instrument, []).append(a)
    return [
        Series(INSTRUMENTS[code], rows, chart(code, rows, width=width, height=height))
        for code in INSTRUMENTS if (rows := by_code.get(code))
    ]


def patient_links(patient: Any, limit: int = 10) -> list[PatientLink]:
    return list(PatientLink.objects.filter(patient=patient).order_by("-created_at", "-id")[:limit])


@dataclass
class ScheduleRow:
    schedule: Schedule
    last: dt.date | None
    due: dt.date

    @property
    def is_due(self) -> bool:
        return self.due <= timezone.localdate()


def _last_administered() -> Subquery:
    return Subquery(
        Administration.objects.filter(patient=OuterRef("patient"), instrument=OuterRef("instrument"))
        .order_by("-administered_on").values("administered_on")[:1]
    )


def patient_schedules(patient: Any) -> list[ScheduleRow]:
    rows = []
    for s in Schedule.objects.filter(patient=patient).annotate(last=_last_administered()):
        s.patient = patient
        rows.append(ScheduleRow(s, s.last, s.next_due(s.last)))
    return rows


# --- start page ------------------------------------------------------------------------------------


def _patient_url(code: Any) -> str:
    return reverse("patients:detail", kwargs={"code": _MARKER}).replace(_MARKER, str(code))


def _patients_qs(membership: Any) -> QuerySet[Any]:
    return visible_patients(membership).values("pk")


def _share_practice(rows: list[Any], membership: Any) -> None:
    """One patient instance per patient (its data key is unwrapped once, not once per row),
    sharing the request's practice instance."""
    patients: dict[int, Any] = {}
    for r in rows:
        patient = patients.setdefault(r.patient_id, r.patient)
        patient.practice = membership.practice
        r.patient = patient


@dataclass
class DashboardRow:
    patient_url: str
    name: str
    pseudonym: str
    text: str
    date: dt.date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def due_questionnaires(membership: Any, today: dt.date | None = None) -> list[DashboardRow]:
    """Scheduled questionnaires that are due (next due date ≤ today). One query."""
    today = today or timezone.localdate()
    open_link = PatientLink.objects.usable().filter(patient=OuterRef("patient"), instrument=OuterRef("instrument"))
    qs = (
        Schedule.objects.filter(patient__in=_patients_qs(membership))
        .select_related("patient__data_key")
        .annotate(last=_last_administered(), link_open=Exists(open_link))
    )
    schedules = list(qs)
    _share_practice(schedules, membership)
    out = []
    for s in schedules:
        due = s.next_due(s.last)
        if due > today:
            continue
        p = s.patient
        text = f"{INSTRUMENTS[s.instrument].short_name} fällig seit {due:%d.%m.%Y}"
        if s.link_open:
            text += " (Link versandt, noch offen)"
        out.append(DashboardRow(_patient_url(p.code), f"{p.last_name}, {p.first_name}", p.pseudonym, text, due))
    return sorted(out, key=lambda r: (r.date, r.name))


def reliable_deteriorations(membership: Any) -> list[DashboardRow]:
    """Patients whose latest administration of an instrument shows reliable deterioration
    against the one before. One query (DISTINCT ON the series, newest first)."""
    latest = list(
        Administration.objects.filter(patient__in=_patients_qs(membership))
        .select_related("patient__data_key")
        .defer("answers", "context", "total", "severity", "flags")  # only `details` is needed
        .order_by("patient_id", "instrument", "-administered_on", "-created_at", "-id")
        .distinct("patient_id", "instrument")
    )
    _share_practice(latest, membership)
    out = []
    for a in latest:
        if "RELIABLE_DETERIORATION" not in a.change_flags:
            continue
        p = a.patient
        text = f"{a.info.short_name}: reliable Verschlechterung ({a.change_display} Punkte) am {a.administered_on:%d.%m.%Y}"
        out.append(DashboardRow(_patient_url(p.code), f"{p.last_name}, {p.first_name}", p.pseudonym, text, a.administered_on))
    return sorted(out, key=lambda r: (r.date or dt.date.min), reverse=True)


def open_crises(membership: Any) -> list[DashboardRow]:
    events = list(
        CrisisEvent.objects.filter(patient__in=_patients_qs(membership), status=CrisisStatus.OPEN)
        .select_related("patient__data_key").order_by("raised_at", "id")
    )
    _share_practice(events, membership)
    out = []
    for e in events:
        p = e.patient
        out.append(DashboardRow(
            _patient_url(p.code), f"{p.last_name}, {p.first_name}", p.pseudonym,
            f"{e.get_source_display()}: {e.summary}", e.raised_at.date(),
            extra={"document_url": reverse("patients:crisis_document", args=[p.code, e.code])},
        ))
    return out


def inbox(user: Any, practice: Any, limit: int = 20) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, practice=practice, read_at__isnull=True).order_by("-created_at", "-id")[:limit])


def approval_warnings(membership: Any) -> list[DashboardRow]:
    """Non-clinical, also for assistants: approvals whose contingent is (nearly) used up."""
    from patients.models import Approval

    approvals = list(
        Approval.objects.filter(patient__in=_patients_qs(membership)).select_related("patient__data_key").order_by("patient_id", "approved_on", "id")
    )
    _share_practice(approvals, membership)
    out = []
    for a in approvals:
        for w in a.warnings():
            p = a.patient
            out.append(DashboardRow(_patient_url(p.code), f"{p.last_name}, {p.first_name}", p.pseudonym,
                                    f"{a.get_phase_display()}: {w}", a.approved_on))
    return out
