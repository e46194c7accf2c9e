"""The hash chain: what a record's hash covers, the walk that verifies it, and signed anchors.

A record's hash covers every stored field plus the previous record's hash, so an altered,
removed or reordered record breaks the chain. Someone who can rewrite the whole database can
also recompute every hash; an *anchor* (a statement of the chain head - count, last hash, time -
signed with HMAC-SHA256 under a key kept outside the database) catches that: a chain rewritten,
truncated or emptied since the anchor no longer has the anchored hash at the anchored position.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Iterable, Iterator

import orjson

GENESIS = "0" * 64

# Format 1: the ledger before schema version 2 (no recorded_by, no normalised policy number).
FIELDS = {
    1: ("seq", "claim_id", "policy_number", "programme", "period_start", "recorded_at", "supersedes",
        "input_json", "effective_json", "decision_json", "rulebook_version", "rulebook_sha256",
        "engine_version", "prev_hash"),
    2: ("format", "seq", "claim_id", "policy_number", "policy_key", "programme", "period_start", "recorded_at",
        "recorded_by", "supersedes", "input_json", "effective_json", "decision_json", "paid_json",
        "rulebook_version", "rulebook_sha256", "engine_version", "prev_hash"),
}
# Format 3 (issue 20): what the record is (decision | review | clock) and the handling step with the
# claim's handling state after it (handling.py), hashed with the rest.
FIELDS[3] = FIELDS[2] + ("kind", "event_json")
CURRENT_FORMAT = 3


def record_hash(row: dict) -> str:
    """sha256 of the record's fields (FIELDS, in order) as a compact JSON array in UTF-8, non-ASCII
    characters as they are (what json.dumps(..., ensure_ascii=False, separators=(",", ":")) writes)."""
    fmt = row.get("format") or 1
    fields = FIELDS.get(fmt)
    if fields is None:
        return ""
    values = [row[f] for f in fields]
    if fmt >= 2:
        try:
            return hashlib.sha256(orjson.dumps(values)).hexdigest()
        except TypeError:  # a value orjson does not write (an integer beyond 64 bits): the same text, slower
            pass
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def walk_from(rows: Iterable[dict], prev: str = GENESIS, expected: int = 1) -> Iterator[tuple[dict, str | None]]:
    """Each row with None, or with the first problem found at it (then the walk stops). prev and
    expected continue a walk over the rows before these."""
    for row in rows:
        if row["seq"] != expected:
            yield row, (f"record seq {expected} is missing (next is {row['seq']}): a record was removed")
            return
        if row["prev_hash"] != prev:
            yield row, (f"record seq {row['seq']} ({row['claim_id']}) does not follow the record before it: "
                        "records were removed or reordered")
            return
        if record_hash(row) != row["hash"]:
            yield row, f"record seq {row['seq']} ({row['claim_id']}) was altered: its hash does not match"
            return
        yield row, None
        prev, expected = row["hash"], expected + 1


# ---------------------------------------------------------------------------------- anchors
def default_key_file() -> Path:
    """$ADJUDICATOR_ANCHOR_KEY, else $XDG_CONFIG_HOME/adjudicator/anchor.key (~/.config/...)."""
    env = os.environ.get("ADJUDICATOR_ANCHOR_KEY")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "adjudicator" / "anchor.key"


class AnchorError(ValueError):
    pass


KEY_FILE_BYTES = 4096        # a key file holds 64 hex digits
ANCHOR_FILE_BYTES = 65536    # an anchor statement is a few hundred bytes


def _read_small(p: Path, what: str, limit: int) -> bytes:
    """A key or anchor file's bytes: a regular file only (never a device or a FIFO, which would block or
    never end) and at most `limit` bytes read (a --key-file of /dev/zero must not fill the memory:
    hostile probe 4)."""
    try:
        if not stat.S_ISREG(os.stat(p).st_mode):
            raise AnchorError(f"{what}: {p} is not a regular file")
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise AnchorError(f"{what}: {p} does not exist") from None
    except OSError as exc:
        raise AnchorError(f"{what}: {p} cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise AnchorError(f"{what}: {p} is larger than {limit:,} bytes: it is not one")
    return data


def read_key(path: str | os.PathLike | None, create: bool = False) -> bytes:
    """The anchor key (32 random bytes, hex in a file readable by its owner only). With create, a
    missing key file is made."""
    p = Path(path) if path else default_key_file()
    if not p.exists():
        if not create:
            raise AnchorError(f"key file: {p} does not exist")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    data = _read_small(p, "key file", KEY_FILE_BYTES)
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise AnchorError(f"key file: {p} is not a hex key (64 hex digits)") from None
    if len(key) < 16:
        raise AnchorError(f"key file: {p} holds a key shorter than 16 bytes")
    return key


def _payload(statement: dict) -> bytes:
    body = {k: statement[k] for k in ("ledger_id", "count", "head", "time")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def make_anchor(ledger_id: str, count: int, head: str, key: bytes, time: str | None = None) -> dict:
    statement = {"anchor": "adjudicator-ledger", "ledger_id": ledger_id, "count": count, "head": head,
                 "time": time or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                 "alg": "HMAC-SHA256", "key_id": hashlib.sha256(key).hexdigest()[:16]}
    statement["mac"] = hmac.new(key, _payload(statement), hashlib.sha256).hexdigest()
    return statement


def write_anchor(statement: dict, path: str | os.PathLike) -> None:
    """Written whole or not at all (temporary file, then rename)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(statement, sort_keys=True, indent=1) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, p)


def read_anchor(path: str | os.PathLike, key: bytes) -> dict:
    """The anchor statement of a file whose signature holds under key; AnchorError otherwise."""
    data = _read_small(Path(path), "anchor", ANCHOR_FILE_BYTES)
    try:
        statement = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AnchorError(f"anchor: {path} is not an anchor file ({exc.__class__.__name__})") from None
    if not isinstance(statement, dict) or statement.get("anchor") != "adjudicator-ledger":
        raise AnchorError(f"anchor: {path} is not an adjudicator ledger anchor")
    try:
        expected = hmac.new(key, _payload(statement), hashlib.sha256).hexdigest()
        ok = isinstance(statement["mac"], str) and hmac.compare_digest(expected, statement["mac"])
        int(statement["count"])
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise AnchorError(f"anchor: {path}: the signature does not verify under this key "
                          "(the anchor was altered, or it was signed with another key)")
    return statement


def check_anchor(statement: dict, ledger_id: str, count: int, hash_at) -> str | None:
    """None when the chain still holds the anchored head at the anchored position, else the problem.
    hash_at(n) gives the hash of record n of the verified chain (None if there is none)."""
    n = int(statement["count"])
    if statement["ledger_id"] != ledger_id:
        return (f"the anchor of {statement['time']} is of ledger {statement['ledger_id']}, this ledger is "
                f"{ledger_id}: the ledger was replaced or recreated")
    if count < n:
        what = "emptied" if count == 0 else "truncated"
        return (f"the anchor of {statement['time']} saw {n} records, the ledger now has {count}: "
                f"the chain was {what}")
    if n and hash_at(n) != statement["head"]:
        return (f"record seq {n} no longer has the hash anchored at {statement['time']}: "
                "the chain was rewritten")
    return None
