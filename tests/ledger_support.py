"""Helpers for the ledger tests: claims on a policy, raw SQL on either backend, the CLI in-process."""
import json
import sqlite3

import yaml

from adjudicator.cli import main
from adjudicator.decide import decide
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

# Fukuoka S1 at a clinic: the ② costs pool is 1,000,000 a period; call-centre costs are paid in full.
POLICY = {"policy": {"plan": "S1", "policy_number": "FK-1"},
          "losses": [{"category": "call_center", "amount": 700_000}]}


def claim_data(claim_id, patch=None, programme="fukuoka-cyber-2025"):
    data = merge(load_bases()[programme], merge(POLICY, patch or {}) if programme == "fukuoka-cyber-2025" else patch or {})
    data["claim_id"] = claim_id
    return data


def claim_file(tmp_path, claim_id, patch=None):
    path = tmp_path / f"{claim_id}.yaml"
    path.write_text(yaml.safe_dump(claim_data(claim_id, patch), allow_unicode=True), encoding="utf-8")
    return path


def record(ledger, data, readjudicate=False, by="test"):
    catalogue, book = load_catalogue(), load_rulebook()
    claim = parse_claim(data, catalogue)
    return ledger.record(data, claim, catalogue, lambda c, note: decide(c, book, catalogue, note),
                         readjudicate=readjudicate, recorded_by=by)


def is_pg(target) -> bool:
    return str(target).startswith("postgresql://")


def sql(target, script: str) -> None:
    if is_pg(target):
        import psycopg
        with psycopg.connect(target, autocommit=True) as c:
            c.execute(script)
    else:
        db = sqlite3.connect(target)
        db.executescript(script)
        db.commit()
        db.close()


def rows(target, query: str) -> list[tuple]:
    if is_pg(target):
        import psycopg
        with psycopg.connect(target, autocommit=True) as c:
            return [tuple(r) for r in c.execute(query).fetchall()]
    db = sqlite3.connect(target)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def cli(capsys, *args):
    """Run the command line in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def cli_json(capsys, *args):
    rc, out, err = cli(capsys, *args)
    assert rc == 0, err
    return json.loads(out)


_pg_databases = iter(range(1, 1_000_000))


def new_pg_database(pg_server) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server (conftest.py's pg_server)."""
    import psycopg
    name = f"ledger_{next(_pg_databases)}"
    base = pg_server.get_uri()
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return base.replace("/postgres?", f"/{name}?", 1)
