"""The one way to an LLM (ARCHITECTURE.md). Import `duktus.llm.gateway` where needed: it imports
`openai` lazily, so this package stays cheap to import."""
