"""The claims ledger: every adjudication recorded in SQLite, chained by hash, and the memory of
what each policy has already been paid in its period.

Each record holds the claim as given, the claim as adjudicated (with the prior payments used),
the decision (trace included), the rulebook version and sha256 and the engine version. Its hash
covers all of that plus the previous record's hash, so an altered, removed or reordered record
breaks the chain (`audit verify`). Removing records from the *end* of the chain is only detected
against the head kept in the `chain` table, which an attacker with write access can also rewrite;
export the head (`audit verify` prints it) to hold it elsewhere.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .catalogue import Catalogue
from .claim import Claim, PriorPayments

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    claim_id TEXT NOT NULL,
    policy_number TEXT,
    programme TEXT NOT NULL,
    period_start TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    supersedes INTEGER,
    input_json TEXT NOT NULL,
    effective_json TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    rulebook_version TEXT NOT NULL,
    rulebook_sha256 TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_claim ON records(claim_id);
CREATE INDEX IF NOT EXISTS records_policy ON records(policy_number, programme, period_start);
CREATE TABLE IF NOT EXISTS chain (id INTEGER PRIMARY KEY CHECK (id = 1), head TEXT NOT NULL, count INTEGER NOT NULL);
"""
_FIELDS = ("seq", "claim_id", "policy_number", "programme", "period_start", "recorded_at", "supersedes",
           "input_json", "effective_json", "decision_json", "rulebook_version", "rulebook_sha256",
           "engine_version", "prev_hash")


class LedgerError(RuntimeError):
    pass


def default_path() -> Path:
    """$ADJUDICATOR_LEDGER, else $XDG_DATA_HOME/adjudicator/ledger.sqlite (~/.local/share/...)."""
    env = os.environ.get("ADJUDICATOR_LEDGER")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "adjudicator" / "ledger.sqlite"


def record_hash(row: dict) -> str:
    payload = json.dumps([row[f] for f in _FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class Record:
    seq: int
    claim_id: str
    input: dict
    effective: dict
    decision: dict
    row: dict


class Ledger:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def find(self, ident: str) -> Record:
        """A record by sequence number, or the latest record of a claim id."""
        if ident.isdigit():
            row = self.db.execute("SELECT * FROM records WHERE seq = ?", (int(ident),)).fetchone()
        else:
            row = self.db.execute("SELECT * FROM records WHERE claim_id = ? ORDER BY seq DESC LIMIT 1",
                                  (ident,)).fetchone()
        if row is None:
            raise LedgerError(f"no ledger record {ident!r} in {self.path}")
        row = dict(row)
        return Record(row["seq"], row["claim_id"], json.loads(row["input_json"]), json.loads(row["effective_json"]),
                      json.loads(row["decision_json"]), row)

    def prior_payments(self, claim: Claim, catalogue: Catalogue) -> tuple[dict[str, int], list[int]]:
        """What earlier claims on the same policy and period were paid, per prior-payments key.

        Only the latest record of each claim id counts (a re-adjudication replaces the earlier one).
        """
        programme = catalogue[claim.programme]
        rows = self.db.execute(
            "SELECT seq, claim_id, decision_json FROM records r WHERE policy_number = ? AND programme = ? "
            "AND period_start = ? AND claim_id != ? AND seq = (SELECT MAX(seq) FROM records WHERE claim_id = r.claim_id) "
            "ORDER BY seq",
            (claim.policy.policy_number, claim.programme, str(programme.period_start), claim.claim_id or ""),
        ).fetchall()
        totals = {k: 0 for k in PriorPayments.model_fields}
        for row in rows:
            decision = json.loads(row["decision_json"])
            for cov, entry in decision["coverages"].items():
                key = programme.coverages[cov].get("prior_payments_key")
                if key:
                    totals[key] += entry["payable"]
        return totals, [r["seq"] for r in rows]

    def exists(self, claim_id: str) -> int | None:
        row = self.db.execute("SELECT MAX(seq) FROM records WHERE claim_id = ?", (claim_id,)).fetchone()
        return row[0]

    # ------------------------------------------------------------------ writing
    def record(self, claim_input: dict, claim: Claim, catalogue: Catalogue, decide_fn,
               readjudicate: bool = False, recorded_at: str | None = None) -> tuple[int, dict]:
        """Adjudicate and record one claim in a single transaction.

        When the claim file gives no prior_payments and names a policy, what the ledger holds for that
        policy and period is used (and the decision says so). Returns (seq, decision).
        """
        claim_id = claim.claim_id or ""
        if not claim_id:
            raise LedgerError("claim_id: a claim needs an id to be recorded in the ledger")
        self.db.execute("BEGIN IMMEDIATE")  # the aggregate read and the append see one state
        try:
            previous = self.exists(claim_id)
            if previous is not None and not readjudicate:
                raise LedgerError(f"claim_id: {claim_id!r} is already recorded (seq {previous}); "
                                  "use --readjudicate to record it again")
            prior_note = None
            if claim.prior_payments is None and claim.policy.policy_number:
                totals, seqs = self.prior_payments(claim, catalogue)
                claim = claim.model_copy(update={"prior_payments": PriorPayments(**totals)})
                prior_note = {"source": "ledger", "records": seqs}
            decision = decide_fn(claim, prior_note)
            seq = self._insert(claim_input, claim, decision, catalogue, previous, recorded_at)
            self.db.execute("COMMIT")
            return seq, decision
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _insert(self, claim_input: dict, effective: Claim, decision: dict, catalogue: Catalogue,
                previous: int | None, recorded_at: str | None) -> int:
        last = self.db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        row = {
            "seq": (last["seq"] + 1) if last else 1,
            "claim_id": decision["claim_id"],
            "policy_number": effective.policy.policy_number,
            "programme": effective.programme,
            "period_start": str(catalogue[effective.programme].period_start),
            "recorded_at": recorded_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "supersedes": previous,
            "input_json": json.dumps(claim_input, ensure_ascii=False, sort_keys=True, default=str),
            "effective_json": effective.model_dump_json(exclude_none=True),
            "decision_json": json.dumps(decision, ensure_ascii=False, separators=(",", ":")),
            "rulebook_version": decision["rulebook"]["version"],
            "rulebook_sha256": decision["rulebook"]["sha256"],
            "engine_version": decision["engine"]["version"],
            "prev_hash": last["hash"] if last else GENESIS,
        }
        row["hash"] = record_hash(row)
        self.db.execute(f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))
        count = self.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        self.db.execute("INSERT INTO chain (id, head, count) VALUES (1, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET head = excluded.head, count = excluded.count",
                        (row["hash"], count))
        return row["seq"]

    # ------------------------------------------------------------------ verifying
    def verify(self) -> tuple[bool, str]:
        """Walk the chain; report the first altered, removed or reordered record."""
        prev, expected_seq, n = GENESIS, 1, 0
        for r in self.db.execute("SELECT * FROM records ORDER BY seq"):
            row = dict(r)
            if row["seq"] != expected_seq:
                return False, (f"record seq {expected_seq} is missing (next is {row['seq']}): "
                               "a record was removed")
            if row["prev_hash"] != prev:
                return False, (f"record seq {row['seq']} ({row['claim_id']}) does not follow the record before it: "
                               "records were removed or reordered")
            if record_hash(row) != row["hash"]:
                return False, f"record seq {row['seq']} ({row['claim_id']}) was altered: its hash does not match"
            prev, expected_seq, n = row["hash"], expected_seq + 1, n + 1
        head = self.db.execute("SELECT head, count FROM chain WHERE id = 1").fetchone()
        if head is not None and (head["count"] != n or head["head"] != prev):
            return False, (f"the chain ends at record {n} but the ledger recorded {head['count']} records: "
                           "records were removed from the end")
        return True, f"{n} records, chain intact, head {prev}"
