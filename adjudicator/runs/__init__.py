"""Runs over many claims or records: batch, diff (and replay's comparison). May import: documents, ledger, decide and below."""
