"""The ledger interface and everything both backends share: schema, recording, aggregates, verify,
queries, accounts. A backend (sqlite.py, postgres.py) only connects, runs SQL and takes locks.

Each record holds the claim as given, the claim as adjudicated (with the prior payments used),
the decision (trace included), what it paid per prior-payments key, the rulebook version and
sha256, the engine version and who recorded it, hashed together with the previous record's hash
(chain.py). Running totals per policy, programme, period and prior-payments key live in `totals`
and change in the same transaction as the record, so recording costs the same at 100 or 100,000
earlier records. Only the latest record of a claim id counts toward the totals.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from ..contract.claim import Claim, PriorPayments
from ..contract.text import claim_id_form, policy_number_form, quote
from ..policy.catalogue import Catalogue
from . import chain, handling
from .chain import GENESIS, record_hash

SCHEMA_VERSION = 4  # 4: users.session_gen (desk sessions end at logout)
ROLES = ("handler", "underwriter", "auditor", "admin")
POOL_KEYS = tuple(PriorPayments.model_fields)
MAX_SEQ = 2 ** 63 - 1  # a sequence number is a signed 64-bit integer on both backends


# payment_status() in SQL, one predicate per status over claim_state's columns ({t}: the table's prefix):
# a search by status finds exactly the rows that show that status (tests/test_payment_status_sql.py).
PAYMENT_STATUSES = ("needs_information", "unpaid", "paid", "nothing_payable")
_PAYMENT_STATUS_SQL = {
    "needs_information": "{t}needs > 0",
    "paid": "({t}needs = 0 AND {t}paid_on IS NOT NULL)",
    "unpaid": "({t}needs = 0 AND {t}paid_on IS NULL AND {t}total_payable > 0)",  # a refusal is not unpaid
    "nothing_payable": "({t}needs = 0 AND {t}paid_on IS NULL AND {t}total_payable <= 0)",
}


class LedgerError(RuntimeError):
    """A ledger problem to report to the user; str() is 'field: message' where a field applies."""


class LedgerForbidden(LedgerError):
    """The account may not take this step (the second review by the account that recorded the decision)."""


class LedgerMissing(LedgerError):
    """The ledger named does not exist (and the command does not record)."""


class LedgerDamaged(LedgerError):
    """The ledger exists but is not whole: a table missing, the file emptied."""


class LedgerUnavailable(LedgerError):
    """The database failed or stayed busy: not a problem of one claim. The transaction (a whole
    batch group) is rolled back; nothing of it is recorded."""


def default_target() -> str:
    """$ADJUDICATOR_LEDGER, else $XDG_DATA_HOME/adjudicator/ledger.sqlite (~/.local/share/...)."""
    env = os.environ.get("ADJUDICATOR_LEDGER")
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "adjudicator" / "ledger.sqlite")


def is_url(target: str) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


_SPACE = re.compile(r"\s+")


def normalise_policy_number(value: str | None) -> str | None:
    """The form aggregates are kept under: NFKC (full-width -> ASCII), dash look-alikes -> '-',
    surrounding space stripped, inner runs of space -> one space, upper case. None when empty.
    Choice (claims manager): 'fk-conc', ' FK-CONC ' and 'ＦＫ－ＣＯＮＣ' are one policy."""
    if value is None:
        return None
    text = _SPACE.sub(" ", policy_number_form(value)).strip().upper()
    return text or None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def input_json(claim_input: dict) -> str:
    """The claim as given, canonical (the same input gives the same text: resume compares it)."""
    try:
        return orjson.dumps(claim_input, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(claim_input, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _compact(value) -> str:
    """Compact JSON, non-ASCII as is (the bytes of json.dumps(ensure_ascii=False, separators=(",", ":")))."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keeps_aggregates(catalogue: Catalogue, programme_id: str) -> bool:
    prog = catalogue[programme_id]
    return any(p.get("prior_payments") for p in prog.data.get("pools", {}).values()) or \
        any(c.get("prior_payments") for c in prog.data.get("combined_caps", []))


def paid_by_key(decision: dict, catalogue: Catalogue) -> dict[str, int]:
    """What a decision paid per prior-payments key (liability, costs, brand_protect, lost_profit)."""
    programme = catalogue[decision["programme"]]
    paid: dict[str, int] = {}
    for cov, entry in decision["coverages"].items():
        key = programme.coverages.get(cov, {}).get("prior_payments_key")
        if key and entry["payable"]:
            paid[key] = paid.get(key, 0) + entry["payable"]
    return dict(sorted(paid.items()))


@dataclass
class Record:
    seq: int
    claim_id: str
    input: dict
    effective: dict
    decision: dict
    row: dict
    verified: bool = True      # the record's own hash matches its fields
    problem: str | None = None  # why not


def _schema(int_type: str) -> list[str]:
    return [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE records (
            seq {int_type} PRIMARY KEY, format INTEGER NOT NULL, claim_id TEXT NOT NULL,
            policy_number TEXT, policy_key TEXT, programme TEXT NOT NULL, period_start TEXT NOT NULL,
            recorded_at TEXT NOT NULL, recorded_by TEXT, supersedes {int_type}, input_json TEXT NOT NULL,
            effective_json TEXT NOT NULL, decision_json TEXT NOT NULL, paid_json TEXT,
            rulebook_version TEXT NOT NULL, rulebook_sha256 TEXT NOT NULL, engine_version TEXT NOT NULL,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL, kind TEXT, event_json TEXT)""",
        "CREATE INDEX records_claim ON records(claim_id, seq)",
        "CREATE INDEX records_policy ON records(policy_key, programme, period_start)",
        f"CREATE TABLE chain (id INTEGER PRIMARY KEY CHECK (id = 1), head TEXT NOT NULL, count {int_type} NOT NULL)",
        f"""CREATE TABLE totals (policy_key TEXT NOT NULL, programme TEXT NOT NULL, period_start TEXT NOT NULL,
            pool TEXT NOT NULL, paid {int_type} NOT NULL, PRIMARY KEY (policy_key, programme, period_start, pool))""",
        """CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE,
            disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, session_gen INTEGER NOT NULL DEFAULT 0)""",
        *_STATE_SCHEMA(int_type),
    ]


def _STATE_SCHEMA(int_type: str) -> list[str]:
    """The work list's side table (schema 3): one row per claim id, the handling state of its latest
    record (handling.py), written in the same transaction as every record; verify checks it."""
    return [
        f"""CREATE TABLE claim_state (claim_id TEXT PRIMARY KEY, seq {int_type} NOT NULL, decision_seq {int_type} NOT NULL,
            handler TEXT, policy_key TEXT, programme TEXT NOT NULL, recorded_at TEXT NOT NULL,
            total_payable {int_type} NOT NULL, needs INTEGER NOT NULL, review TEXT NOT NULL, completed_on TEXT,
            due_on TEXT, paid_on TEXT, unclaimed INTEGER NOT NULL DEFAULT 0, state_json TEXT NOT NULL)""",
        "CREATE INDEX claim_state_open ON claim_state(paid_on, due_on)",
        "CREATE INDEX claim_state_handler ON claim_state(handler)",
        "CREATE UNIQUE INDEX claim_state_seq ON claim_state(seq)",
        _CASE_INDEX,
    ]


# claim ids that differ only in letter case are one claim: the duplicate check looks them up by lower()
_CASE_INDEX = "CREATE INDEX IF NOT EXISTS claim_state_id_case ON claim_state(lower(claim_id))"


STATE_COLUMNS = ("claim_id", "seq", "decision_seq", "handler", "policy_key", "programme", "recorded_at",
                 "total_payable", "needs", "review", "completed_on", "due_on", "paid_on", "unclaimed", "state_json")
_PUT_STATE_SQL = (f"INSERT INTO claim_state ({', '.join(STATE_COLUMNS)}) VALUES ({', '.join('?' * len(STATE_COLUMNS))}) "
                  "ON CONFLICT (claim_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in STATE_COLUMNS[1:]))
_ADD_TOTAL_SQL = ("INSERT INTO totals (policy_key, programme, period_start, pool, paid) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (policy_key, programme, period_start, pool) DO UPDATE SET paid = totals.paid + excluded.paid")
# The columns of a claim's latest record that recording its next one reads, with the work list's state.
_PREVIOUS_SQL = ("SELECT r.seq, r.policy_key, r.programme, r.period_start, r.paid_json, r.input_json, r.decision_json, "
                 "s.state_json FROM records r LEFT JOIN claim_state s ON s.claim_id = r.claim_id "
                 "WHERE r.claim_id = ? ORDER BY r.seq DESC LIMIT 1")


class _Pending:
    """A group's writes, held until the group commits (or a read needs them) and then written with one
    executemany per table; with what the group's later claims read of them: each claim id's latest
    record and the running totals it moved."""

    def __init__(self):
        self.rows: list[dict] = []                 # records, in chain order
        self.states: dict[str, list] = {}          # claim_id -> its claim_state row (the latest wins)
        self.deltas: dict[tuple, int] = {}         # (policy_key, programme, period, pool) -> yen not yet written
        self.latest: dict[str, dict] = {}          # claim_id -> _PREVIOUS_SQL's columns of its latest record
        self.totals: dict[tuple, dict] = {}        # (policy_key, programme, period) -> totals as written + deltas
        self.by_lower: dict[str, str] = {}         # claim_id.lower() -> claim_id (the case-twin check, one lookup)
TABLES = {"meta", "records", "chain", "totals", "users", "claim_state"}


class LedgerCore:
    """What both backends share; open a ledger with `adjudicator.ledger.Ledger(path_or_url)`.

    create=False (every command that only reads) makes a missing ledger an error instead of a new one.
    """
    backend = "?"
    busy_seconds = 120.0  # how long a writer waits for another one's write lock before giving up

    def __init__(self, target: str | os.PathLike | None = None, *, create: bool = True, shown_as: str | None = None):
        self.target = default_target() if target in (None, "") else str(target)
        self.shown_as = shown_as
        self._in_group, self._group_head = False, None
        self._pending: _Pending | None = None
        self.last_skipped: str | None = None
        self.last_decision_json: str | None = None
        self._auto_anchor: tuple[Path, bytes, int] | None = None
        self._connect(create)
        self._open_schema()

    # ----------------------------------------------------------------- backend
    def _connect(self, create: bool) -> None:
        raise NotImplementedError

    def _run(self, sql: str, params: tuple | list = ()):
        """Run one statement (the backend's own)."""
        raise NotImplementedError

    def _run_many(self, sql: str, rows: list) -> None:
        """Run one statement over many parameter rows (executemany)."""
        raise NotImplementedError

    def _execute(self, sql: str, params: tuple | list = ()):
        """Run one statement; inside a group, after the group's buffered writes (so any read sees them)."""
        if self._pending is not None and self._pending.rows:
            self._flush_pending()
        return self._run(sql, params)

    def _tables(self) -> set[str]:
        raise NotImplementedError

    def _begin_write(self) -> None:
        raise NotImplementedError

    def _begin_read(self) -> None:
        raise NotImplementedError

    def _may_create_schema(self) -> bool:
        """Whether an empty database may be given the schema (a new ledger)."""
        return False

    def _lock_schema(self) -> None:
        """Serialise schema creation and migration between processes (inside a write transaction)."""

    int_type = "INTEGER"
    for_update = ""

    def close(self) -> None:
        raise NotImplementedError

    @property
    def where(self) -> str:
        """The ledger as messages name it."""
        return self.shown_as or self.target

    def __enter__(self) -> "LedgerCore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _one(self, sql: str, params: tuple | list = ()) -> dict | None:
        return self._execute(sql, params).fetchone()

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        self._pending = None  # a group's buffered writes go with its transaction
        try:
            self._run("ROLLBACK")
        except Exception:  # the connection may already be gone; nothing was committed
            pass

    # ----------------------------------------------------------------- schema
    def _open_schema(self) -> None:
        tables = self._tables()
        if TABLES <= tables and self._stored_version() != 3:
            self._check_version()
            return
        self._begin_write()
        try:
            self._lock_schema()
            tables = self._tables()
            if not tables & TABLES:
                if not self._may_create_schema():
                    if tables:
                        raise LedgerDamaged(f"ledger: {self.where} holds no ledger tables: it is not a ledger, "
                                            "or its tables were removed")
                    raise LedgerMissing(f"ledger: {self.where} holds no ledger")
                for stmt in _schema(self.int_type):
                    self._execute(stmt)
                self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("schema_version", str(SCHEMA_VERSION)))
                self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("ledger_id", str(uuid.uuid4())))
                self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("created_at", _now()))
                self._execute("INSERT INTO chain (id, head, count) VALUES (1, ?, 0)", (GENESIS,))
            elif tables & TABLES == {"records", "chain"}:
                self._migrate_from_1(tables)
            elif tables & TABLES == TABLES - {"claim_state"} and self._stored_version() == 2:
                self._migrate_from_2()
                self._migrate_from_3()
            elif TABLES <= tables and self._stored_version() == 3:
                self._migrate_from_3()
            elif not TABLES <= tables:
                missing = ", ".join(sorted(TABLES - tables))
                raise LedgerDamaged(f"ledger: {self.where} is damaged: table(s) {missing} missing "
                                    "(removed by someone?); `adjudicator audit verify` reports it")
            self._commit()
        except BaseException:
            self._rollback()
            raise
        self._check_version()

    def _check_version(self) -> None:
        row = self._one("SELECT value FROM meta WHERE key = ?", ("schema_version",))
        if row is None:
            raise LedgerDamaged(f"ledger: {self.where} is damaged: its schema version is missing")
        version = int(row["value"])
        if version > SCHEMA_VERSION:
            raise LedgerError(f"ledger: {self.where} has schema version {version}, newer than this adjudicator "
                              f"understands ({SCHEMA_VERSION}): install the newer adjudicator to use it")
        if version < SCHEMA_VERSION:  # a future migration goes here, in a write transaction
            raise LedgerError(f"ledger: {self.where} has schema version {version}; no migration to "
                              f"{SCHEMA_VERSION} is known")
        self.ledger_id = self._one("SELECT value FROM meta WHERE key = ?", ("ledger_id",))["value"]

    def _migrate_from_1(self, tables: set[str]) -> None:
        """Version 1 (before PostgreSQL and running totals): records keep their hashes (format 1);
        normalised policy numbers, paid amounts and the totals are derived from them."""
        from ..policy.catalogue import load_catalogue
        catalogue = load_catalogue()
        for col, kind in (("format", "INTEGER NOT NULL DEFAULT 1"), ("policy_key", "TEXT"), ("recorded_by", "TEXT"),
                          ("paid_json", "TEXT"), ("kind", "TEXT"), ("event_json", "TEXT")):
            self._execute(f"ALTER TABLE records ADD COLUMN {col} {kind}")
        stmts = _schema(self.int_type)
        for stmt in stmts:
            name = stmt.split()[2]
            if stmt.startswith("CREATE TABLE") and name not in tables:
                self._execute(stmt)
        self._execute("DROP INDEX IF EXISTS records_policy")
        self._execute("DROP INDEX IF EXISTS records_claim")
        for stmt in stmts:
            if stmt.startswith("CREATE INDEX"):
                self._execute(stmt)
        rows = self._execute("SELECT seq, claim_id, policy_number, programme, period_start, decision_json "
                             "FROM records ORDER BY seq").fetchall()
        latest: dict[str, tuple] = {}
        for r in rows:
            key = normalise_policy_number(r["policy_number"])
            decision = json.loads(r["decision_json"])
            paid = paid_by_key(decision, catalogue) if decision["programme"] in catalogue.programmes else {}
            self._execute("UPDATE records SET policy_key = ?, paid_json = ? WHERE seq = ?",
                          (key, json.dumps(paid, separators=(",", ":")), r["seq"]))
            latest[r["claim_id"]] = (key, r["programme"], r["period_start"], paid)
        for key, prog, period, paid in latest.values():
            if key is not None:
                self._add_totals(key, prog, period, paid, 1)
        if "chain" not in tables or self._one("SELECT id FROM chain WHERE id = 1") is None:
            last = self._one("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
            self._execute("INSERT INTO chain (id, head, count) VALUES (1, ?, ?)",
                          (last["hash"] if last else GENESIS, last["seq"] if last else 0))
        self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("schema_version", str(SCHEMA_VERSION)))
        self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("ledger_id", str(uuid.uuid4())))
        self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("migrated_from_1", _now()))
        self._rebuild_state(catalogue)

    def _stored_version(self) -> int | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", ("schema_version",))
        return int(row["value"]) if row else None

    def _migrate_from_2(self) -> None:
        """Version 2 (before the second review and the payment clock): records keep their hashes (format
        2); the work list's side table is built from each claim's latest record (final as recorded: no
        second review existed; the clock as its claim file's `payment` section gave it)."""
        from ..policy.catalogue import load_catalogue
        for col in ("kind", "event_json"):
            self._execute(f"ALTER TABLE records ADD COLUMN {col} TEXT")
        for stmt in _STATE_SCHEMA(self.int_type):
            self._execute(stmt)
        self._rebuild_state(load_catalogue())
        self._execute("UPDATE meta SET value = ? WHERE key = ?", ("3", "schema_version"))
        self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("migrated_from_2", _now()))

    def _migrate_from_3(self) -> None:
        """Version 3 (before desk sessions ended at logout): every account's session generation starts at 0."""
        self._execute("ALTER TABLE users ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0")
        self._execute(_CASE_INDEX)
        self._execute("UPDATE meta SET value = ? WHERE key = ?", (str(SCHEMA_VERSION), "schema_version"))
        self._execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("migrated_from_3", _now()))

    def _rebuild_state(self, catalogue: Catalogue | None) -> None:
        rows = self._execute("SELECT seq, claim_id, policy_key, programme, recorded_at, recorded_by, input_json, "
                             "decision_json FROM records WHERE seq IN (SELECT MAX(seq) FROM records GROUP BY claim_id)"
                             ).fetchall()
        for r in rows:
            state = handling.legacy_state(json.loads(r["decision_json"]), json.loads(r["input_json"]), catalogue,
                                          r["seq"], r["recorded_by"])
            self._put_state(r, state)

    def _put_state(self, row: dict, state: dict) -> None:
        """Upsert the claim's row of the side table from its latest record and the state after it."""
        self._execute(_PUT_STATE_SQL, _state_values(row, state))

    # ----------------------------------------------------------------- reading
    def _record(self, row: dict) -> Record:
        rec = Record(row["seq"], row["claim_id"], json.loads(row["input_json"]), json.loads(row["effective_json"]),
                     json.loads(row["decision_json"]), row)
        if record_hash(row) != row["hash"]:
            rec.verified, rec.problem = False, "its hash does not match its fields: the record was altered"
        elif row["seq"] > 1:
            prev = self._one("SELECT hash FROM records WHERE seq = ?", (row["seq"] - 1,))
            if prev is None or prev["hash"] != row["prev_hash"]:
                rec.verified, rec.problem = False, "it does not follow the record before it: records were removed or reordered"
        elif row["prev_hash"] != GENESIS:
            rec.verified, rec.problem = False, "it does not follow the start of the chain"
        return rec

    def find(self, ident: str | None = None, seq: int | None = None) -> Record:
        """The record with sequence number `seq`, or the latest record of claim id `ident` (an
        all-digit claim id is a claim id: the caller says which it means, nothing is guessed)."""
        if seq is not None:  # beyond 64 bits no record can be: neither backend may be asked (an overflow)
            row = self._one("SELECT * FROM records WHERE seq = ?", (seq,)) if 0 < seq <= MAX_SEQ else None
        else:
            row = self._one("SELECT * FROM records WHERE claim_id = ? ORDER BY seq DESC LIMIT 1", (ident,))
            if row is None and isinstance(ident, str) and claim_id_form(ident) != ident:  # as typed: ＤＵＰ－１
                row = self._one("SELECT * FROM records WHERE claim_id = ? ORDER BY seq DESC LIMIT 1",
                                (claim_id_form(ident),))
        if row is None:  # the ledger's file or URL is the server's business: not said
            what = f"with sequence number {seq}" if seq is not None else f"for claim id {ident!r}"
            raise LedgerError(f"no ledger record {what}")
        return self._record(row)

    def exists(self, claim_id: str) -> int | None:
        row = self._one("SELECT MAX(seq) AS m FROM records WHERE claim_id = ?", (claim_id,))
        return row["m"] if row else None

    def recorded(self, claim_id: str | None, claim_input: dict) -> str | None:
        """The recorded decision JSON when the latest record of claim_id holds this very input."""
        if not claim_id:
            return None
        row = self._one("SELECT input_json, decision_json FROM records WHERE claim_id = ? ORDER BY seq DESC LIMIT 1",
                        (claim_id,))
        if row is not None and row["input_json"] == input_json(claim_input):
            return row["decision_json"]
        return None

    def totals(self, policy_number: str | None, programme: str, period_start: str) -> dict[str, int]:
        key = normalise_policy_number(policy_number)
        out = {k: 0 for k in POOL_KEYS}
        for r in self._execute("SELECT pool, paid FROM totals WHERE policy_key = ? AND programme = ? AND period_start = ?",
                               (key, programme, period_start)).fetchall():
            out[r["pool"]] = int(r["paid"])
        return out

    def prior_payments(self, claim: Claim, catalogue: Catalogue) -> dict[str, int]:
        """What the ledger holds as paid on the claim's policy and period, per prior-payments key,
        not counting the claim id's own earlier record (a re-adjudication replaces it)."""
        period = str(catalogue[claim.programme].period_start)
        totals = self.totals(claim.policy.policy_number, claim.programme, period)
        own = self._one("SELECT policy_key, programme, period_start, paid_json FROM records WHERE claim_id = ? "
                        "ORDER BY seq DESC LIMIT 1", (claim.claim_id or "",))
        if own is not None and (own["policy_key"], own["programme"], own["period_start"]) == \
                (normalise_policy_number(claim.policy.policy_number), claim.programme, period):
            for k, v in json.loads(own["paid_json"] or "{}").items():
                totals[k] -= v
        return totals

    def head(self) -> tuple[int, str]:
        row = self._one("SELECT head, count FROM chain WHERE id = 1")
        return (int(row["count"]), row["head"]) if row else (0, GENESIS)

    # ----------------------------------------------------------------- writing
    def _add_totals(self, key: str, programme: str, period: str, paid: dict[str, int], sign: int) -> None:
        for pool, amount in paid.items():
            self._execute("INSERT INTO totals (policy_key, programme, period_start, pool, paid) VALUES (?, ?, ?, ?, ?) "
                          "ON CONFLICT (policy_key, programme, period_start, pool) DO UPDATE SET paid = totals.paid + excluded.paid",
                          (key, programme, period, pool, sign * amount))

    def record(self, claim_input: dict, claim: Claim, catalogue: Catalogue, decide_fn: Callable[[Claim, dict], dict],
               readjudicate: bool = False, recorded_at: str | None = None, *, recorded_by: str,
               resume: bool = False) -> tuple[int, dict]:
        """Adjudicate and record one claim atomically: the aggregate read, the decision, the record, the
        running totals and the chain head change together or not at all. Returns (seq, decision).

        decide_fn(claim, note) makes the decision; note carries what the ledger holds as paid on the policy
        ({"source": "ledger", "ledger": {...}}), which always counts. With resume, a claim id whose latest
        record holds this very input is not recorded again: its record is returned and `last_skipped`
        holds the recorded decision JSON (None otherwise). `last_decision_json` holds the decision's
        JSON as recorded (decide.to_json's bytes without the newline), recorded now or before."""
        self.last_skipped = self.last_decision_json = None
        if not recorded_by or not isinstance(recorded_by, str):
            raise LedgerError("recorded_by: who records the claim must be named")
        claim_id = claim.claim_id or ""
        key = check_recordable(claim, catalogue)
        if self._in_group:  # claim errors are raised before anything is written; a database error ends the group
            return self._record_in_tx(claim_input, claim, catalogue, decide_fn, readjudicate, recorded_at,
                                      recorded_by, key, resume)
        self._begin_write()
        try:
            out = self._record_in_tx(claim_input, claim, catalogue, decide_fn, readjudicate, recorded_at,
                                     recorded_by, key, resume)
            self._commit()
        except BaseException:
            self._rollback()
            raise
        self._after_commit()
        return out

    @contextmanager
    def group(self) -> Iterator["LedgerCore"]:
        """Record many claims in one transaction (one commit, one fsync), holding the write lock. Each claim
        is still all or nothing: a claim error is raised before the claim writes anything, and a database
        error rolls the whole group back, so a crash or a failure never leaves part of a claim."""
        self._begin_write()
        self._in_group, self._group_head, self._pending = True, None, _Pending()
        try:
            yield self
            self._flush_head()  # after the group's buffered writes (_execute writes them first)
            self._commit()
        except BaseException:
            self._rollback()
            raise
        finally:
            self._in_group, self._group_head, self._pending = False, None, None
        self._after_commit()

    def _record_in_tx(self, claim_input, claim, catalogue, decide_fn, readjudicate, recorded_at, recorded_by, key,
                      resume):
        count, head = self._locked_head()
        claim_id = claim.claim_id
        given = input_json(claim_input)
        previous = self._previous(claim_id)
        if previous is not None and resume and previous["input_json"] == given:
            self.last_skipped = self.last_decision_json = previous["decision_json"]
            return previous["seq"], json.loads(previous["decision_json"])
        if previous is not None and not readjudicate:
            raise LedgerError(f"claim_id: {claim_id!r} is already recorded (seq {previous['seq']}); "
                              "use --readjudicate to record it again")
        twin = self._case_twin(claim_id) if previous is None else None
        if twin is not None:  # dup-1 beside DUP-1 would record and pay the same claim twice
            raise LedgerError(f"claim_id: {claim_id!r} is already recorded as {twin!r} (claim ids that differ only "
                              f"in letter case are one claim); use {twin!r}")
        period = str(catalogue[claim.programme].period_start)
        ledger_paid = self._current_totals(key, claim.programme, period)
        previous_paid = orjson.loads(previous["paid_json"] or "{}") if previous is not None else {}
        if previous is not None and (previous["policy_key"], previous["programme"], previous["period_start"]) == \
                (key, claim.programme, period):  # a claim's own earlier record does not count against it
            for k, v in previous_paid.items():
                ledger_paid[k] -= v
        decision = decide_fn(claim, {"source": "ledger", "ledger": ledger_paid})
        used = {k: decision["prior_payments"].get(k, 0) for k in POOL_KEYS}
        effective = claim.model_copy(update={"prior_payments": PriorPayments(**used)})
        paid = paid_by_key(decision, catalogue)
        decision_json = _compact(decision)
        row = {
            "format": chain.CURRENT_FORMAT,
            "seq": count + 1,
            "claim_id": decision["claim_id"],
            "policy_number": claim.policy.policy_number,
            "policy_key": key,
            "programme": claim.programme,
            "period_start": period,
            "recorded_at": recorded_at or _now(),
            "recorded_by": recorded_by,
            "supersedes": previous["seq"] if previous else None,
            "input_json": given,
            "effective_json": effective.model_dump_json(exclude_none=True),
            "decision_json": decision_json,
            "paid_json": _compact(paid),
            "rulebook_version": decision["rulebook"]["version"],
            "rulebook_sha256": decision["rulebook"]["sha256"],
            "engine_version": decision["engine"]["version"],
            "prev_hash": head,
        }
        previous_state = orjson.loads(previous["state_json"]) if previous is not None and previous["state_json"] else None
        try:
            state = handling.decision_state(previous_state, decision, claim_input, catalogue, row["seq"], recorded_by,
                                            dt.date.fromisoformat(row["recorded_at"][:10]))
        except handling.HandlingError as exc:  # the claim file's payment dates: refused, nothing written
            raise LedgerError(str(exc)) from None
        state_json = _compact(state)
        row["kind"] = "decision"
        # the bytes of _compact({"event": {"type": "decision"}, "state": state}), the state encoded once
        row["event_json"] = '{"event":{"type":"decision"},"state":' + state_json + "}"
        row["hash"] = record_hash(row)
        deltas: dict[tuple, int] = {}
        if previous is not None and previous["policy_key"] is not None:
            for pool, amount in previous_paid.items():
                k = (previous["policy_key"], previous["programme"], previous["period_start"], pool)
                deltas[k] = deltas.get(k, 0) - amount
        if key is not None:
            for pool, amount in paid.items():
                deltas[(key, claim.programme, period, pool)] = deltas.get((key, claim.programme, period, pool), 0) + amount
        self._write(row, [k + (v,) for k, v in deltas.items() if v], _state_values(row, state, state_json))
        if self._in_group:
            self._group_head = (row["seq"], row["hash"])
        self.last_decision_json = decision_json
        return row["seq"], decision

    def _previous(self, claim_id: str) -> dict | None:
        """The claim id's latest record (_PREVIOUS_SQL's columns), also when it is still buffered in the group."""
        if self._pending is not None:
            hit = self._pending.latest.get(claim_id)
            if hit is not None:
                return hit
        return self._run(_PREVIOUS_SQL, (claim_id,)).fetchone()  # nothing of this claim id is buffered

    def _current_totals(self, key: str | None, programme: str, period: str) -> dict[str, int]:
        """totals() of a normalised policy key, within a group from what the group already read and moved."""
        if key is None:  # no running totals are kept without a policy number
            return {k: 0 for k in POOL_KEYS}
        pending = self._pending
        if pending is not None and (key, programme, period) in pending.totals:
            return dict(pending.totals[(key, programme, period)])
        out = {k: 0 for k in POOL_KEYS}
        for r in self._run("SELECT pool, paid FROM totals WHERE policy_key = ? AND programme = ? AND period_start = ?",
                           (key, programme, period)).fetchall():
            out[r["pool"]] = int(r["paid"])
        if pending is not None:
            for (k, prog, per, pool), amount in pending.deltas.items():  # moved by the group, not yet written
                if (k, prog, per) == (key, programme, period):
                    out[pool] = out.get(pool, 0) + amount
            pending.totals[(key, programme, period)] = dict(out)
        return out

    # ----------------------------------------------------------------- handling (issue 20)
    def _state(self, claim_id: str) -> dict | None:
        row = self._one("SELECT state_json FROM claim_state WHERE claim_id = ?", (claim_id,))
        return json.loads(row["state_json"]) if row else None

    def _case_twin(self, claim_id: str) -> str | None:
        """A recorded claim id equal to this one but for letter case (claim ids hold ASCII, kana and kanji
        only: lower() is the same in Python, SQLite and PostgreSQL), else None."""
        low = claim_id.lower()
        if not any(c.isascii() and c.isalpha() for c in claim_id):
            return None  # no letter whose case could differ
        twin = self._pending.by_lower.get(low) if self._pending is not None else None
        if twin is not None and twin != claim_id:   # in this group, not yet written
            return twin
        row = self._one("SELECT claim_id FROM claim_state WHERE lower(claim_id) = ? AND claim_id <> ? LIMIT 1",
                        (low, claim_id))
        return row["claim_id"] if row else None

    def _as_recorded(self, claim_id: str) -> str:
        """The claim id as the ledger keeps it: as given if recorded so (a record older than the contract's
        normalisation), else its normal form (the contract keeps claim ids in claim_id_form)."""
        form = claim_id_form(claim_id) if isinstance(claim_id, str) else claim_id
        if form == claim_id or self._one("SELECT 1 AS x FROM claim_state WHERE claim_id = ?", (claim_id,)):
            return claim_id
        return form

    def state(self, claim_id: str) -> dict:
        """The handling state of the claim id's latest record (handling.py): review and payment clock,
        with seq (its latest record), claim_id and draft (documents say 案 / draft)."""
        claim_id = self._as_recorded(claim_id)
        row = self._one("SELECT seq, state_json FROM claim_state WHERE claim_id = ?", (claim_id,))
        if row is None:
            raise LedgerError(f"claim_id: no ledger record for claim id {claim_id!r}")
        state = json.loads(row["state_json"])
        return dict(state, claim_id=claim_id, seq=row["seq"], draft=handling.is_draft(state))

    def state_at(self, rec: "Record") -> dict | None:
        """The handling state right after a record (None for records written before schema 3)."""
        if not rec.row.get("event_json"):
            return None
        return json.loads(rec.row["event_json"])["state"]

    def review(self, claim_id: str, action: str, note: str | None, *, by: str,
               at: str | None = None, decision_seq: int | None = None) -> tuple[int, dict]:
        """The second review of the claim's decision: approve (it becomes final) or return it to its
        handler with a note. The account that recorded the decision may not (handling.NotYours);
        decision_seq, the record the reviewer read, must still be the claim's decision (handling.Stale)."""
        return self._handle(claim_id, by, at, lambda state, now: handling.review_step(state, action, note, by, now,
                                                                                     decision_seq))

    def clock(self, claim_id: str, action: str, values: dict, catalogue: Catalogue, *, by: str,
              at: str | None = None) -> tuple[int, dict]:
        """A payment-clock step (handling.clock_step): complete, extend, pause or paid."""
        claim_id = self._as_recorded(claim_id)

        def step(state, now):
            prog = self._one("SELECT programme FROM claim_state WHERE claim_id = ?", (claim_id,))["programme"]
            return handling.clock_step(state, action, values, catalogue.payment_clock_days(prog),
                                       dt.date.fromisoformat(now[:10]))
        return self._handle(claim_id, by, at, step)

    def mark_benefit(self, claim_id: str, key: str, action: str, on: Any, *, by: str,
                     at: str | None = None) -> tuple[int, dict]:
        """Mark one of the decision's unclaimed benefits (key programme:coverage) told (案内済) or
        declined (請求しない), with the date: the work list stops flagging it."""
        return self._handle(claim_id, by, at, lambda state, now: handling.benefit_step(state, key, action, on, by, now))

    def _handle(self, claim_id: str, by: str, at: str | None, step) -> tuple[int, dict]:
        """One handling step as a record of its own in the chain: the claim's latest record's fields,
        kind review|clock, who and when, the step and the state after it. Returns (seq, state)."""
        if not by or not isinstance(by, str):
            raise LedgerError("recorded_by: who takes the step must be named")
        if self._in_group:
            raise LedgerError("ledger: a handling step is not recorded inside a batch group")
        claim_id = self._as_recorded(claim_id)
        self._begin_write()
        try:
            count, head = self._locked_head()
            prev = self._one("SELECT * FROM records WHERE claim_id = ? ORDER BY seq DESC LIMIT 1", (claim_id,))
            state = self._state(claim_id) if prev is not None else None
            if prev is None or state is None:
                raise LedgerError(f"claim_id: no ledger record for claim id {claim_id!r}")
            now = at or _now()
            try:
                event, new_state = step(state, now)
            except handling.NotYours as exc:
                raise LedgerForbidden(str(exc)) from None
            except handling.HandlingError as exc:
                raise LedgerError(str(exc)) from None
            row = {k: prev[k] for k in chain.FIELDS[2]}
            row.update(format=chain.CURRENT_FORMAT, seq=count + 1, recorded_at=now, recorded_by=by,
                       supersedes=prev["seq"], prev_hash=head, kind=event["type"],
                       event_json=_compact({"event": event, "state": new_state}))
            row["hash"] = record_hash(row)
            self._write(row, [], _state_values(row, new_state))
            self._commit()
        except BaseException:
            self._rollback()
            raise
        self._after_commit()
        return row["seq"], dict(new_state, claim_id=claim_id, seq=row["seq"], draft=handling.is_draft(new_state))

    GROUP_FLUSH_ROWS = 512  # a group's buffered records written at least this often (bounded memory)

    def _write(self, row: dict, deltas: list[tuple], state_row: list) -> None:
        """Append the record, move the running totals by deltas (policy_key, programme, period, pool, yen),
        put the claim's work-list row and, outside a group, the chain head. Inside a group the writes
        are buffered and written together (_flush_pending), in the same transaction."""
        pending = self._pending
        if pending is None:
            self._write_now(row, deltas, state_row)
            return
        pending.rows.append(row)
        pending.states[row["claim_id"]] = state_row
        for d in deltas:
            pending.deltas[d[:4]] = pending.deltas.get(d[:4], 0) + d[4]
            moved = pending.totals.get(d[:3])
            if moved is not None:
                moved[d[3]] = moved.get(d[3], 0) + d[4]
        pending.by_lower[row["claim_id"].lower()] = row["claim_id"]
        pending.latest[row["claim_id"]] = {
            "seq": row["seq"], "policy_key": row["policy_key"], "programme": row["programme"],
            "period_start": row["period_start"], "paid_json": row["paid_json"], "input_json": row["input_json"],
            "decision_json": row["decision_json"], "state_json": state_row[-1]}
        if len(pending.rows) >= self.GROUP_FLUSH_ROWS:
            self._flush_pending()

    def _write_now(self, row: dict, deltas: list[tuple], state_row: list) -> None:
        self._run(f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        for d in deltas:
            self._run(_ADD_TOTAL_SQL, d)
        self._run(_PUT_STATE_SQL, state_row)
        self._run("UPDATE chain SET head = ?, count = ? WHERE id = 1", (row["hash"], row["seq"]))

    def _flush_pending(self) -> None:
        """Write a group's buffered records, totals and work-list rows: one executemany per table."""
        pending = self._pending
        rows, pending.rows = pending.rows, []
        if not rows:
            return
        cols = tuple(rows[0])
        self._run_many(f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                       [[r[c] for c in cols] for r in rows])
        if pending.deltas:
            self._run_many(_ADD_TOTAL_SQL, [k + (v,) for k, v in pending.deltas.items()])
            pending.deltas = {}
        if pending.states:
            self._run_many(_PUT_STATE_SQL, list(pending.states.values()))
            pending.states = {}

    def _flush_head(self) -> None:
        """At the end of a group: the chain head of its last record."""
        if self._group_head is not None:
            self._execute("UPDATE chain SET head = ?, count = ? WHERE id = 1", (self._group_head[1], self._group_head[0]))

    def _locked_head(self) -> tuple[int, str]:
        """The chain head, under the write lock (within a group: as its last record left it)."""
        if self._in_group and self._group_head is not None:
            return self._group_head
        row = self._one("SELECT head, count FROM chain WHERE id = 1" + self.for_update)
        if row is None:
            raise LedgerDamaged(f"ledger: {self.where} is damaged: its chain head is missing; "
                                "`adjudicator audit verify` reports it")
        head = int(row["count"]), row["head"]
        if self._in_group:
            self._group_head = head
        return head

    # ----------------------------------------------------------------- anchors
    def anchor(self, key: bytes) -> dict:
        """A signed statement of the chain head (count, last hash, time) as it is now."""
        self._begin_read()
        try:
            count, head = self.head()
        finally:
            self._rollback()
        return chain.make_anchor(self.ledger_id, count, head, key)

    def auto_anchor(self, folder: str | os.PathLike, key: bytes, every: int) -> None:
        """After every commit that passes a multiple of `every` records, write an anchor to folder
        (anchor-<count>.json). For `serve`."""
        if every < 1:
            raise LedgerError("anchor_every: must be at least 1")
        Path(folder).mkdir(parents=True, exist_ok=True)
        self._auto_anchor = (Path(folder), key, every)
        self._anchored = self.head()[0] // every

    def _after_commit(self) -> None:
        if self._auto_anchor is None:
            return
        folder, key, every = self._auto_anchor
        count, head = self.head()
        if count // every > self._anchored:
            self._anchored = count // every
            chain.write_anchor(chain.make_anchor(self.ledger_id, count, head, key), folder / f"anchor-{count:012d}.json")

    # ----------------------------------------------------------------- verifying
    def verify(self, anchors: list[dict] = (), catalogue: Catalogue | None = None) -> tuple[bool, str]:
        """Walk the chain in one snapshot; report the first altered, removed or reordered record, a chain
        head or running total that disagrees with the records, or a chain that lost an anchored head."""
        self._begin_read()
        try:
            return self._verify(anchors)
        finally:
            self._rollback()

    def _verify(self, anchors) -> tuple[bool, str]:
        tables = self._tables()
        if not TABLES <= tables:
            return False, f"table(s) {', '.join(sorted(TABLES - tables))} missing: the ledger was damaged"
        wanted = {int(a["count"]) for a in anchors}
        at: dict[int, str] = {}
        latest: dict[str, tuple] = {}
        prev, n = GENESIS, 0
        cur = self._execute("SELECT * FROM records ORDER BY seq")
        while True:
            batch = cur.fetchmany(500)
            if not batch:
                break
            for row, problem in chain.walk_from(batch, prev, n + 1):
                if problem:
                    return False, problem
                prev, n = row["hash"], row["seq"]
                if n in wanted:
                    at[n] = prev
                latest[row["claim_id"]] = (row["policy_key"], row["programme"], row["period_start"],
                                           row["paid_json"], row.get("format"), row["seq"], row["recorded_at"],
                                           row.get("event_json"))
        head = self._one("SELECT head, count FROM chain WHERE id = 1")
        if head is None:
            return False, "the chain head is missing: it was removed (perhaps with records from the end)"
        if int(head["count"]) != n or head["head"] != prev:
            return False, (f"the chain ends at record {n} but the ledger recorded {head['count']} records: "
                           "records were removed from the end")
        expected: dict[tuple, int] = {}
        for key, prog, period, paid_json, *_ in latest.values():
            if key is None:
                continue
            for pool, amount in json.loads(paid_json or "{}").items():
                expected[(key, prog, period, pool)] = expected.get((key, prog, period, pool), 0) + amount
        stored = {(r["policy_key"], r["programme"], r["period_start"], r["pool"]): int(r["paid"])
                  for r in self._execute("SELECT * FROM totals").fetchall()}
        for k in sorted(set(expected) | set(stored)):
            if expected.get(k, 0) != stored.get(k, 0):
                return False, (f"the running total of policy {k[0]} ({k[1]}, period {k[2]}, {k[3]}) is "
                               f"{stored.get(k, 0):,} but its records paid {expected.get(k, 0):,}: the totals were altered")
        problem = self._verify_state(latest)
        if problem:
            return False, problem
        for a in anchors:
            problem = chain.check_anchor(a, self.ledger_id, n, at.get)
            if problem:
                return False, problem
        note = f"; {len(anchors)} anchor(s) hold" if anchors else ""
        return True, f"{n} records, chain intact, head {prev}{note}"

    def _verify_state(self, latest: dict) -> str | None:
        """The work list's side table agrees with each claim's latest record (the state hashed in it)."""
        stored = {r["claim_id"]: r for r in self._execute(f"SELECT {', '.join(STATE_COLUMNS)} FROM claim_state").fetchall()}
        for cid in sorted(set(stored) - set(latest)):
            return f"the work list holds claim {cid} that no record holds: the claim_state table was altered"
        for cid, (key, prog, _period, _paid, fmt, seq, recorded_at, event_json) in latest.items():
            row = stored.get(cid)
            if row is None:
                return f"the work list lost claim {cid}: the claim_state table was altered"
            if (fmt or 1) < 3 or not event_json:  # written before schema 3: built by the migration
                if int(row["seq"]) != seq:
                    return f"the work list's state of claim {cid} is not its latest record's: the claim_state table was altered"
                continue
            want = _state_dict({"claim_id": cid, "seq": seq, "policy_key": key, "programme": prog,
                                  "recorded_at": recorded_at}, json.loads(event_json)["state"])
            got = {c: (int(row[c]) if c in ("seq", "decision_seq", "total_payable", "needs") else row[c])
                   for c in STATE_COLUMNS}
            if got != want:
                bad = next(c for c in STATE_COLUMNS if got[c] != want[c])
                return (f"the work list's state of claim {cid} ({bad}) disagrees with its latest record "
                        f"(seq {seq}): the claim_state table was altered")
        return None

    # ----------------------------------------------------------------- queries
    def list_records(self, policy: str | None = None, claim: str | None = None, since: str | None = None,
                     until: str | None = None) -> list[dict]:
        """Record summaries in chain order. since/until are dates (YYYY-MM-DD, both days included) or
        timestamps compared with recorded_at."""
        where, params = [], []
        if policy is not None:
            where.append("policy_key = ?")
            params.append(normalise_policy_number(policy))
        if claim is not None:
            where.append("claim_id = ?")
            params.append(claim)
        if since:
            where.append("recorded_at >= ?")
            params.append(since)
        bound = (_day_after(until) if len(until) == 10 else until) if until else None
        if bound:
            where.append("recorded_at < ?")
            params.append(bound)
        sql = ("SELECT seq, claim_id, policy_key, programme, period_start, recorded_at, recorded_by, supersedes, "
               "paid_json, decision_json, hash FROM records" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY seq")
        out = []
        for r in self._execute(sql, params).fetchall():
            decision = json.loads(r["decision_json"])
            out.append({"seq": r["seq"], "claim_id": r["claim_id"], "policy_number": r["policy_key"],
                        "programme": r["programme"], "period_start": r["period_start"],
                        "recorded_at": r["recorded_at"], "recorded_by": r["recorded_by"],
                        "supersedes": r["supersedes"], "total_payable": decision["total_payable"],
                        "needs_information": bool(decision.get("needs_information")),
                        "paid": json.loads(r["paid_json"] or "{}"), "hash": r["hash"]})
        return out

    # The desk's search and work list (issue 12), in plain SQL on both backends. The latest record of each
    # claim and its status facts (needs information, paid, review, due date) are read from the side table
    # claim_state that every record keeps (schema 3), so no stored JSON is parsed but the page's.
    STATUSES = PAYMENT_STATUSES
    _DESK_COLUMNS = ("r.seq, r.claim_id, r.policy_number, r.programme, r.period_start, r.recorded_at, r.supersedes, "
                     "r.recorded_by, r.kind, r.decision_json, s.state_json")

    @staticmethod
    def _desk_view(r: dict) -> dict:
        decision = orjson.loads(r["decision_json"])
        state = orjson.loads(r["state_json"]) if r.get("state_json") else {}
        clock = state.get("clock") or {}
        ext = clock.get("extension") or {}
        return {"seq": r["seq"], "claim_id": r["claim_id"], "policy_number": r["policy_number"],
                "programme": r["programme"], "period_start": r["period_start"], "recorded_at": r["recorded_at"],
                "supersedes": r["supersedes"], "recorded_by": r["recorded_by"], "kind": r.get("kind") or "decision",
                "total_payable": decision["total_payable"], "needs": len(decision.get("needs_information") or []),
                "completed_on": clock.get("completed_on"), "delay_reason": ext.get("reason"),
                "extended_to": ext.get("to"), "paused_days": clock.get("paused_days") or 0,
                "due_on": clock.get("due_on"), "paid_on": clock.get("paid_on"),
                "review": (state.get("review") or {}).get("state", "none"), "handler": state.get("handler"),
                "status": payment_status(len(decision.get("needs_information") or []), clock.get("paid_on"),
                                  decision["total_payable"])}

    def search(self, policy_number: str | None = None, claim_id: str | None = None, date_from: str | None = None,
               date_to: str | None = None, status: str | None = None, recorded_by: str | None = None,
               latest_only: bool = True, limit: int | None = 50, offset: int = 0,
               seqs: list[int] | None = None) -> tuple[int, list[dict]]:
        """(matching count, one page of rows, newest first): by policy number (normalised), claim id
        (prefix), recorded date (YYYY-MM-DD, inclusive) and status (needs_information | unpaid | paid:
        the claim's current state); by default only the latest record of each claim id."""
        if status is not None and status not in self.STATUSES:
            raise LedgerError(f"status: {status!r} is not one of {', '.join(self.STATUSES)}")
        if latest_only and not recorded_by:  # the side table alone holds what is filtered on: no record is read
            t, col = "s", {"seq": "s.seq", "policy": "s.policy_key", "claim": "s.claim_id", "at": "s.recorded_at"}
            sql_from = " FROM claim_state s"
        else:
            t, col = "r", {"seq": "r.seq", "policy": "r.policy_key", "claim": "r.claim_id", "at": "r.recorded_at"}
            sql_from = " FROM records r JOIN claim_state s ON s.claim_id = r.claim_id"
        where, params = [], []
        if seqs is not None:
            if not seqs:
                return 0, []
            where.append(f"{col['seq']} IN ({', '.join('?' * len(seqs))})")
            params += [int(x) for x in seqs]
        if latest_only and t == "r":
            where.append("r.seq = s.seq")
        if policy_number:
            where.append(f"{col['policy']} = ?")
            params.append(normalise_policy_number(policy_number))
        if claim_id:
            where.append(f"{col['claim']} >= ? AND {col['claim']} < ?")
            params += [claim_id, claim_id + "\U0010ffff"]
        if date_from:
            where.append(f"{col['at']} >= ?")
            params.append(date_from)
        bound = _day_after(date_to, "date_to") if date_to else None
        if bound:
            where.append(f"{col['at']} < ?")
            params.append(bound)
        if status is not None:  # the rows' own status (payment_status), read in SQL
            where.append(_PAYMENT_STATUS_SQL[status].format(t="s."))
        if recorded_by:
            where.append("r.recorded_by = ?")
            params.append(recorded_by)
        sql_where = (" WHERE " + " AND ".join(where)) if where else ""
        total = self._one(f"SELECT COUNT(*) AS n{sql_from}{sql_where}", params)["n"]
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        # the page's sequence numbers first (a sort of integers), then only those rows with their JSON
        wanted = [int(x["seq"]) for x in self._execute(
            f"SELECT {col['seq']} AS seq{sql_from}{sql_where} ORDER BY {col['seq']} DESC{page}", params).fetchall()]
        out = []
        for k in range(0, len(wanted), 500):
            chunk = wanted[k:k + 500]
            out += [dict(r) for r in self._execute(
                f"SELECT {self._DESK_COLUMNS} FROM records r JOIN claim_state s ON s.claim_id = r.claim_id "
                f"WHERE r.seq IN ({', '.join('?' * len(chunk))})", chunk).fetchall()]
        out.sort(key=lambda r: -int(r["seq"]))
        return total, [self._desk_view(r) for r in out]

    def worklist(self, handler: str | None = None, today: dt.date | None = None, limit: int | None = 50,
                 offset: int = 0) -> tuple[int, list[dict]]:
        """(count, one page) of the open claims - not paid, and not a final decision that pays nothing -
        from the side table: overdue first, then by due date, then those without one (waiting for
        information last), newest first among equals. handler: the claims whose decision that account
        recorded. Each row: claim_id, seq, policy_number, programme, total_payable, needs, review,
        handler, completed_on, due_on, paid_on, payment_due, overdue, unpaid (未払: a payable amount
        past its due date), days_overdue, to_do and the state (review and clock in full).

        A decision that pays nothing and waits for no information (a refusal) has no payment due
        (000 §18 times a payment): `payment_due` false, no `due_on` on the row (the clock keeps it, for
        a re-adjudication that pays), never overdue or 未払; its `to_do` says what it waits for instead
        (second_review while pending, benefits while some are not told or declined)."""
        today = today or dt.date.today()
        # open: unpaid and not a final nothing-to-pay; or any unclaimed benefit not yet marked told/declined
        where = [f"((paid_on IS NULL AND ({_PAYMENT_DUE} OR review NOT IN ('none', 'approved'))) OR unclaimed > 0)"]
        params: list = []
        if handler:
            where.append("handler = ?")
            params.append(handler)
        sql_where = " WHERE " + " AND ".join(where)
        total = self._one(f"SELECT COUNT(*) AS n FROM claim_state{sql_where}", params)["n"]
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
        # the page's order on the small columns first, then only its rows with their state JSON
        order = [int(x["seq"]) for x in self._execute(
            f"SELECT seq FROM claim_state{sql_where} ORDER BY "
            f"CASE WHEN {_OVERDUE} THEN 0 ELSE 1 END, "
            f"CASE WHEN paid_on IS NULL THEN 0 ELSE 1 END, CASE WHEN {_PAYMENT_DUE} AND due_on IS NOT NULL THEN 0 ELSE 1 END, "
            f"CASE WHEN {_PAYMENT_DUE} THEN due_on END, needs, seq DESC{page}", [*params, today.isoformat()]).fetchall()]
        rows = []
        for k in range(0, len(order), 500):
            chunk = order[k:k + 500]
            # payment_due and overdue as the database reads them for the order above (one predicate, not a copy)
            rows += self._execute(f"SELECT {', '.join(STATE_COLUMNS)}, CASE WHEN {_PAYMENT_DUE} THEN 1 ELSE 0 END AS "
                                  f"payment_due, CASE WHEN {_OVERDUE} THEN 1 ELSE 0 END AS overdue FROM claim_state "
                                  f"WHERE seq IN ({', '.join('?' * len(chunk))})", [today.isoformat(), *chunk]).fetchall()
        rank = {seq: n for n, seq in enumerate(order)}
        rows.sort(key=lambda r: rank[int(r["seq"])])
        out = []
        for r in rows:
            state = orjson.loads(r["state_json"])
            payable, needs = int(r["total_payable"]), int(r["needs"])
            payment_due, overdue = bool(r["payment_due"]), bool(r["overdue"])  # paid: only its benefits keep it here
            due = r["due_on"] if payment_due else None  # a refusal (nothing payable, nothing asked for) has none
            out.append({"claim_id": r["claim_id"], "seq": int(r["seq"]), "decision_seq": int(r["decision_seq"]),
                        "policy_number": r["policy_key"], "programme": r["programme"],
                        "recorded_at": r["recorded_at"], "total_payable": payable,
                        "needs": needs, "review": r["review"], "handler": r["handler"],
                        "completed_on": r["completed_on"], "due_on": due, "paid_on": r["paid_on"],
                        "status": payment_status(needs, r["paid_on"], payable),
                        "payment_due": payment_due, "overdue": overdue, "unpaid": overdue and payable > 0,
                        "days_overdue": (today - dt.date.fromisoformat(due)).days if overdue else 0,
                        "to_do": _to_do(r, payment_due),
                        "clock": state["clock"], "review_detail": state["review"],
                        "unclaimed": int(r["unclaimed"]), "unclaimed_detail": state.get("unclaimed") or []})
        return total, out

    def open_claims(self, recorded_by: str | None = None) -> list[dict]:
        """Every open claim (worklist, unpaged): seq, claim_id, needs, completed_on, due_on, ..."""
        return self.worklist(handler=recorded_by, limit=None)[1]

    def export(self) -> Iterator[dict]:
        """Every stored field of every record, in chain order."""
        cur = self._execute("SELECT * FROM records ORDER BY seq")
        while True:
            batch = cur.fetchmany(500)
            if not batch:
                return
            yield from (dict(r) for r in batch)

    def policy_summary(self, policy_number: str, catalogue: Catalogue) -> dict:
        """Per programme and period of the policy: each aggregate pool's limit, used and left, and the records."""
        key = normalise_policy_number(policy_number)
        records = self.list_records(policy=policy_number)
        if not records:
            raise LedgerError(f"policy: no record of policy {quote(key)} in the ledger")
        current = {}
        for r in records:  # the latest record of each claim id counts
            current[r["claim_id"]] = r
        out = {"policy_number": key, "periods": []}
        seen = []
        for r in records:
            if (r["programme"], r["period_start"]) not in seen:
                seen.append((r["programme"], r["period_start"]))
        for prog_id, period in seen:
            totals = self.totals(key, prog_id, period)
            latest = max((r for r in current.values() if (r["programme"], r["period_start"]) == (prog_id, period)),
                         key=lambda r: r["seq"], default=None)
            pools = []
            if latest is not None and prog_id in catalogue.programmes:
                prog = catalogue[prog_id]
                claim = Claim.model_validate_json(self._one("SELECT effective_json FROM records WHERE seq = ?",
                                                            (latest["seq"],))["effective_json"])
                specs = [(pid, p) for pid, p in prog.data.get("pools", {}).items() if p.get("prior_payments")]
                specs += [(c["id"], c) for c in prog.data.get("combined_caps", []) if c.get("prior_payments")]
                for pid, spec in specs:
                    limit, ref = prog.limit_source(claim.policy.plan, claim, spec["limit"])
                    used = sum(totals.get(k, 0) for k in spec["prior_payments"])
                    pools.append({"pool": pid, "label": spec["label"], "limit": limit, "used": used,
                                  "left": None if limit is None else max(0, limit - used), "reference": ref})
            out["periods"].append({"programme": prog_id, "period_start": period, "paid": totals, "pools": pools,
                                   "records": [r for r in records if (r["programme"], r["period_start"]) == (prog_id, period)]})
        return out

    # ----------------------------------------------------------------- accounts
    def add_user(self, name: str, role: str) -> str:
        """A new account; returns its API token (shown once: only its sha256 is stored)."""
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}", name):
            raise LedgerError("name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
        if role not in ROLES:
            raise LedgerError(f"role: {role!r} is not a role; expected one of {', '.join(ROLES)}")
        token = "adj_" + secrets.token_urlsafe(32)
        self._begin_write()
        try:
            # case twins (H1 beside h1) are one name to a reader: the four-eyes review must not confuse them
            twin = self._one("SELECT name FROM users WHERE lower(name) = lower(?)", (name,))
            if twin is not None:
                same = "" if twin["name"] == name else f" (as {twin['name']!r}: names differing only in case are one name)"
                raise LedgerError(f"name: a user named {name!r} already exists{same}")
            self._execute("INSERT INTO users (name, role, token_sha256, disabled, created_at) VALUES (?, ?, ?, 0, ?)",
                          (name, role, _token_hash(token), _now()))
            self._commit()
        except BaseException:
            self._rollback()
            raise
        return token

    def list_users(self) -> list[dict]:
        return [{"name": r["name"], "role": r["role"], "disabled": bool(r["disabled"]), "created_at": r["created_at"]}
                for r in self._execute("SELECT name, role, disabled, created_at FROM users ORDER BY name").fetchall()]

    def _update_user(self, name: str, sql: str, params: tuple) -> None:
        self._begin_write()
        try:
            if self._one("SELECT name FROM users WHERE name = ?", (name,)) is None:
                raise LedgerError(f"name: no user named {name!r}")
            self._execute(sql, params)
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def disable_user(self, name: str) -> None:
        self._update_user(name, "UPDATE users SET disabled = 1 WHERE name = ?", (name,))

    def rotate_user(self, name: str) -> str:
        """A new token for the user; the old one stops working."""
        token = "adj_" + secrets.token_urlsafe(32)
        self._update_user(name, "UPDATE users SET token_sha256 = ? WHERE name = ?", (_token_hash(token), name))
        return token

    def desk_account(self, name: str) -> dict | None:
        """The account a desk session is checked against on each request: {"name", "role", "disabled",
        "session"}, `session` a fingerprint of the token hash and the session generation, so rotating the
        token or end_sessions() ends every session made before (the cookie holds the fingerprint)."""
        row = self._one("SELECT name, role, disabled, token_sha256, session_gen FROM users WHERE name = ?", (name,))
        if row is None:
            return None
        session = hashlib.sha256(f"desk-session:{row['token_sha256']}:{row['session_gen']}".encode()).hexdigest()
        return {"name": row["name"], "role": row["role"], "disabled": bool(row["disabled"]), "session": session}

    def end_sessions(self, name: str) -> None:
        """End the user's desk sessions (logout): a cookie made before no longer matches desk_account()."""
        self._update_user(name, "UPDATE users SET session_gen = session_gen + 1 WHERE name = ?", (name,))

    def authenticate(self, token: str) -> dict | None:
        """{"name", "role"} of the enabled user holding this token, else None."""
        if not isinstance(token, str) or not token or len(token) > 256:
            return None
        digest = _token_hash(token)
        row = self._one("SELECT name, role, token_sha256, disabled FROM users WHERE token_sha256 = ?", (digest,))
        if row is None or not hmac.compare_digest(row["token_sha256"], digest) or row["disabled"]:
            return None
        return {"name": row["name"], "role": row["role"]}


def _state_dict(row: dict, state: dict, state_json: str | None = None) -> dict:
    """The claim_state row of a claim whose latest record is `row`, with the handling state after it
    (state_json: the state already encoded)."""
    clock = state["clock"]
    return {"claim_id": row["claim_id"], "seq": row["seq"], "decision_seq": state["decision_seq"],
            "handler": state.get("handler"), "policy_key": row["policy_key"], "programme": row["programme"],
            "recorded_at": row["recorded_at"], "total_payable": state["total_payable"], "needs": state["needs"],
            "review": state["review"]["state"], "completed_on": clock.get("completed_on"),
            "due_on": clock.get("due_on"), "paid_on": clock.get("paid_on"),
            "unclaimed": handling.unmarked(state), "state_json": _compact(state) if state_json is None else state_json}


def _state_values(row: dict, state: dict, state_json: str | None = None) -> list:
    """The same as parameters in STATE_COLUMNS order (state_json last)."""
    values = _state_dict(row, state, state_json)
    return [values[c] for c in STATE_COLUMNS]


# A claim has a payment due (000 §18's clock runs for it) when its decision pays something or still waits
# for information; a refusal - nothing payable, nothing asked for - has none: it is never overdue or 未払.
# The work list reads it (and _OVERDUE) from the database for its order and its rows alike: no Python copy.
_PAYMENT_DUE = "(total_payable > 0 OR needs > 0)"
# Overdue: a payment due, unpaid, its due date before today (the one parameter).
_OVERDUE = f"(paid_on IS NULL AND {_PAYMENT_DUE} AND due_on IS NOT NULL AND due_on < ?)"


def check_recordable(claim, catalogue) -> str | None:
    """The claim's policy key, once it is known the ledger can record it (before a ledger is opened,
    so a refused claim creates no ledger file): it needs a claim id, and a policy number where the
    programme keeps aggregates per policy."""
    if not claim.claim_id:
        raise LedgerError("claim_id: a claim needs an id to be recorded in the ledger")
    key = normalise_policy_number(claim.policy.policy_number)
    if key is None and keeps_aggregates(catalogue, claim.programme):
        raise LedgerError(f"policy.policy_number: required to record a {claim.programme} claim in the ledger: "
                          "its aggregate limits are kept per policy number")
    return key


def payment_status(needs: int, paid_on: str | None, total_payable: int) -> str:
    """A claim's payment status: needs_information | paid | unpaid (a payable amount not paid) |
    nothing_payable (the decision pays nothing and asks for nothing: not 未払)."""
    if needs:
        return "needs_information"
    if paid_on:
        return "paid"
    return "unpaid" if total_payable > 0 else "nothing_payable"


def _to_do(row: dict, payment_due: bool) -> list[str]:
    """What an open claim on the work list waits for, in the order a handler takes it: second_review
    (another handler approves or returns it), returned (back to its handler: re-adjudicate),
    information (the decision asks for facts), completion (record 請求完了日), payment (a payable
    amount not yet paid), benefits (unclaimed benefits not yet told or declined)."""
    out = []
    if row["review"] == "pending_review":
        out.append("second_review")
    elif row["review"] == "returned":
        out.append("returned")
    if int(row["needs"]):
        out.append("information")
    if payment_due and not row["paid_on"] and int(row["total_payable"]) > 0:
        out.append("completion" if not row["completed_on"] else "payment")
    if int(row["unclaimed"]):
        out.append("benefits")
    return out


def _day_after(day: str, field: str = "until") -> str | None:
    """The exclusive upper bound of a search up to `day` included; None after the last day a date
    can name (9999-12-31): no upper bound (its day after overflows)."""
    try:
        last = dt.date.fromisoformat(day)
    except ValueError:
        raise LedgerError(f"{field}: expected a date YYYY-MM-DD, got {day!r}") from None
    return None if last == dt.date.max else (last + dt.timedelta(days=1)).isoformat()


def retrying(fn: Callable[[], Any], is_busy: Callable[[BaseException], bool], what: str, deadline_s: float):
    """Run fn, retrying while the database is busy (another writer holds the lock), up to deadline_s."""
    end = time.monotonic() + deadline_s
    pause = 0.005
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_busy(exc):
                raise
            if time.monotonic() > end:
                raise LedgerUnavailable(f"ledger: {what} stayed busy for {deadline_s:.0f} s (another process holds "
                                  "its write lock); nothing was recorded, try again") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
