"""Runs over many claims or records: batch, diff, replay. May import: documents, ledger, decide and below."""
