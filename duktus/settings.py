"""duktus settings: one file, strict environment helpers (see README "Configuration").

DUKTUS_ENV selects the mode:
- "local" (default): embedded PostgreSQL + Redis in var/, keys generated in var/keys/ on first run.
- "production": every secret and service comes from the environment; missing ones fail loudly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, overload
from urllib.parse import unquote, urlparse

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...
def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name} must be True or False")
    return value == "True"


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer") from exc


def envsecret(name: str) -> str | None:
    """Read NAME_FILE first (docker/k8s secrets), then NAME. A named file that is missing fails."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points to an unreadable file") from exc
    return os.environ.get(name)


DUKTUS_ENV = env("DUKTUS_ENV", "local")
if DUKTUS_ENV not in ("local", "production"):
    raise ImproperlyConfigured("DUKTUS_ENV must be local or production")
PRODUCTION = DUKTUS_ENV == "production"
DEBUG = envbool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be False in production")

VAR_DIR = Path(env("DUKTUS_VAR_DIR", str(BASE_DIR / "var")))
KEY_DIR = VAR_DIR / "keys"


def _local_secret_file(name: str, make: Callable[[], str]) -> str:
    """Local mode only: a secret generated once into var/keys/ with mode 0600."""
    KEY_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = KEY_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(make())
    return path.read_text().strip()


# --- Core -------------------------------------------------------------------------------------
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    SECRET_KEY = _local_secret_file("django_secret_key", lambda: secrets.token_urlsafe(50))

ALLOWED_HOSTS = [h for h in (env("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost") or "").split(",") if h]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = [o for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "duktus",
    "patients",
    "assessments",
    "memory",
    "sessions.apps.TherapySessionsConfig",
    "documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "duktus.tenancy.TenantMiddleware",
    "duktus.security.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "duktus.urls"
WSGI_APPLICATION = "duktus.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "duktus.tenancy.tenant_context",
            ],
        },
    },
]

# --- Database: PostgreSQL + pgvector only ------------------------------------------------------
DATABASE_URL = envsecret("DATABASE_URL")
if DATABASE_URL:
    _db = urlparse(DATABASE_URL)
    if _db.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(_db.path.lstrip("/")),
            "USER": unquote(_db.username or ""),
            "PASSWORD": unquote(_db.password or ""),
            "HOST": unquote(_db.hostname or ""),
            "PORT": str(_db.port or ""),
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
        }
    }
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required in production")
else:
    from duktus.embedded import DB_NAME, ensure_postgres

    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            # DUKTUS_DB_NAME lets an integration test point a real worker at the test database.
            "NAME": env("DUKTUS_DB_NAME", DB_NAME),
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": ensure_postgres(VAR_DIR),
            "CONN_MAX_AGE": 0,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Keys (duktus/crypto.py is the only reader) -------------------------------------------------
# DUKTUS_MASTER_KEY: "key" or "3:keyC,2:keyB" (first = primary). Otherwise a JSON key file.
DUKTUS_MASTER_KEY = envsecret("DUKTUS_MASTER_KEY")
DUKTUS_MASTER_KEY_FILE = Path(env("DUKTUS_MASTER_KEY_PATH", str(KEY_DIR / "master_keys.json")))
if PRODUCTION and not DUKTUS_MASTER_KEY and "DUKTUS_MASTER_KEY_PATH" not in os.environ:
    raise ImproperlyConfigured("DUKTUS_MASTER_KEY or DUKTUS_MASTER_KEY_PATH is required in production")

# --- Auth (allauth, mandatory TOTP for clinicians) ---------------------------------------------
AUTH_USER_MODEL = "auth.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ALLOW_SIGNUPS = envbool("ACCOUNT_ALLOW_SIGNUPS", False)
ACCOUNT_ADAPTER = "duktus.auth.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "login": "30/m/ip"}
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "duktus.auth.MFAAdapter"
MFA_TOTP_ISSUER = "duktus"
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions expire after inactivity (every request refreshes the expiry).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Cache (rate-limit counters only: logins, patient links; never patient data) ----------------
# The counters must be shared by every web process, or each process counts on its own and the
# limits multiply. Local runs have one web process, so the in-process cache is correct there.
CACHE_URL = envsecret("CACHE_URL")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "duktus"}}
elif PRODUCTION:
    raise ImproperlyConfigured("CACHE_URL (Redis) is required in production: rate limits must span all web processes")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery (LLM calls, memory extraction, retention jobs) -------------------------------------
CELERY_BROKER_URL = envsecret("CELERY_BROKER_URL")
if not CELERY_BROKER_URL:
    if PRODUCTION:
        raise ImproperlyConfigured("CELERY_BROKER_URL is required in production")
    CELERY_BROKER_URL = f"redis+socket://{VAR_DIR / 'redis' / 'redis.sock'}"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Patients' rights (duktus/privacy) ---
# Retention in years after the end of treatment (§ 630f Abs. 3 BGB); never below 10.
PRIVACY_RETENTION_YEARS = max(envint("PRIVACY_RETENTION_YEARS", 10), 10)
# How long backups are kept: old master key versions are destroyed after this window.
PRIVACY_BACKUP_WINDOW_DAYS = envint("PRIVACY_BACKUP_WINDOW_DAYS", 30)
# Threads for CPU-bound export attachments (documents' PDF layout); 1 = one after the other.
PRIVACY_EXPORT_THREADS = envint("PRIVACY_EXPORT_THREADS", 2)
# Uploads in progress (above FILE_UPLOAD_MAX_MEMORY_SIZE) land here instead of /tmp, so the daily
# retention job can delete what an aborted request left behind after 24 hours.
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE = {
    # Daily at 03:15 (TIME_ZONE): expired records, audit entries, temp files, due key destructions.
    "privacy-retention-daily": {"task": "privacy.retention_run", "schedule": crontab(hour=3, minute=15)},
    "privacy-destroy-keys-hourly": {"task": "privacy.destroy_due_keys", "schedule": crontab(minute=45)},
}

# --- E-mail --------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if not PRODUCTION else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "duktus <noreply@localhost>")

# --- i18n, static --------------------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch")]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "static_collected"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))

# --- Logging: never decrypted values (see README "Privacy rules") ---------------------------------
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}, "django.db.backends": {"level": "INFO"}},
}

# --- duktus ----------------------------------------------------------------------------------------
AUDIT_LOG_RETENTION_DAYS = envint("AUDIT_LOG_RETENTION_DAYS", 3650)

# --- LLM (duktus/llm gateway; the only place that talks to a model) --------------------------------
# Default provider: IONOS AI Model Hub (OpenAI-compatible, hosted in Germany). Without an API key no
# model is configured and every call is refused (gateway.is_configured() is False).
LLM_BASE_URL = env("LLM_BASE_URL", "https://openai.inference.de-txl.ionos.com/v1")
LLM_API_KEY = envsecret("LLM_API_KEY") or ""
LLM_MODEL_DIALOG = env("LLM_MODEL_DIALOG", "meta-llama/Llama-3.3-70B-Instruct")
LLM_MODEL_DIAGNOSTICS = env("LLM_MODEL_DIAGNOSTICS", "meta-llama/Llama-3.3-70B-Instruct")
LLM_MODEL_DOCUMENTATION = env("LLM_MODEL_DOCUMENTATION", "meta-llama/Llama-3.3-70B-Instruct")
LLM_MODEL_EMBED = env("LLM_MODEL_EMBED", "BAAI/bge-m3")
LLM_TEMPERATURE_DIALOG = float(env("LLM_TEMPERATURE_DIALOG", "0.3") or 0.3)
LLM_TEMPERATURE_DIAGNOSTICS = float(env("LLM_TEMPERATURE_DIAGNOSTICS", "0.1") or 0.1)
LLM_TEMPERATURE_DOCUMENTATION = float(env("LLM_TEMPERATURE_DOCUMENTATION", "0.2") or 0.2)
LLM_TIMEOUT_SECONDS = float(envint("LLM_TIMEOUT_SECONDS", 30))
LLM_MAX_RETRIES = envint("LLM_MAX_RETRIES", 2)
# The openai client logs request bodies (anonymized, but still clinical text) at DEBUG: never.
LOGGING["loggers"].update({"openai": {"level": "WARNING"}, "httpx": {"level": "WARNING"}})
