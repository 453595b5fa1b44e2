"""Questionnaire workflows: record an administration, patient links, schedules, licences,
notifications. Risk hits go through the one crisis service (patients.crisis.raise_crisis)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import smtplib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assessments import scoring
from assessments.instruments import INSTRUMENTS, LicensedForm, Number, parse_licensed_form
from assessments.models import Administration, InstrumentLicence, Notification, PatientLink, Schedule, Source
from duktus import audit
from patients.crisis import CrisisSource, raise_crisis

LINK_DAYS = 7
_CRISIS_FLAGS = {
    "ITEM9_POSITIVE": "PHQ-9: Item 9 (Gedanken an Tod oder Selbstverletzung) mit {value} beantwortet.",
    "RISK_MODERATE": "C-SSRS: mittleres Suizidrisiko.",
    "RISK_HIGH": "C-SSRS: hohes Suizidrisiko.",
}


def _json_number(value: Any) -> Any:
    """Decimals are stored as strings so 31.5 stays exactly 31.5."""
    return str(value) if isinstance(value, Decimal) else value


def _stored_answers(instrument: str, answers: Any) -> Any:
    """Normalised item answers (validated before): ORS/SRS as exact one-decimal strings."""
    if isinstance(answers, dict):
        return {k: v for k, v in answers.items() if v is not None}
    if INSTRUMENTS[instrument].decimal_places:
        return [str(Decimal(str(v)).quantize(Decimal("0.1"))) for v in answers]
    return [_json_number(v) for v in answers]


def scoring_context(instrument: str, patient: Any, sex: str | None = None) -> dict[str, Any]:
    """Context the scorer needs. AUDIT-C: the entered sex, else the patient's gender; without
    one ('ohne Angabe') the lower cut-off of 'diverse' applies, so no risk is missed, and the
    result says that the sex was not recorded (scoring.score_stored)."""
    if instrument != "auditc":
        return {}
    if sex in scoring.SEXES:
        return {"sex": sex, "cutoff_profile": "de"}
    if patient.gender in scoring.SEXES:
        return {"sex": patient.gender, "cutoff_profile": "de"}
    return {"sex": "diverse", "sex_from": "unspecified", "cutoff_profile": "de"}


def score(instrument: str, answers: Any, context: dict[str, Any] | None = None) -> scoring.Score:
    """scoring.score with the stored context. Raises scoring.InvalidAnswers (German message)."""
    return scoring.score_stored(instrument, answers, context)


def record_administration(
    *, patient: Any, instrument: str, answers: Any, administered_on: dt.date, source: str,
    context: dict[str, Any] | None = None, request: Any = None, entered_by: Any = None,
) -> Administration:
    """Score and store one administration (encrypted), update the series' change flags, and
    raise a crisis event when a safety item is hit. Raises scoring.InvalidAnswers."""
    context = context or {}
    result = score(instrument, answers, context)
    with transaction.atomic():
        adm = Administration(
            patient=patient, instrument=instrument, administered_on=administered_on, source=source,
            ruleset=result.ruleset, entered_by=entered_by,
        )
        adm.answers = _stored_answers(instrument, answers)
        adm.context = context
        adm.total = "" if result.total is None else str(result.total)
        adm.severity = result.severity or ""
        adm.flags = sorted(result.flags)
        adm.details = {
            "severity_de": result.severity_de, "notes": result.notes,
            "cutoff": _json_number(result.cutoff), "subscales": result.subscales,
        }
        adm.save()
        _update_series(patient, instrument)
        audit.record(request, "assessment.create", patient=patient, obj=adm, actor=entered_by, detail=f"{instrument} {source}")
        for flag in sorted(result.flags & set(_CRISIS_FLAGS)):
            value = answers[8] if flag == "ITEM9_POSITIVE" else None
            raise_crisis(
                patient=patient, source=CrisisSource.QUESTIONNAIRE, source_id=adm.code,
                summary=_CRISIS_FLAGS[flag].format(value=value), request=request, actor=entered_by,
            )
            break  # one event per administration (idempotent on its code anyway)
    return adm


# Defined against the start of treatment (NCQA: baseline PHQ-9 > 9), not the previous visit.
_BASELINE_FLAGS = frozenset({"RESPONSE", "REMISSION"})


def _series_total(adm: Administration) -> Number:
    total = adm.total_value
    assert total is not None, "only instruments with a total form a series"
    return total


def _update_series(patient: Any, instrument: str) -> None:
    """Change flags for every point of the series: reliable and clinically relevant change vs.
    the previous administration, response and remission vs. the first one (baseline).
    Recomputed as a whole, so a back-dated entry corrects its neighbours too."""
    if not INSTRUMENTS[instrument].has_total:
        return
    series = list(Administration.objects.filter(patient=patient, instrument=instrument).order_by("administered_on", "created_at", "id"))
    if not series:
        return
    previous: Administration | None = None
    baseline = series[0]
    for adm in series:
        adm.patient = patient
        details = dict(adm.details or {})
        flags: list[str]
        if previous is None:
            change, flags = None, []
        else:
            current = _series_total(adm)
            amount, flag_set = scoring.compare(instrument, _series_total(previous), current)
            _, from_baseline = scoring.compare(instrument, _series_total(baseline), current)
            flag_set = (flag_set - _BASELINE_FLAGS) | (from_baseline & _BASELINE_FLAGS)
            change, flags = _json_number(amount), sorted(flag_set)
        if details.get("change") != change or details.get("change_flags", []) != flags:
            details["change"], details["change_flags"] = change, flags
            adm.details = details
            adm.save(update_fields=["details_ct"])
        previous = adm


# --- patient links -------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(*, patient: Any, instrument: str, request: Any, days: int = LINK_DAYS) -> tuple[PatientLink, str]:
    """A new link; returns it with the token, which is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = PatientLink.objects.create(
            patient=patient, instrument=instrument, token_hash=hash_token(token),
            created_by=request.user, expires_at=timezone.now() + dt.timedelta(days=days),
        )
        audit.record(request, "assessment.link_create", patient=patient, obj=link, detail=instrument)
    return link, token


def email_link(*, link: PatientLink, url: str, request: Any) -> bool:
    """Send the link to the patient's stored address, right away: the token exists only in this
    request (it must not travel through the task queue). The mail names the practice and the
    expiry, not the questionnaire (its name alone can say something about health)."""
    from django.core.mail import send_mail

    patient = link.patient
    practice = patient.practice
    body = (
        "Guten Tag,\n\n"
        f"Ihre Praxis {practice.name} bittet Sie, einen kurzen Fragebogen auszufüllen:\n{url}\n\n"
        f"Der Link ist nur einmal verwendbar und bis {timezone.localtime(link.expires_at):%d.%m.%Y %H:%M} Uhr gültig. "
        "Bitte geben Sie ihn nicht weiter.\n\n"
        "Wenn es Ihnen gerade sehr schlecht geht: Notruf 112, Telefonseelsorge 0800 111 0 111 oder 0800 111 0 222.\n"
    )
    try:
        send_mail(f"Fragebogen von {practice.name}", body, None, [patient.email])
    except (OSError, smtplib.SMTPException):
        # The link still works; the page says the mail failed and shows the link once.
        return False
    audit.record(request, "assessment.link_email", patient=patient, obj=link)
    return True


def revoke_link(*, link: PatientLink, request: Any) -> None:
    PatientLink.objects.filter(pk=link.pk, used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record(request, "assessment.link_revoke", patient=link.patient, obj=link)


class LinkUnusable(Exception):
    """The link is expired, used, revoked or unknown (the public page does not say which)."""


def submit_link(*, link: PatientLink, answers: Any, request: Any) -> Administration:
    """Store the patient's answers and kill the link in one transaction. Raises
    scoring.InvalidAnswers (nothing stored, link still open) or LinkUnusable."""
    patient = link.patient
    context = scoring_context(link.instrument, patient)
    score(link.instrument, answers, context)  # validate before claiming the link
    with transaction.atomic():
        # Claim the link with a conditional UPDATE: two concurrent submissions, one wins.
        claimed = PatientLink.objects.usable().filter(pk=link.pk).update(used_at=timezone.now())
        if claimed != 1:
            raise LinkUnusable
        adm = record_administration(
            patient=patient, instrument=link.instrument, answers=answers, administered_on=timezone.localdate(),
            source=Source.LINK, context=context, request=request,
        )
        PatientLink.objects.filter(pk=link.pk).update(administration=adm)
        audit.record(request, "assessment.link_submit", patient=patient, obj=link, detail=link.instrument)
        notify_filled(link=link, administration=adm)
    return adm


def notify_filled(*, link: PatientLink, administration: Administration) -> list[Notification]:
    """In-app notification and an e-mail without clinical content for the patient's therapist
    and the sender of the link."""
    patient = link.patient
    recipients = {u.pk: u for u in (patient.therapist, link.created_by) if u is not None}
    notes = [
        Notification.objects.create(practice=patient.practice, recipient=user, kind=Notification.Kind.QUESTIONNAIRE_FILLED, patient=patient)
        for user in recipients.values()
    ]
    from assessments.tasks import send_notification_email

    for note in notes:
        transaction.on_commit(functools.partial(send_notification_email.delay, note.pk))
    return notes


def email_notification(*, notification: Notification) -> None:
    """The e-mail says only that a questionnaire was filled in, with a link into the app: no
    patient name, no instrument, no score (mail is not end-to-end encrypted)."""
    from django.core.mail import send_mail
    from django.urls import reverse

    user = notification.recipient
    if not user.email:
        return
    url = settings.SITE_URL.rstrip("/") + reverse("assessments:notification_open", args=[notification.code])
    body = (
        "Guten Tag,\n\n"
        "ein Fragebogen wurde ausgefüllt. Sie können das Ergebnis nach der Anmeldung in duktus ansehen:\n"
        f"{url}\n\n"
        "Diese Nachricht enthält aus Datenschutzgründen keine Angaben zur Person oder zum Ergebnis.\n"
    )
    send_mail("Ein Fragebogen wurde ausgefüllt", body, None, [user.email])


def open_notification(*, notification: Notification, request: Any) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


# --- schedules and licences ----------------------------------------------------------------------


def set_schedule(*, patient: Any, instrument: str, interval_days: int, starts_on: dt.date, request: Any) -> Schedule:
    with transaction.atomic():
        schedule, _ = Schedule.objects.update_or_create(
            patient=patient, instrument=instrument,
            defaults={"interval_days": interval_days, "starts_on": starts_on, "created_by": request.user},
        )
        audit.record(request, "assessment.schedule_set", patient=patient, obj=schedule, detail=f"{instrument} {interval_days}")
    return schedule


def remove_schedule(*, schedule: Schedule, request: Any) -> None:
    with transaction.atomic():
        audit.record(request, "assessment.schedule_remove", patient=schedule.patient, obj=schedule)
        schedule.delete()


def record_licence(*, practice: Any, instrument: str, licence_note: str, item_texts: tuple[str, ...] | LicensedForm, request: Any,
                   actor: Any = None) -> InstrumentLicence:
    """Record the practice's licence with its licensed texts (a LicensedForm, or item texts
    only); this switches on electronic forms and patient links for the instrument."""
    form = item_texts if isinstance(item_texts, LicensedForm) else parse_licensed_form(instrument, list(item_texts))
    with transaction.atomic():
        licence = InstrumentLicence.objects.filter(practice=practice, instrument=instrument).first() or InstrumentLicence(
            practice=practice, instrument=instrument
        )
        licence.practice = practice
        licence.licence_note = licence_note
        licence.item_texts = list(form.items)
        licence.form_extra = form.extra()
        licence.recorded_by = actor or (request.user if request is not None else None)
        licence.recorded_at = timezone.now()
        licence.save()
        audit.record(request, "assessment.licence_record", practice=practice, obj=licence, actor=actor, detail=instrument)
    return licence


def remove_licence(*, licence: InstrumentLicence, request: Any) -> None:
    with transaction.atomic():
        audit.record(request, "assessment.licence_remove", practice=licence.practice, obj=licence, detail=licence.instrument)
        licence.delete()
