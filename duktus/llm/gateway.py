"""The one way to an LLM. Only module in the code base that imports `openai`.

Every call, in this order: practice AI switch + patient consent → anonymize the caller's messages
with the conversation's mapping (seeded with the patient's known identifiers) → leak guard →
model call (timeout, retries with exponential backoff by the openai client) → restore → LLMCall
row (what was sent, encrypted) → audit (pseudonym only).
Nothing here logs or raises decrypted values.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from duktus import audit
from duktus.llm.embeddings import HashingEmbedder
from duktus.llm.errors import (
    GatewayBadResponse,
    GatewayBlocked,
    GatewayError,
    GatewayRefused,
    GatewayTimeout,
    GatewayUnavailable,
    GatewayWarning,
)
from duktus.models import LLMCall, LLMConversation, PracticeAISettings

__all__ = [
    "ROLES",
    "EmbeddingResult",
    "GatewayBadResponse",
    "GatewayBlocked",
    "GatewayError",
    "GatewayRefused",
    "GatewayTimeout",
    "GatewayUnavailable",
    "GatewayWarning",
    "LLMResult",
    "complete",
    "embed",
    "is_configured",
    "refusal_reason",
]

log = logging.getLogger(__name__)

ROLES = ("dialog", "diagnostics", "documentation")
_RESEED_LABELS = {"ORGANIZATION", "STREET"}
NOT_CONFIGURED = "Kein KI-Modell konfiguriert"
PRACTICE_OFF = "Die KI-Funktionen sind für diese Praxis nicht freigeschaltet (Praxisinhaber/in, AVV nach Art. 28 DSGVO)."
NO_CONSENT = "Für diese Patientin / diesen Patienten liegt keine Einwilligung zur KI-Verarbeitung vor."
RESTRICTED = "Die Verarbeitung ist für diese Patientin / diesen Patienten eingeschränkt (Art. 18 DSGVO): keine KI-Verarbeitung."


@dataclass
class LLMResult:
    text: str  # restored (names back)
    anonymized_text: str  # what the model answered
    conversation: Any
    call: Any
    warnings: list[str] = field(default_factory=list)


@dataclass
class EmbeddingResult:
    vectors: list[list[float]]
    backend: str  # "offline-char-ngram-v1" or "provider:<model>"


# --- configuration -----------------------------------------------------------------------------
def is_configured() -> bool:
    return bool(settings.LLM_API_KEY)


def role_config(role: str) -> tuple[str, float]:
    if role not in ROLES:
        raise ValueError(f"unknown LLM role {role!r}")
    return getattr(settings, f"LLM_MODEL_{role.upper()}"), float(getattr(settings, f"LLM_TEMPERATURE_{role.upper()}"))


_client_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


def _client() -> Any:
    """One openai client per configuration (connection pool reuse). The openai client retries
    connection errors, timeouts, 429 and 5xx with exponential backoff (LLM_MAX_RETRIES)."""
    key = (settings.LLM_BASE_URL, settings.LLM_API_KEY, settings.LLM_TIMEOUT_SECONDS, settings.LLM_MAX_RETRIES)
    with _client_lock:
        client = _clients.get(key)
        if client is None:
            import openai  # lazy: ~0.5 s import

            client = openai.OpenAI(base_url=settings.LLM_BASE_URL, api_key=settings.LLM_API_KEY,
                                   timeout=settings.LLM_TIMEOUT_SECONDS, max_retries=settings.LLM_MAX_RETRIES)
            _clients[key] = client
        return client


_anon_lock = threading.Lock()
_anon: Any = None


def anonymizer() -> Any:
    """The shared Anonymizer (loaded once, thread-safe afterwards)."""
    global _anon
    with _anon_lock:
        if _anon is None:
            from anonymizer import Anonymizer

            _anon = Anonymizer(level="moderate")
        return _anon


# --- checks --------------------------------------------------------------------------------------
def _refusal_reason(patient: Any) -> str | None:
    from duktus.privacy.erasure import is_restricted

    if is_restricted(patient):
        return RESTRICTED
    if not is_configured():
        return NOT_CONFIGURED
    ai = PracticeAISettings.objects.filter(practice_id=patient.practice_id, enabled=True).first()
    if ai is None:
        return PRACTICE_OFF
    if not patient.has_ai_consent():
        return NO_CONSENT
    return None


def refusal_reason(patient: Any) -> str | None:
    """Why an AI call for this patient would be refused right now (None: it would be sent).
    For pages that say so before the therapist asks."""
    return _refusal_reason(patient)


def known_seed(patient: Any) -> tuple[dict[str, list[str]], list[str]]:
    """Seed dict for the mapping and the flat list of strings for the leak guard."""
    ids = patient.known_identifiers()
    flat: list[str] = []
    for values in ids.values():
        for v in values:
            if v and v not in flat:
                flat.append(v)
    # Seed full names only: the anonymizer derives parts and inflections itself, while a seeded
    # lone first name would become a person of its own ([PERSON_2] for "Henrike").
    persons = ids.get("PERSON", [])
    full = [p for p in persons if " " in p.strip()]
    ids = {**ids, "PERSON": [p for p in persons if " " in p.strip() or not any(p in f.split() for f in full)]}
    return ids, flat


def seed_mapping(mapping: Any, seed: dict[str, list[str]]) -> Any:
    """Add the patient's known identifiers (`known_seed`) to an anonymizer mapping; returns it."""
    for label, values in seed.items():
        for v in values:
            mapping.add_known(label, v)
    return mapping


def _load_mapping(conversation: Any, seed: dict[str, list[str]]) -> Any:
    from anonymizer import Mapping

    data = conversation.mapping
    mapping = seed_mapping(Mapping.from_dict(data) if data else Mapping(), seed)
    # Organizations and streets masked earlier in this conversation stay masked even where the
    # detector misses them without a cue ("Bäckerei Sonnenschein" seen once after "bei der").
    # Only these labels: seeding every entry (~150 in a long session) tripled anonymize time, and
    # names are already matched through the mapping's person index.
    for entry in list(mapping.entries.values()):
        if entry.get("label") in _RESEED_LABELS and entry.get("original"):
            mapping.add_known(entry["label"], entry["original"])
    return mapping


def _record_failure(*, conversation: Any, role: str, model: str, temperature: float | None, status: str,
                    error_kind: str, user: Any, request_sent: Any = None, latency_ms: int | None = None) -> Any:
    call = LLMCall(conversation=conversation, role=role, model=model, temperature=temperature, status=status,
                   error_kind=error_kind[:64], created_by=user, latency_ms=latency_ms)
    if request_sent is not None:
        call.request_sent = request_sent
    call.save()
    return call


def _audit(action: str, *, patient: Any, call: Any, user: Any, detail: str) -> None:
    audit.record(None, action, practice=patient.practice, patient=patient, obj=call, actor=user, detail=detail)


def _guard(anon: Any, sent_messages: list[dict[str, str]], flat: list[str]) -> tuple[list[str], list[str]]:
    """Leak guard: anything the app knows about the patient, or a hard identifier (severity
    "block"), blocks; name-list hits outside the lexicon only warn. Labels only, never text."""
    blocked: list[str] = []
    warned: list[str] = []
    for m in sent_messages:
        for ent in anon.residual_risk(m["content"], known=flat):
            (blocked if ent.severity == "block" else warned).append(ent.label)
    return blocked, warned


# --- complete ------------------------------------------------------------------------------------
def complete(
    *,
    patient: Any,
    role: str,
    messages: list[dict[str, str]],
    conversation: Any = None,
    user: Any = None,
    override_warnings: bool = False,
    on_delta: Callable[[str], None] | None = None,
) -> LLMResult:
    """Send `messages` (plaintext role/content dicts) for `patient` to the model of `role`.

    Raises GatewayRefused / GatewayBlocked / GatewayWarning before anything is sent, and
    GatewayUnavailable / GatewayTimeout / GatewayBadResponse when the model fails. Writes one
    LLMCall row and one audit entry per call. `on_delta(text_so_far_restored)` enables streaming.
    """
    model, temperature = role_config(role)
    reason = _refusal_reason(patient)
    if reason is not None:
        conv = conversation if conversation is not None and conversation.patient_id == patient.pk else None
        call = _record_failure(conversation=conv, role=role, model=model, temperature=temperature,
                               status=LLMCall.Status.REFUSED, error_kind="refused", user=user)
        _audit("llm.refused", patient=patient, call=call, user=user, detail=f"{role}: {reason}")
        raise GatewayRefused(reason)

    if conversation is None:
        conversation = LLMConversation(patient=patient)
        conversation.mapping = {}
        conversation.save()
    elif conversation.patient_id != patient.pk:
        raise ValueError("conversation belongs to another patient")

    seed, flat = known_seed(patient)
    anon = anonymizer()
    # The row lock serializes parallel calls of one conversation while placeholders are assigned
    # (not across the model call), so neither call loses the other's placeholders.
    with transaction.atomic():
        locked = LLMConversation.objects.select_for_update().get(pk=conversation.pk)
        locked.patient = patient  # reuse the already unwrapped data key
        mapping = _load_mapping(locked, seed)
        sent_messages: list[dict[str, str]] = []
        for m in messages:
            result = anon.anonymize(m.get("content") or "", mapping)
            sent_messages.append({"role": m["role"], "content": result.text})
        blocked, warned = _guard(anon, sent_messages, flat)
        if not blocked:
            locked.mapping = mapping.to_dict()
            locked.save(update_fields=["mapping_ct"])
    conversation = locked

    if blocked:
        call = _record_failure(conversation=conversation, role=role, model=model, temperature=temperature,
                               status=LLMCall.Status.BLOCKED, error_kind="leak_guard", user=user)
        _audit("llm.blocked", patient=patient, call=call, user=user, detail=f"{role}: {','.join(sorted(set(blocked)))}")
        raise GatewayBlocked(blocked)
    if warned and not override_warnings:
        raise GatewayWarning(warned)

    payload: dict[str, Any] = {"model": model, "messages": sent_messages, "temperature": temperature}
    if on_delta is not None:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}

    started = time.perf_counter()
    try:
        answer, usage = _call_chat(payload, on_delta=on_delta, restore=lambda t: anon.restore(t, mapping))
    except GatewayError as exc:
        latency = int((time.perf_counter() - started) * 1000)
        call = _record_failure(conversation=conversation, role=role, model=model, temperature=temperature,
                               status=LLMCall.Status.FAILED, error_kind=type(exc).__name__, user=user,
                               request_sent=payload, latency_ms=latency)
        _audit("llm.call", patient=patient, call=call, user=user, detail=f"{role}: failed {type(exc).__name__}")
        raise
    latency = int((time.perf_counter() - started) * 1000)

    restored = anon.restore(answer, mapping)
    call = LLMCall(conversation=conversation, role=role, model=model, temperature=temperature,
                   status=LLMCall.Status.OK, latency_ms=latency, created_by=user,
                   prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens"))
    call.request_sent = payload
    call.response_text = answer
    call.restored_text = restored
    call.save()
    detail = f"{role}: ok" + (" (Warnung übergangen)" if warned else "")
    _audit("llm.call", patient=patient, call=call, user=user, detail=detail)
    return LLMResult(text=restored, anonymized_text=answer, conversation=conversation, call=call,
                     warnings=sorted(set(warned)))


def _translate(exc: Exception) -> GatewayError:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return GatewayTimeout()
    if isinstance(exc, openai.APIConnectionError | openai.InternalServerError | openai.RateLimitError):
        return GatewayUnavailable()
    if isinstance(exc, openai.APIStatusError):
        return GatewayUnavailable() if exc.status_code >= 500 else GatewayBadResponse()
    return GatewayBadResponse()


def _call_chat(payload: dict[str, Any], *, on_delta: Callable[[str], None] | None,
               restore: Callable[[str], str]) -> tuple[str, dict[str, int]]:
    client = _client()
    usage: dict[str, int] = {}
    try:
        if on_delta is None:
            resp = client.chat.completions.create(**payload)
            choices = getattr(resp, "choices", None)
            if not choices or choices[0].message is None:
                raise GatewayBadResponse()
            text = choices[0].message.content or ""
            if resp.usage is not None:
                usage = {"prompt_tokens": resp.usage.prompt_tokens, "completion_tokens": resp.usage.completion_tokens}
        else:
            parts: list[str] = []
            stream = client.chat.completions.create(**payload)
            for chunk in stream:
                if getattr(chunk, "usage", None) is not None:
                    usage = {"prompt_tokens": chunk.usage.prompt_tokens, "completion_tokens": chunk.usage.completion_tokens}
                for choice in chunk.choices or []:
                    piece = choice.delta.content if choice.delta is not None else None
                    if piece:
                        parts.append(piece)
                        on_delta(restore("".join(parts)))
            text = "".join(parts)
    except GatewayError:
        raise
    except Exception as exc:  # noqa: BLE001 — translate; never carry the provider's text onwards
        # Log the class only: provider error bodies may echo (anonymized) request content.
        log.warning("LLM call failed: %s", type(exc).__name__)
        raise _translate(exc) from None
    if not text.strip():
        raise GatewayBadResponse()
    return text, usage


# --- embed -----------------------------------------------------------------------------------------
_offline = HashingEmbedder()


def embed(texts: list[str], *, patient: Any = None, user: Any = None) -> EmbeddingResult:
    """Embeddings for `texts`. With a provider: the `embed` role's model, texts anonymized when a
    patient is given (and refused without practice switch/consent). Without a provider: the
    offline lexical HashingEmbedder. A restricted patient (Art. 18) is refused either way."""
    if patient is not None and (reason := _refusal_reason(patient)) == RESTRICTED:
        raise GatewayRefused(reason)
    if not is_configured():
        return EmbeddingResult(vectors=_offline.embed(texts), backend=_offline.backend)
    model = settings.LLM_MODEL_EMBED
    inputs = list(texts)
    if patient is not None:
        reason = _refusal_reason(patient)
        if reason is not None:
            raise GatewayRefused(reason)
        from anonymizer import Mapping

        seed, flat = known_seed(patient)
        mapping = seed_mapping(Mapping(), seed)
        anon = anonymizer()
        inputs = [anon.anonymize(t, mapping).text for t in texts]
        blocked = [e.label for t in inputs for e in anon.residual_risk(t, known=flat) if e.severity == "block"]
        if blocked:
            raise GatewayBlocked(blocked)
    try:
        resp = _client().embeddings.create(model=model, input=inputs)
        vectors = [list(d.embedding) for d in sorted(resp.data, key=lambda d: d.index)]
    except Exception as exc:  # noqa: BLE001
        log.warning("LLM embedding failed: %s", type(exc).__name__)
        raise _translate(exc) from None
    if len(vectors) != len(texts):
        raise GatewayBadResponse()
    return EmbeddingResult(vectors=vectors, backend=f"provider:{model}")

