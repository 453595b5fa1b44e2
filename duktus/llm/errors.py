"""Gateway exceptions. Messages are German, for the user, and never contain decrypted values."""

from __future__ import annotations


class GatewayError(Exception):
    """Base class. `str(exc)` is the user message."""

    default_message = "Die KI-Anfrage ist fehlgeschlagen. Bitte erneut versuchen."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def user_message(self) -> str:
        return str(self)


class GatewayRefused(GatewayError):
    """Nothing was sent: no model, AI not switched on for the practice, or no consent."""


class GatewayBlocked(GatewayError):
    """The leak guard found a known identifier (or a hard identifier) after anonymization.
    `labels` holds entity labels only (PERSON, EMAIL …), never the text found."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = sorted(set(labels))
        super().__init__("Die Anfrage wurde nicht gesendet: Nach der Anonymisierung waren noch identifizierende "
                         f"Angaben enthalten ({', '.join(self.labels)}).")


class GatewayWarning(GatewayError):
    """Suspicious text (e.g. a possible name) survived; the caller may retry with override_warnings=True."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = sorted(set(labels))
        super().__init__("Der Text enthält möglicherweise noch identifizierende Angaben "
                         f"({', '.join(self.labels)}). Bitte prüfen und bei Bedarf trotzdem senden.")


class GatewayUnavailable(GatewayError):
    default_message = "Das KI-Modell ist nicht erreichbar. Bitte erneut versuchen."


class GatewayTimeout(GatewayUnavailable):
    default_message = "Das KI-Modell hat nicht rechtzeitig geantwortet. Bitte erneut versuchen."


class GatewayBadResponse(GatewayError):
    default_message = "Das KI-Modell hat keine verwertbare Antwort geliefert. Bitte erneut versuchen."
