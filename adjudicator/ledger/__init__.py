"""The claims ledger: stores decisions (never makes one) and their handling, hash chain, verify, anchors, accounts; SQLite or PostgreSQL. May import: policy, contract."""
# `Ledger(path_or_url)` opens one: a SQLite file path (sqlite.py) or a postgresql:// URL (postgres.py);
# both share one schema, one hash chain and one interface (base.py); chain.py hashes and anchors.
import os

from .base import (ROLES, LedgerCore, LedgerDamaged, LedgerError, LedgerForbidden, LedgerMissing, LedgerUnavailable, Record,
                   default_target, is_url, normalise_policy_number)


class Ledger(LedgerCore):
    """`Ledger(path_or_url, create=True)`: the SQLite or PostgreSQL backend for the target (a
    postgresql:// URL selects PostgreSQL; None: $ADJUDICATOR_LEDGER or the user data dir). shown_as names
    it in messages instead of its path or URL (the service: a client never learns the server's paths)."""

    def __new__(cls, target: str | os.PathLike | None = None, *, create: bool = True, shown_as: str | None = None):
        target = default_target() if target in (None, "") else str(target)
        if is_url(target):
            from .postgres import PostgresLedger
            return PostgresLedger(target, create=create, shown_as=shown_as)
        from .sqlite import SQLiteLedger
        return SQLiteLedger(target, create=create, shown_as=shown_as)


__all__ = ["Ledger", "LedgerCore", "LedgerError", "LedgerForbidden", "LedgerMissing", "LedgerDamaged", "LedgerUnavailable", "Record",
           "ROLES", "default_target", "normalise_policy_number"]
