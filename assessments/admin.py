"""No admin for questionnaire data: encrypted clinical values stay out of the admin."""

from __future__ import annotations
