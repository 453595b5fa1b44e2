"""Restoring a backup after an erasure (the documented procedure).

Erasure destroys the patient's DataKey and rotates the practice key; the previous master-key
versions are destroyed after the backup window (erasure.destroy_due_keys). A database dump taken
before the erasure therefore holds practice keys wrapped under master versions that no longer
exist: on its own it opens nothing. The restore procedure brings the key rows from the running
system into the restored database: practice keys, the patients' data keys and the practice
secrets. Data keys the running system no longer has (erased patients) are deleted from the
restored copy, so an erased patient stays unreadable while everybody else opens normally.

    manage.py restore_keys --database-name <restored database>
"""

from __future__ import annotations

from typing import Any

from django.db import connections, transaction

from duktus.models import DataKey, Practice, PracticeKey


def add_database_alias(name: str, alias: str = "restored") -> str:
    """Make a database on the same server reachable as `alias` (for the restore command)."""
    connections.databases[alias] = {**connections.databases["default"], "NAME": name}
    return alias


def apply_live_keys(alias: str) -> dict[str, int]:
    """Copy the live key rows (default database) into the restored database `alias`."""
    live_practice_keys = list(PracticeKey.objects.using("default").order_by("id"))
    live_data_keys = {dk.pk: dk for dk in DataKey.objects.using("default")}
    counts = {"practice_keys": 0, "data_keys_updated": 0, "data_keys_shredded": 0, "practices": 0}
    with transaction.atomic(using=alias):
        PracticeKey.objects.using(alias).all().delete()
        for key in live_practice_keys:
            key._state.db = alias
            key._state.adding = True
            PracticeKey.objects.using(alias).bulk_create([key])
            counts["practice_keys"] += 1
        for practice in Practice.objects.using("default"):
            counts["practices"] += Practice.objects.using(alias).filter(pk=practice.pk).update(secrets_ct=practice.secrets_ct)
        for restored in DataKey.objects.using(alias).order_by("id"):
            live = live_data_keys.get(restored.pk)
            if live is None:
                # Erased after the backup (or never live): crypto-shred the copy too.
                _shred(alias, restored)
                counts["data_keys_shredded"] += 1
            else:
                DataKey.objects.using(alias).filter(pk=restored.pk).update(
                    wrapped=live.wrapped, practice_key_version=live.practice_key_version)
                counts["data_keys_updated"] += 1
    return counts


def _shred(alias: str, data_key: Any) -> None:
    from patients.models import Patient

    Patient.objects.using(alias).filter(data_key_id=data_key.pk).update(data_key=None, name_index=[])
    DataKey.objects.using(alias).filter(pk=data_key.pk).delete()
