"""Document forms. Sign and addendum forms re-check the password and a fresh TOTP code."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from documents import definitions, services
from duktus.forms import DateInput


def template_choices() -> list[tuple[str, str]]:
    return [(t.key, t.title) for t in sorted(definitions.all_templates().values(), key=lambda t: t.title)]


class NewDocumentForm(forms.Form):
    template = forms.ChoiceField(label="Vorlage", choices=())
    variant = forms.CharField(label="Variante", required=False, max_length=40)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # fields is typed dict[str, Field]; "template" is the ChoiceField declared above.
        cast(forms.ChoiceField, self.fields["template"]).choices = [("", "– bitte wählen –")] + template_choices()
        self.fields["template"].error_messages["invalid_choice"] = "Bitte eine vorhandene Vorlage wählen."
        self.fields["template"].error_messages["required"] = "Bitte eine Vorlage wählen."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        template = definitions.get(data.get("template") or "")
        variant = (data.get("variant") or "").strip()
        if template is not None and variant and template.variant(variant) is None:
            self.add_error("variant", "Diese Variante gibt es für die gewählte Vorlage nicht.")
        return data


class VariantForm(forms.Form):
    variant = forms.CharField(max_length=40)


class SectionForm(forms.Form):
    text = forms.CharField(required=False, strip=False, max_length=services.MAX_SECTION_CHARS,
                           widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["max_length"] = (
            f"Der Abschnitt ist zu lang (höchstens {services.MAX_SECTION_CHARS} Zeichen).")


class _CodeInput(forms.TextInput):
    """A used TOTP code is worthless: never render it back into a re-displayed form."""

    def format_value(self, value: Any) -> None:
        return None


class _ReauthForm(forms.Form):
    password = forms.CharField(label="Passwort", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label="Code aus der Authenticator-App", max_length=10,
                           widget=_CodeInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = "Bitte Ihr Passwort eingeben."
        self.fields["code"].error_messages["required"] = "Bitte den aktuellen Code aus der Authenticator-App eingeben."

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Das Passwort ist nicht korrekt.")
        return password

    def clean_code(self) -> str:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        code = self.cleaned_data["code"].replace(" ", "")
        authenticator = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.TOTP).first()
        # validate_code also marks the code as used: a code cannot sign twice.
        if authenticator is None or not TOTP(authenticator).validate_code(code):
            raise forms.ValidationError("Der Code ist ungültig oder wurde bereits verwendet.")
        return code


class SignForm(_ReauthForm):
    authorship = forms.BooleanField(
        label="Ich habe diesen Bericht selbst verfasst, alle KI-Entwürfe geprüft und mache mir den Inhalt zu eigen.",
        required=False)

    def __init__(self, *args: Any, declaration: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.declaration = declaration
        if not declaration:
            del self.fields["authorship"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.declaration and not data.get("authorship"):
            self.add_error("authorship", "Bitte bestätigen Sie die Verfasserschaft (PTV-Formulare).")
        return data


class AddendumForm(_ReauthForm):
    text = forms.CharField(label="Nachtrag (Korrektur oder Ergänzung)", max_length=services.MAX_SECTION_CHARS,
                           widget=forms.Textarea(attrs={"rows": 4}))

    field_order = ["text", "password", "code"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = "Bitte den Nachtrag eingeben."

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Bitte den Nachtrag eingeben.")
        return text


class LetterheadForm(forms.Form):
    name = forms.CharField(label="Name im Briefkopf", max_length=200)
    address = forms.CharField(label="Anschrift", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    contact = forms.CharField(label="Kontakt (Telefon, E-Mail)", required=False, max_length=300)
    logo = forms.FileField(label="Logo (PNG oder JPEG, höchstens 512 KB)", required=False)
    remove_logo = forms.BooleanField(label="Logo entfernen", required=False)

    def clean_logo(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > services.MAX_LOGO_BYTES:
            raise forms.ValidationError("Das Logo ist zu groß (höchstens 512 KB).")
        data = upload.read()
        try:
            services.validate_logo(data)
        except services.InvalidLogo as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class GoalForm(forms.Form):
    """A SMART therapy goal; stored as a memory entry (memory.services.create_goal)."""

    text = forms.CharField(label="Ziel (spezifisch)", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    measure = forms.CharField(label="Messkriterium (messbar)", required=False, max_length=2000)
    baseline = forms.CharField(label="Ausgangslage", required=False, max_length=2000)
    target = forms.CharField(label="Zielzustand (erreichbar)", required=False, max_length=2000)
    relevance = forms.CharField(label="Bedeutung für die Patientin / den Patienten (relevant)", required=False, max_length=2000)
    due = forms.DateField(label="Zieldatum (terminiert)", required=False, widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = "Bitte das Ziel beschreiben."
        self.fields["due"].error_messages["invalid"] = "Bitte ein gültiges Datum eingeben."


class AttainmentForm(forms.Form):
    scale = forms.ChoiceField(label="Skala", choices=[("percent", "Prozent (0–100 %)"), ("gas", "GAS (−2 bis +2)")])
    value = forms.IntegerField(label="Zielerreichung")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].error_messages["required"] = "Bitte die Zielerreichung eingeben."
        self.fields["value"].error_messages["invalid"] = "Die Zielerreichung muss eine ganze Zahl sein."
