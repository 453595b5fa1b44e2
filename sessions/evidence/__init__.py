"""Curated, paraphrased guideline evidence for the AI panel (data files + loader)."""
