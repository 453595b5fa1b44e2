from __future__ import annotations

from django.test import SimpleTestCase

from duktus.privacy import registry


class RegistryCompletenessTestCase(SimpleTestCase):
    """Every model that reaches Patient through a FK chain needs an exporter and an eraser.
    This guards apps added later: add `<app>/privacy.py` with register(...) calls."""

    def test_it_covers_every_patient_model(self) -> None:
        covered = registry.registered_labels()
        models = registry.patient_models()
        self.assertIn("patients.Patient", [m._meta.label for m in models])
        missing = [m._meta.label for m in models if m._meta.label not in covered]
        self.assertEqual(missing, [], "Kein Exporter/Eraser registriert für: " + ", ".join(missing))

    def test_every_part_has_exporter_and_eraser(self) -> None:
        for part in registry.parts():
            self.assertTrue(callable(part.exporter), part.key)
            self.assertTrue(callable(part.eraser), part.key)

    def test_it_finds_indirect_references(self) -> None:
        from django.db import models

        from patients.models import Diagnosis

        class Child(models.Model):
            diagnosis = models.ForeignKey(Diagnosis, on_delete=models.CASCADE)

            class Meta:
                app_label = "duktus"

        self.assertTrue(registry._reaches_patient(Child))
