from __future__ import annotations

from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """pgvector for memory and evidence embeddings (later issues). The embedded server has it;
    on a managed PostgreSQL the extension must be allowed."""

    dependencies = [("duktus", "0001_initial")]
    operations = [VectorExtension()]
