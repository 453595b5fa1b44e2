"""Reads for documents: the record material that feeds a section (with its sources), the
documents of a patient, readable diffs between versions.

Material is plaintext for the therapist's screen and for the gateway (which anonymizes). It never
goes to logs, task arguments or caches.

Data sources: Stammdaten (age, gender, insurance type — never the name), diagnoses,
questionnaire results and trends, Bewilligungen, crisis events and the Krisenplan, session notes
(sessions app; private process notes never), therapy goals and confirmed memory entries (memory
app). A section whose feeds are all empty gets "[fehlt: …]" markers instead of a draft.
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import re
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone

from assessments import queries as assessment_queries
from assessments import scoring
from assessments.instruments import FLAG_LABELS_DE, INSTRUMENTS
from assessments.models import Administration
from documents import definitions
from documents.models import Document, DocumentStatus, DocumentVersion
from memory import queries as memory_queries
from memory.models import EntryType
from patients.crisis import CrisisEvent, SafetyPlan
from patients.models import Approval, Diagnosis
from sessions import queries as session_queries


def de_date(day: dt.date | dt.datetime | None) -> str:
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return f"{day:%d.%m.%Y}"


@dataclass
class SourceRef:
    kind: str  # diagnosis | assessment | trend | approval | crisis | safety_plan | patient
    code: str
    label: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "label": self.label}


@dataclass
class Material:
    feed: str
    lines: list[str] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    # The structured part pre-filled into hand-written drafts (dates, numbers, codes); None: all lines.
    structured: list[str] | None = None

    @property
    def title(self) -> str:
        return definitions.FEEDS[self.feed]

    @property
    def empty(self) -> bool:
        return not self.lines


# --- feeds -------------------------------------------------------------------------------------


def _patient(patient: Any, since: dt.date | None) -> Material:
    m = Material("patient")
    age = patient.age()
    if age is not None:
        m.lines.append(f"Alter: {age} Jahre")
    if patient.gender_label and patient.gender != "unspecified":
        m.lines.append(f"Geschlecht: {patient.gender_label}")
    m.lines.append(f"Versicherung: {patient.get_insurance_type_display()}")
    if patient.treatment_start:
        m.lines.append(f"Behandlungsbeginn: {de_date(patient.treatment_start)}")
    m.sources.append(SourceRef("patient", str(patient.code), "Stammdaten (ohne Namen)"))
    return m


def _diagnoses(patient: Any, since: dt.date | None) -> Material:
    m = Material("diagnoses")
    for d in Diagnosis.objects.filter(patient=patient, ended_on__isnull=True):
        d.patient = patient
        line = f"{d.icd_code} {d.certainty} – {d.title}".rstrip(" –") + f" (seit {de_date(d.diagnosed_on)})"
        if d.is_primary:
            line += ", Hauptdiagnose"
        if d.note:
            line += f"; Anmerkung: {d.note}"
        m.lines.append(line)
        m.sources.append(SourceRef("diagnosis", str(d.code), f"Diagnose {d.icd_code} {d.certainty}"))
    return m


def _result_line(a: Any) -> str:
    value = a.total_display if a.total else a.severity_de or a.severity
    line = f"{a.info.short_name} am {de_date(a.administered_on)}: {value}"
    if a.total and a.severity_de:
        line += f" ({a.severity_de})"
    flags = [f for f in a.flag_labels if f]
    if flags:
        line += " – " + ", ".join(flags)
    return line


def _assessments(patient: Any, since: dt.date | None) -> Material:
    m = Material("assessments")
    latest: dict[str, Any] = {}
    for adm in assessment_queries.administrations(patient):
        latest[adm.instrument] = adm
    for code in INSTRUMENTS:
        a = latest.get(code)
        if a is None:
            continue
        m.lines.append(_result_line(a))
        m.sources.append(SourceRef("assessment", str(a.code), f"{a.info.short_name} vom {de_date(a.administered_on)}"))
    return m


@dataclass
class Trajectory:
    instrument: Any
    rows: list[Any]
    change: Any = None
    flags: set[str] = field(default_factory=set)

    @property
    def line(self) -> str:
        first, last = self.rows[0], self.rows[-1]
        if len(self.rows) == 1:
            return (f"{self.instrument.short_name}: {first.total_display} am {de_date(first.administered_on)} "
                    "(nur eine Messung, noch kein Verlauf)")
        text = (f"{self.instrument.short_name}: {first.total_display} ({de_date(first.administered_on)}) → "
                f"{last.total_display} ({de_date(last.administered_on)}), {len(self.rows)} Messungen")
        if self.change is not None:
            sign = "+" if self.change > 0 else ""
            text += f"; Veränderung {sign}{str(self.change).replace('.', ',')} Punkte (positiv = besser)"
        labels = [FLAG_LABELS_DE[f] for f in ("RELIABLE_IMPROVEMENT", "RELIABLE_DETERIORATION", "MINIMAL_IMPORTANT_CHANGE",
                                               "RESPONSE", "REMISSION") if f in self.flags]
        if labels:
            text += ": " + ", ".join(labels)
        elif self.change is not None and self.instrument.reliable_change is not None:
            text += ": keine reliable Veränderung"
        if self.instrument.reliable_change is not None:
            text += f" (Kriterium reliable Veränderung ≥ {str(self.instrument.reliable_change).replace('.', ',')} Punkte)"
        return text


def trajectories(patient: Any, since: dt.date | None = None) -> list[Trajectory]:
    """Per instrument with a total: the first and last measurement since `since` and the
    change between them with reliable-change flags (scoring.compare, baseline = first)."""
    by_code: dict[str, list[Any]] = {}
    for a in assessment_queries.administrations(patient):
        if since is not None and a.administered_on < since:
            continue
        if not a.info.has_total or not a.total:
            continue
        by_code.setdefault(a.instrument, []).append(a)
    out = []
    for code in INSTRUMENTS:
        rows = by_code.get(code)
        if not rows:
            continue
        t = Trajectory(INSTRUMENTS[code], rows)
        if len(rows) >= 2:
            t.change, t.flags = scoring.compare(code, rows[0].total_value, rows[-1].total_value)
        out.append(t)
    return out


def _trends(patient: Any, since: dt.date | None) -> Material:
    m = Material("trends")
    for t in trajectories(patient, since):
        m.lines.append(t.line)
        m.sources.append(SourceRef("trend", t.instrument.code, f"Verlauf {t.instrument.short_name}"))
    if since is not None and m.lines:
        m.lines.insert(0, f"Zeitraum: seit {de_date(since)}")
    return m


def session_count(patient: Any) -> int:
    return sum(a.sessions_used for a in Approval.objects.filter(patient=patient))


def _approvals(patient: Any, since: dt.date | None) -> Material:
    m = Material("approvals")
    approvals = list(Approval.objects.filter(patient=patient))
    for a in approvals:
        m.lines.append(f"{a.get_phase_display()}: {a.approved_sessions} Sitzungen bewilligt am {de_date(a.approved_on)}, "
                       f"{a.sessions_used} durchgeführt, {a.remaining} verbleibend")
        m.sources.append(SourceRef("approval", str(a.code), f"Bewilligung {a.get_phase_display()}"))
    if approvals:
        m.lines.append(f"Durchgeführte Sitzungen insgesamt: {sum(a.sessions_used for a in approvals)}")
    return m


def _crisis(patient: Any, since: dt.date | None) -> Material:
    m = Material("crisis")
    for e in CrisisEvent.objects.filter(patient=patient).order_by("raised_at", "id"):
        e.patient = patient
        line = f"{de_date(e.raised_at)}: {e.get_source_display()} – {e.summary} ({e.get_status_display()})"
        if e.action_labels:
            line += "; Maßnahmen: " + ", ".join(e.action_labels)
        if e.documentation:
            line += f"; Dokumentation: {e.documentation}"
        m.lines.append(line)
        m.sources.append(SourceRef("crisis", str(e.code), f"Krisenereignis vom {de_date(e.raised_at)}"))
    plan = SafetyPlan.objects.filter(patient=patient).first()
    if plan is not None:
        plan.patient = patient
        labels = {"warning_signs": "Warnzeichen", "coping_strategies": "Bewältigung", "people_places": "Personen und Orte",
                  "professional_contacts": "professionelle Kontakte", "means_restriction": "Mittelsicherung"}
        parts = [f"{label}: {getattr(plan, f)}" for f, label in labels.items() if getattr(plan, f)]
        if parts:
            m.lines.append(f"Krisenplan (Stand {de_date(plan.updated_at)}): " + "; ".join(parts))
            m.sources.append(SourceRef("safety_plan", str(plan.code), "Krisenplan"))
    return m


MAX_NOTE_CHARS = 1500  # per session note in the material (the model's context is finite)
MAX_SESSIONS = 12  # newest sessions in the material; the count line covers all of them


def _sessions(patient: Any, since: dt.date | None) -> Material:
    structured: list[str] = []
    m = Material("sessions", structured=structured)
    rows = [s for s in session_queries.sessions_of(patient) if s.is_done and (since is None or s.date >= since)]
    if not rows:
        return m
    period = f" seit {de_date(since)}" if since else ""
    count = f"Dokumentierte Sitzungen{period}: {len(rows)} (zuletzt am {de_date(rows[0].date)})"
    m.lines.append(count)
    structured.append(count)
    for s in reversed(rows[:MAX_SESSIONS]):
        label = f"Sitzung {s.contingent_label} am {de_date(s.date)}" if s.contingent_label else f"Sitzung am {de_date(s.date)}"
        head = f"{label} ({s.get_setting_display()}, {s.duration_minutes} Min.)"
        structured.append(head)
        note = (s.note or "").strip()
        if len(note) > MAX_NOTE_CHARS:
            note = note[:MAX_NOTE_CHARS].rsplit(" ", 1)[0] + " […]"
        m.lines.append(f"{head}: {note}" if note else f"{head}: (keine Notiz)")
        m.sources.append(SourceRef("session", str(s.code), label))
    return m


def goal_line(goal: Any) -> str:
    parts = [f"Ziel: {goal.text}"]
    for label, value in (("Messkriterium", goal.goal_measure), ("Ausgangslage", goal.goal_baseline),
                         ("Zielzustand", goal.goal_target), ("Bedeutung", goal.goal_relevance)):
        if value:
            parts.append(f"{label}: {value}")
    if goal.goal_due:
        parts.append(f"bis {de_date(goal.goal_due)}")
    if goal.attainment is not None:
        parts.append(f"Zielerreichung {goal.attainment_display}" + (f" am {de_date(goal.attainment_on)}" if goal.attainment_on else ""))
    else:
        parts.append("Zielerreichung noch nicht eingeschätzt")
    if goal.status == "outdated":
        parts.append("nicht mehr aktuell")
    return "; ".join(parts)


def goals(patient: Any) -> list[Any]:
    return memory_queries.goals_for_patient(patient, include_outdated=True)


def _goals(patient: Any, since: dt.date | None) -> Material:
    m = Material("goals")
    for g in goals(patient):
        m.lines.append(goal_line(g))
        m.sources.append(SourceRef("goal", str(g.code), f"Therapieziel vom {de_date(g.date)}"))
    return m


def _memory(patient: Any, since: dt.date | None) -> Material:
    m = Material("memory", structured=[])
    types = tuple(t for t in EntryType.values if t != EntryType.THERAPEUTIC_GOAL)
    for e in reversed(memory_queries.confirmed_entries(patient, types=types)):
        m.lines.append(f"{e.get_type_display()} ({de_date(e.date)}): {e.text}")
        m.sources.append(SourceRef("memory", str(e.code), f"{e.get_type_display()} vom {de_date(e.date)}"))
    return m


PROVIDERS = {
    "patient": _patient,
    "diagnoses": _diagnoses,
    "assessments": _assessments,
    "trends": _trends,
    "approvals": _approvals,
    "crisis": _crisis,
    "sessions": _sessions,
    "goals": _goals,
    "memory": _memory,
}


def material(patient: Any, feeds: tuple[str, ...], *, since: dt.date | None = None) -> list[Material]:
    """One Material per feed (in the section's order); feeds without a provider come back empty."""
    return [PROVIDERS[f](patient, since) if f in PROVIDERS else Material(f) for f in feeds]


def report_since(document: Document) -> dt.date | None:
    """Start of "the course since the last report": the last signed Gutachter report of the
    patient before this document, else the treatment start."""
    last = (Document.objects.filter(patient_id=document.patient_id, status=DocumentStatus.SIGNED,
                                    template_key__in=("ptv3_antrag_kurzzeittherapie", "psychotherapie_verlaufsbericht"))
            .exclude(pk=document.pk).order_by("-signed_at").first())
    if last is not None and last.signed_at:
        return timezone.localtime(last.signed_at).date()
    return document.patient.treatment_start


def since_for(document: Document) -> dt.date | None:
    return report_since(document) if document.template_key == "psychotherapie_verlaufsbericht" else None


def prefill(patient: Any, section: definitions.Section, *, since: dt.date | None = None) -> tuple[str, list[SourceRef]]:
    """Hand-written start: the structured data of the section's feeds as lines."""
    lines: list[str] = []
    sources: list[SourceRef] = []
    for m in material(patient, section.feeds, since=since):
        structured = m.lines if m.structured is None else m.structured
        lines += [f"- {line}" for line in structured]
        sources += m.sources
    return "\n".join(lines), sources


# --- lists and lookups -------------------------------------------------------------------------


def patient_documents(patient: Any) -> list[Document]:
    docs = list(Document.objects.filter(patient=patient).order_by("-created_at", "-id"))
    for d in docs:
        d.patient = patient
    return docs


def versions(document: Document) -> list[DocumentVersion]:
    rows = list(DocumentVersion.objects.filter(document=document).select_related("author").order_by("number"))
    for v in rows:
        v.document = document
    return rows


def source_url(patient: Any, ref: dict[str, str]) -> str:
    """Where the therapist opens a source: the questionnaire trend page, or the source view."""
    if ref.get("kind") == "session":
        return reverse("sessions:detail", args=[ref["code"]])
    if ref.get("kind") == "trend":
        return reverse("assessments:trend", args=[patient.code, ref["code"]])
    if ref.get("kind") == "assessment":
        adm = Administration.objects.filter(patient=patient, code=ref["code"]).only("instrument").first()
        if adm is not None:
            return reverse("assessments:trend", args=[patient.code, adm.instrument])
    return ""


def source_detail(patient: Any, kind: str, code: str) -> tuple[str, list[str]] | None:
    """(title, lines) of one source of the patient, freshly from the record; None if gone."""
    if kind == "diagnosis":
        d = Diagnosis.objects.filter(patient=patient, code=code).first()
        if d is None:
            return None
        d.patient = patient
        return f"Diagnose {d.icd_code}", [
            f"{d.icd_code} {d.certainty} – {d.title}", f"seit {de_date(d.diagnosed_on)}"
            + (f", beendet {de_date(d.ended_on)}" if d.ended_on else ""), *( [d.note] if d.note else [])]
    if kind == "approval":
        a = Approval.objects.filter(patient=patient, code=code).first()
        if a is None:
            return None
        return f"Bewilligung {a.get_phase_display()}", _approvals(patient, None).lines
    if kind == "crisis":
        e = CrisisEvent.objects.filter(patient=patient, code=code).first()
        if e is None:
            return None
        e.patient = patient
        return f"Krisenereignis vom {de_date(e.raised_at)}", [
            f"{e.get_source_display()}: {e.summary}", f"Status: {e.get_status_display()}",
            *(["Maßnahmen: " + ", ".join(e.action_labels)] if e.action_labels else []),
            *([e.documentation] if e.documentation else [])]
    if kind == "safety_plan":
        return "Krisenplan", [line for line in _crisis(patient, None).lines if line.startswith("Krisenplan")]
    if kind == "patient":
        return "Stammdaten (ohne Namen)", _patient(patient, None).lines
    if kind in ("goal", "memory"):
        entry = memory_queries.entry_for_patient(patient, code)
        if entry is None:
            return None
        if entry.is_goal:
            return f"Therapieziel vom {de_date(entry.date)}", goal_line(entry).split("; ")
        return f"{entry.get_type_display()} vom {de_date(entry.date)}", [entry.text, *([entry.excerpt] if entry.excerpt else [])]
    if kind == "assessment":
        adm = Administration.objects.filter(patient=patient, code=code).first()
        if adm is None:
            return None
        adm.patient = patient
        return f"{adm.info.short_name} vom {de_date(adm.administered_on)}", [_result_line(adm)] + [
            f"{label}: {answer}" for label, answer in adm.answer_rows()]
    return None


# --- diffs -------------------------------------------------------------------------------------


@dataclass
class SectionDiff:
    key: str
    title: str
    html: str  # escaped text with <ins>/<del>
    changed: bool


def _word_diff(old: str, new: str) -> str:
    """Escaped `new` with <del>/<ins> around changed words (whitespace kept as it was)."""
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace") and "".join(a[i1:i2]).strip():
            out.append(f"<del>{html.escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace") and "".join(b[j1:j2]).strip():
            out.append(f"<ins>{html.escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out).replace("\n", "<br>")


def diff(document: Document, old: DocumentVersion, new: DocumentVersion) -> list[SectionDiff]:
    """Word-level diff per section between two versions (in template order, unknown keys last)."""
    template = definitions.get(document.template_key)
    titles: dict[str, str] = {s.key: s.title for s in template.sections(document.variant)} if template else {}
    a, b = old.sections or {}, new.sections or {}
    keys: list[str] = list(titles) + [k for k in list(a) + list(b) if k not in titles]  # JSON keys
    seen: list[str] = []
    out = []
    for key in keys:
        if key in seen or (key not in a and key not in b):
            continue
        seen.append(key)
        old_text, new_text = a.get(key, ""), b.get(key, "")
        out.append(SectionDiff(key, titles.get(key, key), _word_diff(old_text, new_text), old_text != new_text))
    if old.addendum or new.addendum:
        out.append(SectionDiff("_addendum", "Nachtrag", _word_diff(old.addendum or "", new.addendum or ""),
                               (old.addendum or "") != (new.addendum or "")))
    return out
