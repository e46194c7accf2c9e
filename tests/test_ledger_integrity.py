"""Issue 13: tamper evidence on SQLite and PostgreSQL - verify in one snapshot, the chain head, running
totals, anchors against whole-chain rewrites, missing and emptied ledgers, schema versions."""
import json
import os
import sqlite3

import pytest

from adjudicator.ledger import Ledger, LedgerDamaged, LedgerError, LedgerMissing
from adjudicator.ledger.base import SCHEMA_VERSION
from adjudicator.ledger.chain import CURRENT_FORMAT, FIELDS, GENESIS, read_anchor, read_key, record_hash
from adjudicator.policy.catalogue import load_catalogue

from ledger_support import claim_data, cli, is_pg, new_pg_database, record, rows, sql


def make_chain(target, n=4):
    with Ledger(target) as ledger:
        for i in range(n):
            record(ledger, claim_data(f"C{i}", {"policy": {"policy_number": f"P{i}"}}))
        ok, msg = ledger.verify()
    assert ok and msg.startswith(f"{n} records"), msg


TAMPERING = [
    ("UPDATE records SET decision_json = replace(decision_json, '700000', '900000') WHERE seq = 2", "seq 2 (C1) was altered"),
    ("UPDATE records SET claim_id = 'X' WHERE seq = 3", "seq 3 (X) was altered"),
    ("UPDATE records SET recorded_by = 'someone else' WHERE seq = 1", "seq 1 (C0) was altered"),
    ("UPDATE records SET policy_key = 'P9' WHERE seq = 2", "seq 2 (C1) was altered"),
    ("DELETE FROM records WHERE seq = 2", "seq 2 is missing"),
    ("UPDATE records SET seq = -seq WHERE seq IN (2, 3); UPDATE records SET seq = 3 WHERE seq = -2; "
     "UPDATE records SET seq = 2 WHERE seq = -3", "does not follow the record before it"),
    ("DELETE FROM records WHERE seq = 4", "removed from the end"),
    ("DELETE FROM records WHERE seq >= 3; DELETE FROM chain", "chain head is missing"),
    ("DELETE FROM records WHERE seq >= 3; DROP TABLE chain", "chain missing"),
    ("UPDATE totals SET paid = 0 WHERE policy_key = 'P1'", "running total of policy P1"),
    ("DELETE FROM totals", "running total of policy P0"),
]


@pytest.mark.parametrize("tamper,words", TAMPERING, ids=[
    "altered", "claim-id", "recorded-by", "policy-key", "removed", "reordered", "removed-at-end",
    "end-and-head-row", "end-and-head-table", "totals", "totals-removed"])
def test_tampering_of_each_kind_is_detected(ledger_target, capsys, tamper, words):
    make_chain(ledger_target)
    sql(ledger_target, tamper)
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", ledger_target)
    assert rc == 1 and out == "" and "TAMPERED" in err and words in err, err


def test_read_only_commands_refuse_a_ledger_that_does_not_exist(tmp_path, capsys, pg_server):
    typo = tmp_path / "ledgr.sqlite"
    missing_db = new_pg_database(pg_server).replace("/ledger_", "/no_such_db_", 1)
    for target in (typo, missing_db):
        for args in (["audit", "verify"], ["audit", "show", "C1"], ["audit", "show", "C1", "--format", "json"],
                     ["audit", "list"], ["audit", "policy", "FK-1"], ["audit", "export"],
                     ["audit", "anchor", "--key-file", tmp_path / "k"], ["replay", "C1"], ["users", "list"],
                     ["users", "disable", "x"], ["users", "rotate", "x"]):
            rc, out, err = cli(capsys, *args, "--ledger", target)
            assert rc == 2 and out == "" and "does not exist" in err, (args, err)
    assert not typo.exists()


def test_an_empty_database_is_not_a_ledger_for_readers(pg_server, capsys):
    url = new_pg_database(pg_server)
    rc, _, err = cli(capsys, "audit", "verify", "--ledger", url)
    assert rc == 2 and "holds no ledger" in err
    assert rows(url, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'") == [(0,)]


def test_a_truncated_or_deleted_sqlite_ledger_never_verifies(tmp_path, capsys):
    path = tmp_path / "ledger.sqlite"
    make_chain(str(path))
    with open(path, "r+b") as fh:
        fh.truncate(0)
    for p in tmp_path.glob("ledger.sqlite-*"):
        p.unlink()
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", path)
    assert rc == 1 and "TAMPERED" in err and "empty (0 bytes)" in err
    # a recording command does not quietly start a new ledger in its place either
    rc, out, err = cli(capsys, "adjudicate", claim_file_of(tmp_path), "--ledger", path)
    assert rc == 2 and "empty (0 bytes)" in err and path.stat().st_size == 0
    path.unlink()
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", path)
    assert rc == 2 and "does not exist" in err and not path.exists()
    # a file that is not a ledger at all
    path.write_bytes(b"not a database" * 100)
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", path)
    assert rc == 1 and "TAMPERED" in err


def claim_file_of(tmp_path):
    import yaml
    p = tmp_path / "claim.yaml"
    p.write_text(yaml.safe_dump(claim_data("NEW"), allow_unicode=True), encoding="utf-8")
    return p


def rewrite_whole_chain(target):
    """What someone with write access and the source can do: change a record, recompute every hash."""
    cols = ", ".join(FIELDS[CURRENT_FORMAT])
    all_rows = rows(target, f"SELECT {cols} FROM records ORDER BY seq")
    prev = GENESIS
    statements = []
    for values in all_rows:
        row = dict(zip(FIELDS[CURRENT_FORMAT], values))
        if row["seq"] == 2:
            row["recorded_by"] = "nobody"
        row["prev_hash"] = prev
        h = record_hash(row)
        statements.append(f"UPDATE records SET recorded_by = '{row['recorded_by']}', prev_hash = '{prev}', "
                          f"hash = '{h}' WHERE seq = {row['seq']}")
        prev = h
    statements.append(f"UPDATE chain SET head = '{prev}'")
    sql(target, "; ".join(statements))


def truncate_chain(target, keep):
    head = rows(target, f"SELECT hash FROM records WHERE seq = {keep}")[0][0] if keep else GENESIS
    sql(target, f"DELETE FROM records WHERE seq > {keep}; DELETE FROM totals; DELETE FROM claim_state WHERE seq > {keep}; "
                f"UPDATE chain SET count = {keep}, head = '{head}'")
    if keep:  # the thorough attacker also fixes the running totals
        with Ledger(target) as ledger:
            for r in ledger.list_records():
                for pool, paid in r["paid"].items():
                    ledger._begin_write()
                    ledger._add_totals(r["policy_number"], r["programme"], r["period_start"], {pool: paid}, 1)
                    ledger._commit()


def replace_ledger(target):
    if is_pg(target):
        sql(target, "DROP TABLE meta, records, chain, totals, users, claim_state")
    else:
        for p in [target, target + "-wal", target + "-shm"]:
            if os.path.exists(p):
                os.unlink(p)
    make_chain(target, 6)


@pytest.mark.parametrize("attack,words", [
    (rewrite_whole_chain, "the chain was rewritten"),
    (lambda t: truncate_chain(t, 3), "now has 3: the chain was truncated"),
    (lambda t: truncate_chain(t, 0), "now has 0: the chain was emptied"),
    (replace_ledger, "the ledger was replaced or recreated"),
], ids=["rewritten", "truncated", "emptied", "replaced"])
def test_an_anchor_catches_what_the_chain_alone_cannot(ledger_target, tmp_path, capsys, attack, words):
    make_chain(ledger_target, 4)
    key, anchor = tmp_path / "anchor.key", tmp_path / "anchor-4.json"
    rc, out, err = cli(capsys, "audit", "anchor", "--ledger", ledger_target, "--key-file", key, "--out", anchor)
    assert rc == 0 and "created the anchor key" in err and oct(key.stat().st_mode & 0o777) == "0o600"
    statement = read_anchor(anchor, read_key(key))
    assert statement["count"] == 4 and statement["alg"] == "HMAC-SHA256"
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("C4", {"policy": {"policy_number": "P4"}}))
        record(ledger, claim_data("C5", {"policy": {"policy_number": "P5"}}))
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", ledger_target, "--anchor", anchor, "--key-file", key)
    assert rc == 0 and out.startswith("OK: 6 records") and "1 anchor(s) hold" in out
    attack(ledger_target)
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", ledger_target)
    assert rc == 0, err  # the chain alone looks whole: that is what the anchor is for
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", ledger_target, "--anchor", anchor, "--key-file", key)
    assert rc == 1 and "TAMPERED" in err and words in err, err


def test_an_altered_or_foreign_anchor_is_refused(ledger_target, tmp_path, capsys):
    make_chain(ledger_target, 2)
    key, anchor = tmp_path / "k", tmp_path / "a.json"
    assert cli(capsys, "audit", "anchor", "--ledger", ledger_target, "--key-file", key, "--out", anchor)[0] == 0
    forged = json.loads(anchor.read_text())
    forged["count"] = 1
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    rc, _, err = cli(capsys, "audit", "verify", "--ledger", ledger_target, "--anchor", tmp_path / "forged.json",
                     "--key-file", key)
    assert rc == 2 and "signature does not verify" in err
    other = tmp_path / "other.key"
    other.write_text(os.urandom(32).hex())
    rc, _, err = cli(capsys, "audit", "verify", "--ledger", ledger_target, "--anchor", anchor, "--key-file", other)
    assert rc == 2 and "signature does not verify" in err
    rc, _, err = cli(capsys, "audit", "verify", "--ledger", ledger_target, "--anchor", anchor,
                     "--key-file", tmp_path / "nokey")
    assert rc == 2 and "does not exist" in err
    # printed to stdout without --out
    rc, out, _ = cli(capsys, "audit", "anchor", "--ledger", ledger_target, "--key-file", key)
    assert rc == 0 and json.loads(out)["count"] == 2


def test_anchors_every_n_records_for_serve(ledger_target, tmp_path):
    key = os.urandom(32)
    folder = tmp_path / "anchors"
    with Ledger(ledger_target) as ledger:
        ledger.auto_anchor(folder, key, every=3)
        for i in range(7):
            record(ledger, claim_data(f"C{i}"))
        names = sorted(p.name for p in folder.iterdir())
        assert names == ["anchor-000000000003.json", "anchor-000000000006.json"]
        anchors = [read_anchor(folder / n, key) for n in names]
        ok, msg = ledger.verify(anchors)
        assert ok and "2 anchor(s) hold" in msg


def test_verify_reads_one_snapshot_while_two_batches_write(ledger_target, tmp_path):
    """Records, chain head and running totals are read in one transaction: two `batch --ledger` runs
    writing meanwhile never make verify report tampering."""
    import subprocess
    import sys
    from support import ROOT
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("C0"))
    procs = []
    for w in range(2):
        src = tmp_path / f"in{w}.jsonl"
        src.write_text("".join(json.dumps(claim_data(f"W{w}-{i:04d}", {"policy": {"policy_number": f"P{i % 7}"}}),
                                          default=str) + "\n" for i in range(400)), encoding="utf-8")
        procs.append(subprocess.Popen([sys.executable, "-m", "adjudicator", "batch", str(src), "--out",
                                       str(tmp_path / f"out{w}.jsonl"), "--ledger", ledger_target], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    verdicts = []
    with Ledger(ledger_target, create=False) as reader:
        while any(p.poll() is None for p in procs):
            verdicts.append(reader.verify())
        verdicts.append(reader.verify())
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    assert all(ok for ok, _ in verdicts), [m for ok, m in verdicts if not ok][:3]
    assert len({m for _, m in verdicts}) > 2  # the batches really wrote in between
    assert verdicts[-1][1].startswith("801 records")


V1_SCHEMA = """
CREATE TABLE records (seq INTEGER PRIMARY KEY, claim_id TEXT NOT NULL, policy_number TEXT, programme TEXT NOT NULL,
    period_start TEXT NOT NULL, recorded_at TEXT NOT NULL, supersedes INTEGER, input_json TEXT NOT NULL,
    effective_json TEXT NOT NULL, decision_json TEXT NOT NULL, rulebook_version TEXT NOT NULL,
    rulebook_sha256 TEXT NOT NULL, engine_version TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX records_claim ON records(claim_id);
CREATE INDEX records_policy ON records(policy_number, programme, period_start);
CREATE TABLE chain (id INTEGER PRIMARY KEY CHECK (id = 1), head TEXT NOT NULL, count INTEGER NOT NULL);
"""


def make_v1_ledger(path):
    """A ledger as the version before this one wrote it (schema without a version; format-1 hashes)."""
    from adjudicator import adjudicate
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    prev = GENESIS
    for seq, (cid, pn) in enumerate([("OLD1", "fk-1"), ("OLD2", "P2")], 1):
        data = claim_data(cid, {"policy": {"policy_number": pn}})
        d = adjudicate(data)
        row = {"seq": seq, "claim_id": cid, "policy_number": pn, "programme": d["programme"],
               "period_start": "2025-05-05", "recorded_at": "2026-11-01T00:00:00+00:00", "supersedes": None,
               "input_json": json.dumps(data, sort_keys=True, default=str), "effective_json": "{}",
               "decision_json": json.dumps(d, ensure_ascii=False, separators=(",", ":")),
               "rulebook_version": d["rulebook"]["version"], "rulebook_sha256": d["rulebook"]["sha256"],
               "engine_version": "0.1.0", "prev_hash": prev}
        row["hash"] = prev = record_hash(row)
        db.execute(f"INSERT INTO records ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    db.execute("INSERT INTO chain VALUES (1, ?, 2)", (prev,))
    db.commit()
    db.close()


def test_a_version_1_ledger_is_upgraded_in_place(tmp_path, capsys):
    path = str(tmp_path / "old.sqlite")
    make_v1_ledger(path)
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", path)
    assert rc == 0 and out.startswith("OK: 2 records"), err
    with Ledger(path) as ledger:
        assert ledger.totals("FK-1", "fukuoka-cyber-2025", "2025-05-05")["costs"] == 700_000
        _, d = record(ledger, claim_data("NEW"))  # FK-1: the old record "fk-1" counts
        assert d["total_payable"] == 300_000
        ok, msg = ledger.verify()
        assert ok and msg.startswith("3 records"), msg
    assert rows(path, "SELECT seq, format FROM records ORDER BY seq") == [(1, 1), (2, 1), (3, 3)]
    assert rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert rows(path, "SELECT claim_id, review FROM claim_state ORDER BY claim_id") == \
        [("NEW", "none"), ("OLD1", "none"), ("OLD2", "none")]


def make_v2_ledger(target):
    """A ledger as schema version 2 wrote it: format-2 records, no kind/event_json, no claim_state."""
    with Ledger(target) as ledger:
        record(ledger, claim_data("V1", {"payment": {"completed_on": "2025-08-01"}}))
        record(ledger, claim_data("V2", {"policy": {"policy_number": "P2"}}))
    sql(target, "DROP TABLE claim_state; ALTER TABLE records DROP COLUMN kind; ALTER TABLE records DROP COLUMN event_json;"
                " ALTER TABLE users DROP COLUMN session_gen;"
                " UPDATE records SET format = 2; UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    prev, statements = GENESIS, []
    for values in rows(target, f"SELECT {', '.join(FIELDS[2])} FROM records ORDER BY seq"):
        row = dict(zip(FIELDS[2], values))
        row["prev_hash"] = prev
        prev = record_hash(row)
        statements.append(f"UPDATE records SET prev_hash = '{row['prev_hash']}', hash = '{prev}' WHERE seq = {row['seq']}")
    statements.append(f"UPDATE chain SET head = '{prev}'")
    sql(target, "; ".join(statements))


def test_a_version_2_ledger_is_upgraded_in_place(ledger_target, capsys):
    make_v2_ledger(ledger_target)
    rc, out, err = cli(capsys, "audit", "verify", "--ledger", ledger_target)
    assert rc == 0 and out.startswith("OK: 2 records"), err
    with Ledger(ledger_target) as ledger:
        assert ledger.state("V1")["clock"]["due_on"] == "2025-08-31"  # the file's completion date + 30 days
        assert ledger.state("V2")["review"]["state"] == "none"        # recorded before the second review: final
        ledger.clock("V2", "complete", {"completed_on": "2025-09-01"}, load_catalogue(), by="h2")
        ok, msg = ledger.verify()
        assert ok and msg.startswith("3 records"), msg
    assert rows(ledger_target, "SELECT seq, format FROM records ORDER BY seq") == [(1, 2), (2, 2), (3, 3)]
    assert rows(ledger_target, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]


def test_a_ledger_of_a_newer_version_says_how(ledger_target, capsys):
    make_chain(ledger_target, 1)
    sql(ledger_target, f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match="newer than this adjudicator understands .* install the newer adjudicator"):
        Ledger(ledger_target)
    rc, _, err = cli(capsys, "audit", "list", "--ledger", ledger_target)
    assert rc == 2 and f"schema version {SCHEMA_VERSION + 1}" in err


def test_a_ledger_missing_a_table_is_damaged_not_recreated(ledger_target):
    make_chain(ledger_target, 2)
    sql(ledger_target, "DROP TABLE totals")
    with pytest.raises(LedgerDamaged, match="table.*totals missing"):
        Ledger(ledger_target)
    assert "totals" not in {r[0] for r in rows(ledger_target, "SELECT table_name FROM information_schema.tables")} \
        if is_pg(ledger_target) else True
    with pytest.raises(LedgerMissing):
        Ledger(ledger_target + ".nope" if not is_pg(ledger_target) else ledger_target.replace("/ledger_", "/none_"),
               create=False)
