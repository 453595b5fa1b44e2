"""The anonymizer is framework-free: its tests need neither Django nor a database.

The project-wide autouse fixtures in tests/conftest.py use pytest-django's
`settings` fixture; they are overridden here with no-ops so these tests also
run with `-p no:django`.
"""

from __future__ import annotations

import contextlib

import pytest

from anonymizer import Anonymizer


def pytest_addoption(parser: pytest.Parser) -> None:
    # pytest.ini passes --reuse-db (a pytest-django option); with `-p no:django`
    # nobody registers it, so accept it here.
    with contextlib.suppress(ValueError):  # pytest-django is active and owns the option
        parser.addoption("--reuse-db", action="store_true", default=False)


@pytest.fixture(autouse=True)
def _celery_eager():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(autouse=True)
def _fast_password_hasher():  # type: ignore[no-untyped-def]
    yield


@pytest.fixture(scope="session")
def anon() -> Anonymizer:
    return Anonymizer(level="moderate")


@pytest.fixture(scope="session")
def anon_minimal() -> Anonymizer:
    return Anonymizer(level="minimal")


@pytest.fixture(scope="session")
def anon_thorough() -> Anonymizer:
    return Anonymizer(level="thorough")
