from __future__ import annotations

from django.test import SimpleTestCase

from duktus.privacy import registry


def _forget_test_models(*names: str) -> None:
    from django.apps import apps

    for name in names:
        apps.all_models["duktus"].pop(name, None)
    apps.clear_cache()


class RegistryCompletenessTestCase(SimpleTestCase):
    """Every model that reaches Patient through a FK chain needs an exporter and an eraser.
    This guards apps added later: add `<app>/privacy.py` with register(...) calls."""

    def test_it_covers_every_patient_model(self) -> None:
        labels = [m._meta.label for m in registry.patient_models()]
        for expected in ("patients.Patient", "patients.Diagnosis", "duktus.AuditEntry", "duktus.LLMCall",
                         "duktus.ExportJob", "duktus.PatientRestriction", "duktus.ErasureCertificate"):
            self.assertIn(expected, labels)
        missing = registry.uncovered_models()
        self.assertEqual(missing, [], "Kein Exporter/Eraser registriert für: " + ", ".join(missing)
                         + " – in <app>/privacy.py mit duktus.privacy.registry.register(...) eintragen.")

    def test_exemptions_are_documented(self) -> None:
        for label, reason in registry.exempt_labels().items():
            self.assertGreater(len(reason), 20, label)
            self.assertNotIn(label, registry.registered_labels())

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

        self.addCleanup(_forget_test_models, "child")
        self.assertTrue(registry._reaches_patient(Child))

    def test_it_finds_many_to_many_and_plain_references(self) -> None:
        from django.db import models

        from patients.models import Patient

        class Group(models.Model):
            members = models.ManyToManyField(Patient, related_name="+")

            class Meta:
                app_label = "duktus"

        class Ticket(models.Model):
            patient_ref = models.BigIntegerField()

            class Meta:
                app_label = "duktus"

        class Unrelated(models.Model):
            title = models.CharField(max_length=10)

            class Meta:
                app_label = "duktus"

        self.addCleanup(_forget_test_models, "group", "ticket", "unrelated", "group_members")
        self.assertTrue(registry._reaches_patient(Group))
        self.assertTrue(registry._names_patient(Ticket))
        self.assertFalse(registry._reaches_patient(Unrelated) or registry._names_patient(Unrelated))
        self.assertTrue(registry._reaches_patient(Group.members.through))

    def test_unknown_category_is_rejected(self) -> None:
        from patients.models import Patient

        with self.assertRaises(ValueError):
            registry.register(Patient, key="x", title="x", exporter=lambda p: [], eraser=lambda p: 0, category="secret")
