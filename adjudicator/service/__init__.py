"""The decision service: the HTTP API (FastAPI), accounts and roles, desk pages. May import: runs, documents, ledger, decide and below; only the cli imports it."""
