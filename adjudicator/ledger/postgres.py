"""The team backend: PostgreSQL through psycopg 3 (`--ledger postgresql://...`).

The same schema and hash chain as SQLite. A writer locks the chain-head row (SELECT ... FOR UPDATE),
which serialises every recording across processes and servers: the aggregate read, the decision,
the record, the running totals and the new head are one transaction. Verify reads one
REPEATABLE READ snapshot.
"""
from __future__ import annotations

import contextlib

import re

import psycopg
from psycopg.rows import dict_row

from .base import _PUT_STATE_SQL, LedgerCore, LedgerError, LedgerMissing, LedgerUnavailable

_SCHEMA_LOCK = 0x6C656467  # pg_advisory_xact_lock key for creating the schema ("ledg")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PostgresLedger(LedgerCore):
    backend = "postgresql"
    int_type = "BIGINT"
    for_update = " FOR UPDATE"

    @property
    def where(self) -> str:
        return self.shown_as or _safe(self.target)

    def _connect(self, create: bool) -> None:
        self._create = create
        self._sql: dict[str, str] = {}
        try:
            self.db = psycopg.connect(self.target, autocommit=True, row_factory=dict_row, connect_timeout=10)
            self.db.execute(f"SET lock_timeout = '{int(self.busy_seconds * 1000)}ms'")
        except psycopg.OperationalError as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            if "does not exist" in msg:
                raise LedgerMissing(f"ledger: {self.where}: {msg}") from None
            raise LedgerError(f"ledger: cannot connect to {self.where}: {msg}") from None
        except psycopg.Error as exc:
            raise LedgerError(f"ledger: cannot connect to {self.where}: {exc}") from None

    def _may_create_schema(self) -> bool:
        return self._create

    def _q(self, sql: str) -> str:
        q = self._sql.get(sql)
        if q is None:
            q = self._sql[sql] = sql.replace("?", "%s")
        return q

    @contextlib.contextmanager
    def _errors(self):
        """A database error as the ledger's own (a lock not granted in time: busy, nothing recorded)."""
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise LedgerUnavailable(f"ledger: {self.where} stayed busy for {self.busy_seconds:.0f} s (another writer "
                              "holds the lock); nothing was recorded, try again") from None
        except psycopg.Error as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise LedgerUnavailable(f"ledger: {self.where}: {text}") from None

    def _run(self, sql: str, params: tuple | list = ()):
        with self._errors():
            return self.db.execute(self._q(sql), params)

    def _run_many(self, sql: str, rows: list) -> None:
        """executemany: psycopg sends the rows in one pipeline (no round trip per row)."""
        with self._errors(), self.db.cursor() as cur:
            cur.executemany(self._q(sql), rows)

    def _tables(self) -> set[str]:
        return {r["table_name"] for r in self._execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}

    def _begin_write(self) -> None:
        self._execute("BEGIN")

    def _lock_schema(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))

    def _write_now(self, row: dict, deltas: list[tuple], state_row: list) -> None:
        """One statement (atomic by itself, one round trip): the record, the work list's row, the totals and
        the chain head."""
        cols = ", ".join(row)
        parts = [f"WITH ins AS (INSERT INTO records ({cols}) VALUES ({', '.join('?' * len(row))}))"]
        params = list(row.values())
        parts.append(", st AS (" + _PUT_STATE_SQL + ")")
        params += state_row
        parts.append(", ch AS (UPDATE chain SET head = ?, count = ? WHERE id = 1)")
        params += [row["hash"], row["seq"]]
        if deltas:
            parts.append(" INSERT INTO totals (policy_key, programme, period_start, pool, paid) VALUES "
                         + ", ".join(["(?, ?, ?, ?, ?)"] * len(deltas))
                         + " ON CONFLICT (policy_key, programme, period_start, pool) DO UPDATE SET paid = totals.paid + excluded.paid")
            for d in deltas:
                params += list(d)
        else:
            parts.append(" SELECT 1")
        self._run("".join(parts), params)

    def _commit(self) -> None:
        if self.db.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            self._rollback()
            raise LedgerUnavailable(f"ledger: {self.where}: the transaction failed and was rolled back; "
                                    "nothing of it was recorded")
        self._execute("COMMIT")

    def _begin_read(self) -> None:
        self._execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()
            self.db = None
