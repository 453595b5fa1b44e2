"""Questionnaire pages: start page, recording with live score preview, trends, patient links
(including the public, login-free form), schedules, licences, notifications."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from assessments import queries, services
from assessments.access import get_instrument_or_404, get_licence_for_user, get_notification_for_user, require_owner
from assessments.forms import AdministrationForm, AnswerSheet, LicenceForm, LinkForm, ScheduleForm
from assessments.instruments import INSTRUMENTS
from assessments.models import PatientLink, Schedule, Source
from duktus import audit
from duktus.models import CLINICAL_ROLES
from duktus.tenancy import MemberRequest, practice_view
from patients.access import get_child_for_user, get_patient_for_user
from patients.crisis import EMERGENCY_NUMBERS, PROTOCOL_STEPS

CLINICAL = [r.value for r in CLINICAL_ROLES]


def _back_to_patient(request: MemberRequest, patient: Any, anchor: str = "") -> HttpResponse:
    url = patient.get_absolute_url() + anchor
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- start page ------------------------------------------------------------------------------------


@require_GET
@practice_view()
def dashboard(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    context: dict[str, Any] = {"clinical": membership.is_clinical, "approval_warnings": queries.approval_warnings(membership)}
    if membership.is_clinical:
        context.update(
            crises=queries.open_crises(membership),
            due=queries.due_questionnaires(membership),
            deteriorations=queries.reliable_deteriorations(membership),
            notifications=queries.inbox(request.user, membership.practice),
            emergency_numbers=EMERGENCY_NUMBERS,
            protocol_steps=PROTOCOL_STEPS,
        )
    audit.record(request, "dashboard.view")
    return render(request, "assessments/dashboard.html", context)


# --- recording ---------------------------------------------------------------------------------------


def _sheet(request: HttpRequest, patient: Any, code: str, data: Any = None) -> AnswerSheet:
    return AnswerSheet(INSTRUMENTS[code], data, queries.electronic_form(patient.practice, code))


def _record_context(patient: Any, code: str, sheet: AnswerSheet, form: AdministrationForm, result: Any = None) -> dict[str, Any]:
    return {"patient": patient, "instrument": INSTRUMENTS[code], "sheet": sheet, "form": form, "result": result,
            "instruments": INSTRUMENTS.values()}


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def record(request: MemberRequest, code: Any, instrument: str) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    instrument = get_instrument_or_404(instrument)
    if request.method == "GET":
        sheet = _sheet(request, patient, instrument)
        form = AdministrationForm(initial={"administered_on": timezone.localdate()})
        template = "assessments/record.html#record-form" if request.htmx else "assessments/record.html"
        return render(request, template, _record_context(patient, instrument, sheet, form))
    form = AdministrationForm(request.POST)
    sheet = _sheet(request, patient, instrument, request.POST)
    sex = request.POST.get("sex") or None
    context = services.scoring_context(instrument, patient, sex)
    result = sheet.validate(context)
    if form.is_valid() and result is not None:
        services.record_administration(
            patient=patient, instrument=instrument, answers=sheet.answers, administered_on=form.cleaned_data["administered_on"],
            source=Source.THERAPIST, context=context, request=request, entered_by=request.user,
        )
        messages.success(request, f"{INSTRUMENTS[instrument].short_name} wurde gespeichert.")
        return _back_to_patient(request, patient, "#questionnaires")
    template = "assessments/record.html#record-form" if request.htmx else "assessments/record.html"
    return render(request, template, _record_context(patient, instrument, sheet, form), status=422)


@require_POST
@practice_view(roles=CLINICAL)
def preview(request: MemberRequest, code: Any, instrument: str) -> HttpResponse:
    """Live score while the therapist enters values; stores nothing."""
    patient = get_patient_for_user(request, code, clinical=True)
    instrument = get_instrument_or_404(instrument)
    sheet = _sheet(request, patient, instrument, request.POST)
    result = sheet.validate(services.scoring_context(instrument, patient, request.POST.get("sex") or None))
    return render(request, "assessments/record.html#score-preview", {"sheet": sheet, "result": result, "instrument": INSTRUMENTS[instrument]})


# --- trends ------------------------------------------------------------------------------------------


@require_GET
@practice_view(roles=CLINICAL)
def trend(request: MemberRequest, code: Any, instrument: str) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    instrument = get_instrument_or_404(instrument)
    rows = queries.administrations(patient, instrument)
    audit.record(request, "assessment.trend_view", patient=patient, detail=instrument)
    return render(request, "assessments/trend.html", {
        "patient": patient, "instrument": INSTRUMENTS[instrument], "rows": list(reversed(rows)),
        "svg": queries.chart(instrument, rows, width=960, height=300),  # the page is wide
    })


# --- patient links -----------------------------------------------------------------------------------


def qr_svg(url: str) -> str:
    """The link as an inline SVG QR code (no image request, nothing leaves the page)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return img.to_string(encoding="unicode")


@require_POST
@practice_view(roles=CLINICAL)
def link_create(request: MemberRequest, code: Any) -> HttpResponse:
    """Create a link and show it once (URL and QR code). This POST renders instead of
    redirecting: the token is not stored anywhere, so it cannot survive a redirect."""
    patient = get_patient_for_user(request, code, clinical=True)
    codes = [i.code for i in queries.link_instruments(patient.practice)]
    form = LinkForm(request.POST, codes=codes, patient_email=patient.email)
    if not form.is_valid():
        ctx = {"patient": patient, "link_form": form, "links": queries.patient_links(patient)}
        return render(request, "assessments/_section.html#links", ctx, status=422)
    link, token = services.create_link(patient=patient, instrument=form.cleaned_data["instrument"], request=request, days=form.cleaned_data["days"])
    url = request.build_absolute_uri(reverse("assessments:fill", args=[token]))
    sent = services.email_link(link=link, url=url, request=request) if form.cleaned_data["send_email"] else None
    ctx = {"patient": patient, "link": link, "url": url, "qr": qr_svg(url), "instrument": INSTRUMENTS[link.instrument],
           "emailed_to": patient.email if sent else "", "email_failed": sent is False}
    template = "assessments/link_created.html#created" if request.htmx else "assessments/link_created.html"
    response = render(request, template, ctx)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
@practice_view(roles=CLINICAL)
def link_revoke(request: MemberRequest, code: Any, link_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    link = get_child_for_user(request, PatientLink, patient, link_code)
    services.revoke_link(link=link, request=request)
    messages.success(request, "Der Link wurde widerrufen.")
    return _back_to_patient(request, patient, "#questionnaires")


# --- public form (no login) --------------------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> bool:
    """Per-IP counter in the cache (fixed window). Counts every request to the public form."""
    limit, window = getattr(settings, "ASSESSMENTS_LINK_RATE", (30, 600))
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    key = f"assessments:link-rate:{ip}:{int(timezone.now().timestamp() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _public(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    # The URL holds the token. The site-wide Referrer-Policy "same-origin" already keeps it from
    # other sites; "no-referrer" would make browsers send "Origin: null" and fail the CSRF check.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _dead_link(request: HttpRequest) -> HttpResponse:
    # Expired, used, revoked and forged links get the same page and status: nothing to learn.
    return _public(request, "assessments/public/dead.html", {}, status=404)


@require_http_methods(["GET", "POST"])
def fill(request: HttpRequest, token: str) -> HttpResponse:
    if _rate_limited(request):
        return _public(request, "assessments/public/rate_limited.html", {}, status=429)
    link = queries.find_link(services.hash_token(token)) if len(token) <= 100 else None
    if link is None:
        return _dead_link(request)
    patient = link.patient
    electronic = queries.electronic_form(patient.practice, link.instrument)
    if electronic is None:  # licence removed since the link was sent
        return _dead_link(request)
    instrument = INSTRUMENTS[link.instrument]
    sheet = AnswerSheet(instrument, request.POST if request.method == "POST" else None, electronic)
    ctx = {"practice_name": patient.practice.name, "instrument": instrument, "sheet": sheet, "token": token}
    if request.method == "POST":
        if sheet.validate(services.scoring_context(link.instrument, patient)) is None:
            return _public(request, "assessments/public/form.html", ctx, status=422)
        try:
            adm = services.submit_link(link=link, answers=sheet.answers, request=request)
        except services.LinkUnusable:
            return _dead_link(request)
        return _public(request, "assessments/public/thanks.html", {
            "practice_name": patient.practice.name, "practice_phone": patient.practice.phone,
            "risk": adm.has_safety_flag, "emergency_numbers": EMERGENCY_NUMBERS,
        })
    return _public(request, "assessments/public/form.html", ctx)


# --- schedules -----------------------------------------------------------------------------------------


@require_POST
@practice_view(roles=CLINICAL)
def schedule_set(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.set_schedule(patient=patient, instrument=d["instrument"], interval_days=d["interval_days"], starts_on=d["starts_on"], request=request)
        messages.success(request, "Der Erhebungsplan wurde gespeichert.")
        return _back_to_patient(request, patient, "#questionnaires")
    ctx = {"patient": patient, "schedule_form": form, "schedules": queries.patient_schedules(patient)}
    return render(request, "assessments/_section.html#schedules", ctx, status=422)


@require_POST
@practice_view(roles=CLINICAL)
def schedule_remove(request: MemberRequest, code: Any, schedule_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    schedule = get_child_for_user(request, Schedule, patient, schedule_code)
    services.remove_schedule(schedule=schedule, request=request)
    messages.success(request, "Der Erhebungsplan wurde entfernt.")
    return _back_to_patient(request, patient, "#questionnaires")


# --- licences ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def licences(request: MemberRequest) -> HttpResponse:
    practice = request.membership.practice
    form = LicenceForm()
    status = 200
    if request.method == "POST":
        require_owner(request)
        form = LicenceForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            services.record_licence(practice=practice, instrument=d["instrument"], licence_note=d["licence_note"], item_texts=d["item_texts"], request=request)
            messages.success(request, f"Lizenz für {INSTRUMENTS[d['instrument']].short_name} wurde erfasst.")
            return redirect("assessments:licences")
        status = 422
    licence_map = queries.licences(practice)
    rows = [(i, licence_map.get(code)) for code, i in INSTRUMENTS.items()]
    return render(request, "assessments/licences.html", {"rows": rows, "form": form, "is_owner": request.membership.is_owner}, status=status)


@require_POST
@practice_view(roles=CLINICAL)
def licence_remove(request: MemberRequest, licence_code: Any) -> HttpResponse:
    licence = get_licence_for_user(request, licence_code)
    services.remove_licence(licence=licence, request=request)
    messages.success(request, "Die Lizenz wurde entfernt; elektronische Formulare sind wieder gesperrt.")
    return redirect("assessments:licences")


# --- notifications -------------------------------------------------------------------------------------


@require_GET
@practice_view()
def notification_open(request: MemberRequest, notification_code: Any) -> HttpResponse:
    """The e-mail's link: mark as read and go to the patient (access is checked there)."""
    notification = get_notification_for_user(request, notification_code)
    services.open_notification(notification=notification, request=request)
    if notification.patient is None:
        return redirect("home")
    return redirect(reverse("patients:detail", args=[notification.patient.code]) + "#questionnaires")
