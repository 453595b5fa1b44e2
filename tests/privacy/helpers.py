from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.test import override_settings

from duktus import crypto


class IsolatedFilesMixin:
    """Own key file and VAR_DIR per test: key destruction and export files cannot leak."""

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        tmp = Path(self._tmp.name)
        self._override = override_settings(DUKTUS_MASTER_KEY_FILE=tmp / "master_keys.json", VAR_DIR=tmp)
        self._override.enable()
        crypto.reset_caches()
        self.addCleanup(self._restore)  # type: ignore[attr-defined]
        super().setUp()  # type: ignore[misc]

    def _restore(self) -> None:
        self._override.disable()
        crypto.reset_caches()
        self._tmp.cleanup()


def reload(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)
