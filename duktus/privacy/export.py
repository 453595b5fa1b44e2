"""Art. 15/20 DSGVO, § 630g BGB: an AES-256 encrypted ZIP with a readable record and JSON.

The one-time password is shown once; only its hash is stored. The ZIP lives under
VAR_DIR/exports for at most EXPORT_TTL, then the retention job deletes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyzipper
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from duktus import audit
from duktus.models import ExportJob
from duktus.privacy import registry, schema

SCHEMA_VERSION = "1"
EXPORT_TTL = dt.timedelta(hours=24)
WITHHOLDABLE = ("process_notes", "third_party")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def new_password() -> str:
    """4 groups of 5 characters (~100 bits), readable on the phone."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))


def request_export(*, request: Any, patient: Any, withheld: list[str], withheld_reason: str) -> tuple[ExportJob, str]:
    """Create the job and enqueue it; returns the job and the password (to show once)."""
    from duktus.privacy import tasks

    password = new_password()
    job = ExportJob(
        practice=patient.practice, patient_ref=patient.pk, requested_by=request.user,
        withheld=[w for w in withheld if w in WITHHOLDABLE], password_hash=make_password(password),
    )
    job.__dict__["_duktus_patient"] = patient
    job.withheld_reason = withheld_reason
    job.save()
    # The task gets ids only, so the password must not travel through the broker: it waits,
    # encrypted under the master key, in a job-scoped file that the task deletes.
    _stash_password(job, password)
    audit.record(request, "privacy.export_requested", patient=patient, obj=job,
                 detail=f"zurückgehalten: {', '.join(job.withheld) or '–'}")
    transaction.on_commit(lambda: tasks.build_export.delay(job.pk))
    return job, password


def separate_summary(patient: Any) -> list[dict[str, Any]]:
    """Process notes and third-party data, listed for the therapist before the export so that
    each category can be withheld with a reason (§ 630g Abs. 1 BGB)."""
    out = []
    for part in registry.parts():
        if part.category != "record":
            out.append({"key": part.key, "title": part.title, "category": part.category, "count": len(part.exporter(patient))})
    return out


def _stash_path(job: ExportJob) -> Path:
    return export_dir() / f"{job.code}.pw"


def _stash_password(job: ExportJob, password: str) -> None:
    # Encrypted under the master key, deleted as soon as the ZIP is written (or by retention).
    from duktus import crypto

    path = _stash_path(job)
    path.write_text(crypto.encrypt_system(password))
    path.chmod(0o600)


def _take_password(job: ExportJob) -> str:
    from duktus import crypto

    path = _stash_path(job)
    password = crypto.decrypt_system(path.read_text())
    path.unlink()
    return password


def collect(patient: Any, withheld: list[str], *, withheld_reason: str = "",
            progress: Callable[[int], None] | None = None) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The JSON export (schema duktus/privacy/export_schema_v1.json) and the attached files."""
    parts: dict[str, Any] = {}
    separate: dict[str, Any] = {}
    files: list[tuple[str, bytes]] = []
    pending: list[tuple[str, str, Any]] = []
    listed: list[dict[str, Any]] = []
    all_parts = registry.parts()
    for i, part in enumerate(all_parts):
        hidden = part.category in withheld
        rows = [] if hidden else part.exporter(patient)
        if part.category == "record":
            parts[part.key] = rows
        else:
            separate[part.key] = {"title": part.title, "category": part.category, "withheld": hidden, "rows": rows}
        if part.files is not None and not hidden:
            for name, content in part.files(patient):
                pending.append((part.key, f"dokumente/{part.key}/{_safe_name(name)}", content))
        if progress is not None:
            progress(10 + 60 * (i + 1) // len(all_parts))
    for key, path, content in _resolve_files(pending):
        files.append((path, content))
        listed.append({"part": key, "path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
    if progress is not None and pending:
        progress(85)
    data = {
        "schema": "duktus-export", "schema_version": SCHEMA_VERSION,
        "generated_at": timezone.now().isoformat(), "patient_id": str(patient.code),
        "practice": patient.practice.name, "parts": parts, "separate_parts": separate,
        "withheld_categories": sorted(set(withheld)), "withheld_reason": withheld_reason if withheld else "",
        "files": listed,
    }
    return data, files


def _resolve_files(pending: list[tuple[str, str, Any]]) -> list[tuple[str, str, bytes]]:
    """Run the callables of lazy file contents (CPU work such as PDF layout, no database) in a
    small thread pool; WeasyPrint's text layout runs in C (pango) and overlaps across threads."""
    lazy = [i for i, (_, _, content) in enumerate(pending) if callable(content)]
    results = {i: content for i, (_, _, content) in enumerate(pending) if not callable(content)}
    if lazy:
        threads = max(1, getattr(settings, "PRIVACY_EXPORT_THREADS", 2))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="export-files") as pool:
            for i, content in zip(lazy, pool.map(lambda i: pending[i][2](), lazy), strict=True):
                results[i] = content
    return [(key, path, results[i]) for i, (key, path, _) in enumerate(pending)]


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    return keep[:120] or "datei"


def _sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows with German labels for the readable record, in registry order."""
    out = []
    first, last = ("master_data",), ("access_log",)
    ordered = sorted(registry.parts(), key=lambda p: (0 if p.key in first else 2 if p.key in last else 1))
    for part in ordered:
        if part.key == "data_key":
            continue
        if part.category == "record":
            rows, withheld = data["parts"].get(part.key, []), False
        else:
            entry = data["separate_parts"].get(part.key, {})
            rows, withheld = entry.get("rows", []), entry.get("withheld", False)
        out.append({
            "key": part.key, "title": part.title, "category": part.category, "withheld": withheld,
            "rows": [[(part.labels.get(k, k), "–" if v in (None, "") else v) for k, v in row.items()] for row in rows],
        })
    return out


def render_record(data: dict[str, Any]) -> str:
    sections = _sections(data)
    return render_to_string("privacy/export_record.html", {
        "data": data, "sections": sections, "has_separate": any(s["category"] != "record" for s in sections)})


def build_zip(data: dict[str, Any], *, password: str, files: list[tuple[str, bytes]] | None = None) -> bytes:
    """The readable record is HTML with a print stylesheet (any browser prints it to PDF): a
    server-side PDF of 200 sessions took WeasyPrint 30-67 s (525 pages), far over the 10 s
    budget. Documents come as the PDF files their app attaches (Part.files)."""
    html = render_record(data)
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(password.encode())
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        zf.writestr("datenauskunft.html", html)
        zf.writestr("datenauskunft.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr("schema/export_schema_v1.json", schema.SCHEMA_PATH.read_text())
        for path, content in files or []:
            zf.writestr(path, content)
    return buf.getvalue()


def run_export(job: ExportJob) -> None:
    """Build the ZIP for a READY job (claimed with a conditional UPDATE: idempotent)."""
    from patients.models import Patient

    if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.READY).update(status=ExportJob.Status.RUNNING, progress=5) != 1:
        return
    patient = Patient.objects.select_related("practice", "data_key").filter(pk=job.patient_ref).first()
    if patient is None:  # erased meanwhile
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED)
        _stash_path(job).unlink(missing_ok=True)
        return
    job.__dict__["_duktus_patient"] = patient

    def progress(value: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(progress=value)

    try:
        data, files = collect(patient, job.withheld, withheld_reason=job.withheld_reason or "", progress=progress)
        content = build_zip(data, files=files, password=_take_password(job))
        progress(95)
        name = f"{job.code}.zip"
        path = export_dir() / name
        path.write_bytes(content)
        path.chmod(0o600)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE, progress=100, file_name=name, finished_at=timezone.now())
        audit.record(None, "privacy.export_built", practice=job.practice, patient=patient, obj=job, actor=job.requested_by)
    except Exception:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED)
        _stash_path(job).unlink(missing_ok=True)
        raise


def take_download(job: ExportJob) -> bytes | None:
    """One-time: DONE → DOWNLOADED, file read and deleted. None if already taken or expired."""
    if ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE).update(status=ExportJob.Status.DOWNLOADED) != 1:
        return None
    path = export_dir() / job.file_name
    if timezone.now() - (job.finished_at or job.created_at) > EXPORT_TTL or not path.exists():
        path.unlink(missing_ok=True)
        return None
    content = path.read_bytes()
    path.unlink()
    return content


def password_matches(job: ExportJob, password: str) -> bool:
    return check_password(password, job.password_hash)


def delete_expired_exports(*, now: dt.datetime, dry_run: bool = False) -> int:
    """Delete export files (and password stashes) older than EXPORT_TTL."""
    count = 0
    for path in export_dir().iterdir():
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
        if now - mtime > EXPORT_TTL:
            count += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    if not dry_run:
        ExportJob.objects.filter(status=ExportJob.Status.DONE, finished_at__lt=now - EXPORT_TTL).update(status=ExportJob.Status.EXPIRED)
    return count
