"""Curated, paraphrased guideline evidence for the AI panel: data files, loader, FAISS search.

    from sessions.evidence import search
    hits = search("Welche Interventionen bei mittelgradiger Depression?", k=5, patient=patient)

Importing this package loads neither Django models nor FAISS; both load on the first search.
"""

from sessions.evidence.index import EvidenceHit, SearchResult, search, search_with_info

__all__ = ["EvidenceHit", "SearchResult", "search", "search_with_info"]
