"""The embedded backend: one SQLite file in WAL mode (readers see a snapshot while one writer writes).

Writers take the write lock with BEGIN IMMEDIATE; while another process holds it they wait (busy
timeout) and retry up to a deadline, then report a LedgerError - never an uncaught "locked".
A new ledger file is built under a temporary name and linked into place, so a ledger file of 0
bytes or without the ledger's tables is never "new": it is reported as damaged.
"""
from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

from .base import LedgerCore, LedgerDamaged, LedgerError, LedgerMissing, LedgerUnavailable, retrying


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict:
    return dict(zip([c[0] for c in cursor.description], row))


def _busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


class SQLiteLedger(LedgerCore):
    backend = "sqlite"

    def _connect(self, create: bool) -> None:
        self.path = Path(self.target)
        self._fresh = False
        if not self.path.exists():
            if not create:
                raise LedgerMissing(f"ledger: {self.where} does not exist")
            self._create_file()
        if self.path.is_dir():
            raise LedgerError(f"ledger: {self.where} is a directory, not a ledger file")
        if self.path.stat().st_size == 0:
            raise LedgerDamaged(f"ledger: {self.where} is empty (0 bytes): it was truncated, or is not a ledger; "
                                "remove it to start a new ledger")
        self.db = self._open(self.path)

    def _open(self, path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None, timeout=10,
                                 check_same_thread=False)
            db.row_factory = _dict_row
            db.execute(f"PRAGMA busy_timeout = {int(min(self.busy_seconds, 5.0) * 1000)}")
            # a batch group writes a few MB before it commits: a cache that holds them spares writing
            # pages to the WAL twice (the default 2 MB spills them mid-transaction)
            try:
                db.execute("PRAGMA cache_size = -16384")
            except sqlite3.DatabaseError:  # it reads the file: a damaged one is reported by the first query
                pass
        except sqlite3.Error as exc:
            raise LedgerError(f"ledger: cannot open {path}: {exc}") from None
        return db

    def _create_file(self) -> None:
        """Build the schema in a temporary file, then link it into place (another process that got
        there first wins; its ledger is used)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
        try:
            # owner-only: the ledger holds personal data and token hashes; SQLite gives its -wal and
            # -shm the database file's mode
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self.db = sqlite3.connect(str(tmp), isolation_level=None)
            self.db.row_factory = _dict_row
            self.db.execute("PRAGMA journal_mode = WAL")
            self._fresh = True
            self._open_schema()
            self._fresh = False
            self.db.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass
        finally:
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(str(tmp) + suffix)
                except FileNotFoundError:
                    pass

    def _may_create_schema(self) -> bool:
        return self._fresh

    def _run(self, sql: str, params: tuple | list = ()):
        try:
            return self.db.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise
            raise LedgerUnavailable(f"ledger: {self.where}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise LedgerDamaged(f"ledger: {self.where} cannot be read ({exc}): it is damaged or not a ledger") from None

    def _run_many(self, sql: str, rows: list) -> None:
        try:
            self.db.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise LedgerUnavailable(f"ledger: {self.where}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise LedgerDamaged(f"ledger: {self.where} cannot be written ({exc}): it is damaged or not a ledger") from None

    def _tables(self) -> set[str]:
        return {r["name"] for r in self._execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}

    def _begin_write(self) -> None:
        retrying(lambda: self._execute("BEGIN IMMEDIATE"), _busy, self.where, self.busy_seconds)

    def _commit(self) -> None:
        retrying(lambda: self._execute("COMMIT"), _busy, self.where, self.busy_seconds)

    def _begin_read(self) -> None:
        self._execute("BEGIN")

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()
            self.db = None
