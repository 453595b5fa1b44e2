"""Owner-only switch for the practice's AI features (PracticeAISettings)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from duktus import audit
from duktus.llm import services
from duktus.llm.forms import AISettingsForm
from duktus.models import PracticeAISettings, Role
from duktus.tenancy import MemberRequest, practice_view


@practice_view(roles=[Role.OWNER])
def ai_settings(request: MemberRequest) -> HttpResponse:
    practice = request.membership.practice
    current = PracticeAISettings.objects.filter(practice=practice).first()
    if request.method == "POST":
        form = AISettingsForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            if d["enabled"]:
                services.enable_for_practice(practice=practice, user=request.user, provider=d["provider"].strip(),
                                             avv_signed_on=d["avv_signed_on"], request=request)
                messages.success(request, "Die KI-Funktionen sind für die Praxis eingeschaltet.")
            else:
                services.disable_for_practice(practice=practice, user=request.user, request=request)
                messages.success(request, "Die KI-Funktionen sind ausgeschaltet. Anbieter und AVV-Datum bleiben gespeichert.")
            return redirect("llm:settings")
        return render(request, "llm/settings.html", {"form": form, "current": current}, status=422)
    initial = {"enabled": bool(current and current.enabled), "provider": current.provider if current else "",
               "avv_signed_on": current.avv_signed_on if current else None}
    audit.record(request, "llm.settings.view", practice=practice)
    return render(request, "llm/settings.html", {"form": AISettingsForm(initial=initial), "current": current,
                                                 "latency": services.latency_stats(practice=practice)})
