"""The one place for keys: master key versions, practice keys, patient data keys, encrypted
fields and the blind index. Nothing else in the code base sees key material.

Hierarchy (envelope encryption, Fernet = AES-128-CBC + HMAC-SHA256):
  master key (versioned, env or key file)  wraps  practice keys (versioned, in DB)
  practice key                              wraps  one data key per patient (in DB)
  patient data key                          encrypts every identifying/health field of that patient.
Destroying a patient's DataKey row makes all of that patient's fields unreadable (crypto-shredding).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone


class DecryptionError(Exception):
    """Raised when a value cannot be decrypted (its key is gone or wrong). Carries no plaintext."""


# --- Master keys -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MasterKeyring:
    keys: dict[int, bytes]
    primary: int

    def fernet(self, version: int) -> Fernet:
        try:
            return Fernet(self.keys[version])
        except KeyError as exc:
            raise DecryptionError(f"master key version {version} is not available") from exc


_master_lock = threading.Lock()
_master_cache: tuple[Any, MasterKeyring] | None = None


def _parse_env_master(value: str) -> MasterKeyring:
    keys: dict[int, bytes] = {}
    order: list[int] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            v, k = part.split(":", 1)
            version = int(v)
        else:
            version, k = 1, part
        keys[version] = k.encode()
        order.append(version)
    if not keys:
        raise ImproperlyConfigured("DUKTUS_MASTER_KEY is empty")
    return MasterKeyring(keys=keys, primary=order[0])


def _key_file() -> Path:
    return Path(settings.DUKTUS_MASTER_KEY_FILE)


def _read_key_file(path: Path) -> MasterKeyring:
    data = json.loads(path.read_text())
    keys = {int(v): k.encode() for v, k in data["keys"].items()}
    return MasterKeyring(keys=keys, primary=int(data["primary"]))


def write_key_file(ring: MasterKeyring, destroyed: dict[int, str] | None = None) -> None:
    """Atomically replace the key file (mode 0600)."""
    path = _key_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old_destroyed: dict[str, str] = {}
    if path.exists():
        old_destroyed = json.loads(path.read_text()).get("destroyed", {})
    old_destroyed.update({str(k): v for k, v in (destroyed or {}).items()})
    payload = {
        "primary": ring.primary,
        "keys": {str(v): k.decode() for v, k in sorted(ring.keys.items())},
        "destroyed": old_destroyed,
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2)
    os.replace(tmp, path)
    reset_caches()


def master_keyring() -> MasterKeyring:
    """The master keyring from DUKTUS_MASTER_KEY or the key file (created in local mode)."""
    global _master_cache
    env_value = settings.DUKTUS_MASTER_KEY
    if env_value:
        stamp: Any = ("env", env_value)
    else:
        path = _key_file()
        if not path.exists():
            if settings.PRODUCTION:
                raise ImproperlyConfigured("master key file missing")
            write_key_file(MasterKeyring(keys={1: Fernet.generate_key()}, primary=1))
        st = path.stat()
        stamp = ("file", st.st_mtime_ns, st.st_size)
    with _master_lock:
        if _master_cache and _master_cache[0] == stamp:
            return _master_cache[1]
        ring = _parse_env_master(env_value) if env_value else _read_key_file(_key_file())
        _master_cache = (stamp, ring)
        return ring


def master_keys_from_file() -> bool:
    return not settings.DUKTUS_MASTER_KEY


def reset_caches() -> None:
    global _master_cache
    with _master_lock:
        _master_cache = None


# --- Practice keys -----------------------------------------------------------------------------
def _new_data_key() -> bytes:
    return Fernet.generate_key()


def create_practice_keys(practice: Any) -> None:
    """Create version 1 of the practice key and the practice secrets (call inside the creating
    transaction, before the practice is saved: it fills practice.secrets_ct)."""
    from duktus.models import PracticeKey

    ring = master_keyring()
    raw = _new_data_key()
    practice._duktus_new_key = PracticeKey(
        version=1, master_version=ring.primary, wrapped=ring.fernet(ring.primary).encrypt(raw).decode()
    )
    practice._duktus_keyring = MultiFernet([Fernet(raw)])
    secrets_json = json.dumps({"pseudonym": secrets.token_hex(32), "blind_index": secrets.token_hex(32)})
    practice.secrets_ct = Fernet(raw).encrypt(secrets_json.encode()).decode()


def save_new_practice_key(practice: Any) -> None:
    key = getattr(practice, "_duktus_new_key", None)
    if key is not None:
        key.practice = practice
        key.save()
        del practice._duktus_new_key


def practice_keyring(practice: Any) -> MultiFernet:
    """Unwrapped practice keys, primary first. Cached on the instance for the request only."""
    cached = getattr(practice, "_duktus_keyring", None)
    if cached is not None:
        return cached
    ring = master_keyring()
    fernets = []
    # Retired versions still decrypt (nothing wrapped under them is ever lost); only the
    # newest non-retired version encrypts.
    for key in practice.keys.order_by(models.F("retired_at").desc(nulls_first=True), "-version"):
        fernets.append(Fernet(ring.fernet(key.master_version).decrypt(key.wrapped.encode())))
    if not fernets:
        raise DecryptionError("practice has no usable key")
    keyring = MultiFernet(fernets)
    practice._duktus_keyring = keyring
    return keyring


def _practice_secrets(practice: Any) -> dict[str, str]:
    cached = getattr(practice, "_duktus_secrets", None)
    if cached is None:
        try:
            cached = json.loads(practice_keyring(practice).decrypt(practice.secrets_ct.encode()))
        except InvalidToken as exc:
            raise DecryptionError("practice secrets unreadable") from exc
        practice._duktus_secrets = cached
    return cached


# --- Patient data keys --------------------------------------------------------------------------
def create_data_key(practice: Any) -> Any:
    """A new patient data key, wrapped under the current primary practice key.

    The primary key row is read FOR SHARE (not from a cache), so a concurrent rotation, which
    locks these rows FOR UPDATE, either finishes first or waits for this transaction.
    """
    from duktus.models import DataKey, PracticeKey

    with transaction.atomic():
        # Django has no select_for_share(); FOR SHARE lets creators run in parallel.
        key = next(iter(PracticeKey.objects.raw(
            "SELECT * FROM duktus_practicekey WHERE practice_id = %s AND retired_at IS NULL "
            "ORDER BY version DESC LIMIT 1 FOR SHARE",
            [practice.pk],
        )), None)
        if key is None:
            raise DecryptionError("practice has no usable key")
        ring = master_keyring()
        practice_fernet = Fernet(ring.fernet(key.master_version).decrypt(key.wrapped.encode()))
        return DataKey.objects.create(
            practice=practice,
            practice_key_version=key.version,
            wrapped=practice_fernet.encrypt(_new_data_key()).decode(),
        )


def data_key_fernet(data_key: Any, practice: Any) -> Fernet:
    if data_key is None:
        raise DecryptionError("data key destroyed")
    return unwrap_data_key(data_key.wrapped, practice)


def unwrap_data_key(wrapped: str | None, practice: Any) -> Fernet:
    if wrapped is None:
        raise DecryptionError("data key destroyed")
    try:
        return Fernet(practice_keyring(practice).decrypt(wrapped.encode()))
    except InvalidToken as exc:
        raise DecryptionError("data key cannot be unwrapped") from exc


def open_columns(practice: Any, wrapped: str | None, fields: Sequence[Any], tokens: Sequence[str | None]) -> list[Any]:
    """Decrypt the ciphertext columns of one row read with values_list(): `tokens[i]` is the
    column of the EncryptedField `fields[i]`, `wrapped` the row's wrapped data key.

    For long lists: 500 model instances with their data keys cost more than the decryption
    itself. The values are what the model attributes would give (dates as dates).
    """
    fernet = unwrap_data_key(wrapped, practice)
    return [None if token is None else field.decrypt_token(fernet, token, field.model.__name__)
            for field, token in zip(fields, tokens, strict=True)]


# --- Rotation -----------------------------------------------------------------------------------
def rotate_master_key() -> int:
    """Add a new master key version, make it primary, re-wrap every practice key under it.

    Old versions stay in the ring (so running processes and in-flight requests keep working)
    until `destroy_master_versions` removes them. Only possible with a key file; with
    DUKTUS_MASTER_KEY in the environment the operator adds the printed key there.
    """
    from duktus.models import PracticeKey

    if not master_keys_from_file():
        raise ImproperlyConfigured("Master key comes from DUKTUS_MASTER_KEY: rotate by adding a new 'N:key' entry first")
    ring = master_keyring()
    new_version = max(ring.keys) + 1
    new_ring = MasterKeyring(keys={**ring.keys, new_version: Fernet.generate_key()}, primary=new_version)
    # Write the new key first: if re-wrapping fails half-way, every row is still readable.
    write_key_file(new_ring)
    rewrap_practice_keys(new_ring)
    rewrap_system_secrets()
    return new_version


# --- System secrets (e.g. TOTP seeds) directly under the master key ---------------------------------
_SYSTEM_FIELDS = ("secret", "seed")


def encrypt_system(text: str) -> str:
    ring = master_keyring()
    return f"m{ring.primary}:" + ring.fernet(ring.primary).encrypt(text.encode()).decode()


def decrypt_system(token: str) -> str:
    if not token.startswith("m") or ":" not in token:
        return token  # written before encryption was configured
    version, body = token[1:].split(":", 1)
    try:
        return master_keyring().fernet(int(version)).decrypt(body.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("system secret cannot be decrypted") from exc


def _system_version(token: str) -> int | None:
    if token.startswith("m") and ":" in token:
        return int(token[1:].split(":", 1)[0])
    return None


def rewrap_system_secrets() -> int:
    """Re-encrypt MFA secrets under the primary master version."""
    from allauth.mfa.models import Authenticator

    ring = master_keyring()
    count = 0
    with transaction.atomic():
        for auth in Authenticator.objects.select_for_update():
            changed = False
            for field in _SYSTEM_FIELDS:
                token = auth.data.get(field)
                if isinstance(token, str) and _system_version(token) not in (None, ring.primary):
                    auth.data[field] = encrypt_system(decrypt_system(token))
                    changed = True
            if changed:
                auth.save(update_fields=["data"])
                count += 1
    return count


def _system_versions_in_use() -> set[int]:
    from allauth.mfa.models import Authenticator

    used: set[int] = set()
    for data in Authenticator.objects.values_list("data", flat=True):
        for field in _SYSTEM_FIELDS:
            token = data.get(field)
            if isinstance(token, str) and (v := _system_version(token)) is not None:
                used.add(v)
    return used


def rewrap_practice_keys(ring: MasterKeyring | None = None) -> int:
    from duktus.models import PracticeKey

    ring = ring or master_keyring()
    count = 0
    with transaction.atomic():
        for key in PracticeKey.objects.select_for_update().exclude(master_version=ring.primary):
            raw = ring.fernet(key.master_version).decrypt(key.wrapped.encode())
            key.wrapped = ring.fernet(ring.primary).encrypt(raw).decode()
            key.master_version = ring.primary
            key.save(update_fields=["wrapped", "master_version"])
            count += 1
    return count


def destroy_master_versions(versions: list[int]) -> None:
    """Remove old master versions from the key file. Refuses while a row still needs one."""
    from duktus.models import PracticeKey

    ring = master_keyring()
    if ring.primary in versions:
        raise ValueError("cannot destroy the primary master key version")
    in_use = set(PracticeKey.objects.filter(master_version__in=versions).values_list("master_version", flat=True))
    in_use |= _system_versions_in_use() & set(versions)
    if in_use:
        raise ValueError(f"master versions still in use: {sorted(in_use)}")
    keys = {v: k for v, k in ring.keys.items() if v not in versions}
    write_key_file(MasterKeyring(keys=keys, primary=ring.primary), destroyed={v: timezone.now().isoformat() for v in versions})


def rotate_practice_key(practice: Any) -> int:
    """New practice key version: re-wrap patient data keys and practice secrets, retire the old
    versions. Runs in one transaction; readers see either the old or the new state."""
    from duktus.models import DataKey, PracticeKey

    with transaction.atomic():
        old_keys = list(PracticeKey.objects.select_for_update().filter(practice=practice, retired_at__isnull=True))
        old_ring = practice_keyring(practice)
        ring = master_keyring()
        raw = _new_data_key()
        new_version = max(k.version for k in old_keys) + 1
        PracticeKey.objects.create(
            practice=practice, version=new_version, master_version=ring.primary,
            wrapped=ring.fernet(ring.primary).encrypt(raw).decode(),
        )
        new_fernet = Fernet(raw)
        for dk in DataKey.objects.select_for_update().filter(practice=practice):
            dk.wrapped = new_fernet.encrypt(old_ring.decrypt(dk.wrapped.encode())).decode()
            dk.practice_key_version = new_version
            dk.save(update_fields=["wrapped", "practice_key_version"])
        practice.secrets_ct = new_fernet.encrypt(old_ring.decrypt(practice.secrets_ct.encode())).decode()
        practice.save(update_fields=["secrets_ct"])
        PracticeKey.objects.filter(pk__in=[k.pk for k in old_keys]).update(retired_at=timezone.now())
        practice._duktus_keyring = None
        practice._duktus_secrets = None
    return new_version


# --- Pseudonyms and blind index -------------------------------------------------------------------
_B32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: readable on the phone


def pseudonym(practice: Any, patient_code: Any) -> str:
    """Internal pseudonym: HMAC-SHA256(patient id) under the practice secret, shown as K7Q2-9XDM."""
    key = bytes.fromhex(_practice_secrets(practice)["pseudonym"])
    digest = hmac.new(key, str(patient_code).encode(), hashlib.sha256).digest()
    num = int.from_bytes(digest[:5], "big")
    chars = "".join(_B32[(num >> (5 * i)) & 31] for i in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_name_token(token: str) -> list[str]:
    """Normalized forms of one name token: umlauts folded (ü→u) and expanded (ü→ue)."""
    t = token.casefold().strip()
    expanded = t.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    forms = []
    for form in (t, expanded):
        folded = "".join(c for c in unicodedata.normalize("NFKD", form) if not unicodedata.combining(c))
        folded = "".join(c for c in folded if c.isalnum())
        if folded and folded not in forms:
            forms.append(folded)
    return forms


def _tokens(text: str) -> list[str]:
    return [t for t in "".join(c if c.isalnum() else " " for c in text).split() if t]


def _bi_hash(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


MIN_PREFIX = 2


def blind_index_terms(practice: Any, *names: str) -> list[str]:
    """Keyed HMACs of every normalized name token and each of its prefixes (≥ 2 characters)."""
    key = bytes.fromhex(_practice_secrets(practice)["blind_index"])
    terms: set[str] = set()
    for name in names:
        for token in _tokens(name or ""):
            for form in normalize_name_token(token):
                for n in range(MIN_PREFIX, len(form) + 1):
                    terms.add(_bi_hash(key, form[:n]))
    return sorted(terms)


def blind_index_query(practice: Any, query: str) -> list[str]:
    """One HMAC per query token (its folded form); all must match (AND)."""
    key = bytes.fromhex(_practice_secrets(practice)["blind_index"])
    out = []
    for token in _tokens(query):
        form = normalize_name_token(token)[0]
        if len(form) >= MIN_PREFIX:
            out.append(_bi_hash(key, form))
    return out


# --- Encrypted model fields ----------------------------------------------------------------------
class _CiphertextAttribute(DeferredAttribute):
    """Descriptor for the raw ciphertext column: setting it (load, refresh) drops the plaintext cache."""

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value
        plain = instance.__dict__.get("_duktus_plain")
        if plain:
            plain.pop(self.field.name, None)


class _PlaintextDescriptor:
    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        plain = instance.__dict__.setdefault("_duktus_plain", {})
        name = self.field.name
        if name not in plain:
            token = getattr(instance, self.field.attname)
            plain[name] = None if token is None else self.field.decrypt_token(
                instance.encryption_fernet(), token, type(instance).__name__)
        return plain[name]

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__.setdefault("_duktus_plain", {})[self.field.name] = value
        instance.__dict__.setdefault("_duktus_dirty", set()).add(self.field.name)


class EncryptedField(models.TextField):
    """A field whose column holds a Fernet token under the owning row's data key.

    The model provides ``encryption_fernet()``. The attribute ``<name>`` is the plaintext,
    ``<name>_ct`` the ciphertext column. Lookups on the plaintext are impossible by design.
    """

    descriptor_class = _CiphertextAttribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs["editable"] = False  # never in ModelForms/admin: forms copy plaintext explicitly
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def get_attname(self) -> str:
        return f"{self.name}_ct"

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, name, _PlaintextDescriptor(self))

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, raw: str) -> Any:
        return raw

    def decrypt_token(self, fernet: Fernet, token: str, owner: str) -> Any:
        """The value of one of this field's column tokens (the one decryption path for fields)."""
        try:
            raw = fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionError(f"{owner}.{self.name} cannot be decrypted") from exc
        return self.from_text(raw)

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        dirty = model_instance.__dict__.get("_duktus_dirty", set())
        if self.name in dirty:
            value = model_instance.__dict__["_duktus_plain"][self.name]
            token = None if value is None else model_instance.encryption_fernet().encrypt(self.to_text(value).encode()).decode()
            model_instance.__dict__[self.attname] = token
            dirty.discard(self.name)
        return getattr(model_instance, self.attname)

    def value_from_object(self, obj: Any) -> Any:
        return getattr(obj, self.name)


class EncryptedTextField(EncryptedField):
    pass


# Types for django-stubs (the model attribute is the plaintext, not the text column). Text
# fields keep TextField's `str`; dates and JSON say what they hold. The ignores are how
# django-stubs itself narrows these in subclasses (see its NullBooleanField).
class EncryptedDateField(EncryptedField):
    _pyi_private_set_type: dt.date | None  # type: ignore[assignment]
    _pyi_private_get_type: dt.date | None  # type: ignore[assignment]

    def to_text(self, value: Any) -> str:
        return value.isoformat()

    def from_text(self, raw: str) -> Any:
        return dt.date.fromisoformat(raw)


class EncryptedJSONField(EncryptedField):
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def to_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def from_text(self, raw: str) -> Any:
        return json.loads(raw)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
