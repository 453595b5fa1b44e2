from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sessions.evidence import index


class Command(BaseCommand):
    help = (
        "Baut den FAISS-Index der Leitlinien-Evidenz neu auf: mit dem konfigurierten Embedding-Modell "
        "(über das LLM-Gateway) und immer auch den lexikalischen Offline-Index (Rückfallebene). "
        "Sonst geschieht das automatisch bei der ersten Suche nach einer Änderung der Daten oder des Modells."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--offline-only", action="store_true",
                            help="Nur den Offline-Index bauen (sendet nichts an einen Anbieter).")

    def handle(self, *args: Any, **options: Any) -> None:
        from duktus.llm import gateway

        embedders = [index.offline_embedder]
        if gateway.is_configured() and not options["offline_only"]:
            embedders.append(index.gateway_embedder)
        for embedder in embedders:
            started = time.perf_counter()
            try:
                built = index.rebuild(embedder)
            except gateway.GatewayError as exc:
                raise CommandError(f"Embedding-Modell: {exc}") from None
            seconds = time.perf_counter() - started
            self.stdout.write(self.style.SUCCESS(
                f"{len(built.ids)} Einträge indexiert, Backend {built.backend}, {built.dims} Dimensionen, "
                f"{seconds:.1f} s → {index.index_path(built.backend)}"))
