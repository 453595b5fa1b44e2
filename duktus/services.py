from __future__ import annotations

from typing import Any

from django.db import transaction

from duktus import crypto
from duktus.models import Membership, Practice


def create_practice(*, name: str, **fields: Any) -> Practice:
    """A practice with its first key version and its secrets."""
    with transaction.atomic():
        practice = Practice(name=name, **fields)
        crypto.create_practice_keys(practice)
        practice.save()
        crypto.save_new_practice_key(practice)
    return practice


def add_member(*, practice: Practice, user: Any, role: str, display_name: str = "") -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, practice=practice, defaults={"role": role, "display_name": display_name}
    )
    return membership
