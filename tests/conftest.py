from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _celery_eager(settings):  # type: ignore[no-untyped-def]
    """Tasks run eagerly with exceptions propagating, except in tests marked `worker`."""
    from duktus.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    # allauth keeps used TOTP codes and rate-limit counters in the cache.
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):  # type: ignore[no-untyped-def]
    # PBKDF2 at production strength costs ~0.3 s per user; tests create several per case.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
