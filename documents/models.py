from __future__ import annotations

# Models arrive with the issue that builds this app.
