"""Issue 7: the ledger (aggregates across claims, replay) on SQLite and PostgreSQL, batch and diff.
Issue 13's ledger tests are in test_ledger_*.py."""
import json
import shutil

import yaml

from adjudicator.engine.examples import load_bases, merge

from ledger_support import rows
from support import EXAMPLES, ROOT, run_cli


def claim(tmp_path, name, patch, programme="fukuoka-cyber-2025"):
    data = merge(load_bases()[programme], patch)
    data["claim_id"] = name
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


POLICY = {"policy": {"plan": "S1", "policy_number": "FK-1"},
          "losses": [{"category": "call_center", "amount": 700_000}]}


def adjudicate(path, ledger, *extra):
    r = run_cli("adjudicate", str(path), "--ledger", str(ledger), *extra)
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def test_two_claims_on_one_policy_share_the_aggregate(tmp_path, ledger_target):
    ledger = ledger_target
    r1, d1 = adjudicate(claim(tmp_path, "C1", POLICY), ledger)
    r2, d2 = adjudicate(claim(tmp_path, "C2", POLICY), ledger)
    assert d1["total_payable"] == 700_000 and d1["prior_payments"]["source"] == "ledger"
    zero = {"liability": 0, "costs": 0, "brand_protect": 0, "lost_profit": 0}
    assert d2["prior_payments"] == {"source": "ledger", "ledger": {**zero, "costs": 700_000}, "claim_file": None,
                                    **zero, "costs": 700_000}
    assert d2["total_payable"] == 300_000  # S1 ② 1,000,000 - 700,000 already paid
    # a claim on another policy is not affected
    _, d3 = adjudicate(claim(tmp_path, "C3", merge(POLICY, {"policy": {"policy_number": "FK-2"}})), ledger)
    assert d3["total_payable"] == 700_000
    # a claim file's own prior_payments cannot lower what the ledger holds (it used to be paid in full)
    _, d4 = adjudicate(claim(tmp_path, "C4", merge(POLICY, {"prior_payments": {"costs": 0}})), ledger)
    assert d4["total_payable"] == 0 and d4["prior_payments"]["source"] == "ledger"
    assert d4["prior_payments"]["claim_file"] == zero and d4["prior_payments"]["ledger"]["costs"] == 1_000_000


def test_a_claim_id_twice_is_refused_unless_readjudicated(tmp_path, ledger_target):
    ledger = ledger_target
    path = claim(tmp_path, "C1", POLICY)
    adjudicate(path, ledger)
    r, _ = adjudicate(path, ledger)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("claim_id: 'C1' is already recorded")
    r, d = adjudicate(path, ledger, "--readjudicate")
    assert r.returncode == 0 and d["total_payable"] == 700_000  # its own earlier record does not count
    assert rows(ledger, "SELECT seq, claim_id, supersedes FROM records ORDER BY seq") == [(1, "C1", None), (2, "C1", 1)]
    # a re-adjudicated claim counts once for later claims on the policy
    _, d2 = adjudicate(claim(tmp_path, "C2", POLICY), ledger)
    assert d2["prior_payments"]["costs"] == 700_000


def test_replay_is_identical_and_reports_a_changed_rulebook(tmp_path, ledger_target):
    ledger = ledger_target
    adjudicate(claim(tmp_path, "C0", POLICY), ledger)
    _, d = adjudicate(claim(tmp_path, "C1", merge(POLICY, {"losses": [{"category": "call_center", "amount": 200_000}]})),
                      ledger)
    assert d["prior_payments"]["costs"] == 700_000
    r = run_cli("replay", "C1", "--ledger", str(ledger))
    assert r.returncode == 0 and "byte-identical" in r.stdout, r.stdout + r.stderr
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    p = rules / "programmes" / "fukuoka-cyber-2025.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("clinic:        {value: 1000000,", "clinic:        {value: 800000,", 1),
                 encoding="utf-8")
    r = run_cli("--rules", str(rules), "replay", "C1", "--ledger", str(ledger))
    assert r.returncode == 1 and "DIFFERENT" in r.stdout
    assert "incident_response: covered 200,000 -> covered 100,000" in r.stdout


def test_audit_show_renders_the_record(tmp_path):
    ledger = tmp_path / "ledger.sqlite"
    _, d = adjudicate(claim(tmp_path, "C1", POLICY), ledger)
    r = run_cli("audit", "show", "C1", "--ledger", str(ledger), "--format", "html", "--lang", "en")
    assert r.returncode == 0 and "ledger record 1" in r.stdout and d["rulebook"]["sha256"] in r.stdout
    assert "FK-TRIG-ALL-RISK" in r.stdout and "call_center" in r.stdout
    assert "by cli:" in r.stdout  # who recorded it


def corpus(tmp_path, n=120):
    bases = load_bases()
    lines = []
    for i in range(n):
        prog = ["fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"][i % 3]
        data = merge(bases[prog], {"claim_id": f"B{i:04d}"})
        if prog != "jma-support":
            data["losses"] = [{"category": "damages", "amount": 100_000 * (i + 1)}]
        if i % 17 == 0:
            data["incident"]["cause"] = "meteor"  # a bad claim, reported without stopping the batch
        lines.append(json.dumps(data, default=str))
    lines.insert(5, "{not json")
    path = tmp_path / "claims.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_output_is_identical_for_1_and_2_workers(tmp_path):
    src = corpus(tmp_path)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        r = run_cli("batch", str(src), "--out", str(out), "--workers", str(workers))
        assert r.returncode == 1, r.stderr  # the run finished; some claims have error lines (issue 14)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    rows = [json.loads(x) for x in outs[0].decode().splitlines()]
    assert len(rows) == 121
    assert rows[5] == {"source": "claims.jsonl:6", "errors": [{"field": "(claim file)", "message": rows[5]["errors"][0]["message"]}]}
    assert rows[0]["errors"][0]["field"] == "incident.cause"  # B0000 is bad (i % 17 == 0)
    good = [r for r in rows if "claim_id" in r]
    assert [r["claim_id"] for r in good] == sorted(r["claim_id"] for r in good)  # input order


def test_batch_of_a_folder_with_a_ledger(tmp_path):
    folder = tmp_path / "claims"
    folder.mkdir()
    for name in ("C1", "C2"):
        shutil.move(claim(tmp_path, name, POLICY), folder / f"{name}.yaml")
    (folder / "bad.yaml").write_text("programme: [", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", str(folder), "--out", str(out), "--ledger", str(tmp_path / "l.sqlite"), "--workers", "2")
    assert r.returncode == 1  # bad.yaml has an error line
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r.get("total_payable") for r in rows] == [700_000, 300_000, None]
    assert rows[2]["source"] == "bad.yaml"


def test_diff_reports_a_deliberately_changed_limit(tmp_path):
    rules_b = tmp_path / "rules_b"
    shutil.copytree(ROOT / "rules", rules_b)
    p = rules_b / "programmes" / "nagano-privacy-2016.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("brand_protect: {value: 10000000,", "brand_protect: {value: 8000000,"),
                 encoding="utf-8")
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(EXAMPLES / "nagano_seed_example.yaml", folder)
    shutil.copy(EXAMPLES / "fukuoka_seed_example.yaml", folder)
    r = run_cli("diff", str(folder), "--rules-a", str(ROOT / "rules"), "--rules-b", str(rules_b))
    assert r.returncode == 0, r.stderr
    assert "nagano_seed_example.yaml (NG-2016-EXAMPLE):" in r.stdout
    assert "brand_protect: covered 8,472,500 -> covered 8,000,000" in r.stdout
    assert "total: 16,347,500 -> 15,875,000" in r.stdout
    assert "fukuoka_seed_example" not in r.stdout.split("summary")[0]
    summary = r.stdout.split("summary")[1]
    assert "changed                                    1" in summary and "difference (B - A)                  -472,500" in summary


def test_progress_bar_draws_on_a_terminal_only(tmp_path, capsys):
    from adjudicator.runs.batch import Progress
    bar = Progress(True, 120)
    for i in range(120):
        bar.tick(i % 10 == 0)
    bar.done()
    err = capsys.readouterr().err
    assert "[##############################] 100% 120/120 (12 with errors)" in err
    quiet = Progress(False, None)
    quiet.tick(False)
    quiet.done()
    assert capsys.readouterr().err == ""
    src = corpus(tmp_path, 10)
    r = run_cli("batch", str(src), "--out", str(tmp_path / "o.jsonl"))
    assert "#" not in r.stderr and r.stderr.strip().endswith("-> " + str(tmp_path / "o.jsonl"))


def test_a_claim_the_ledger_refuses_creates_no_default_ledger(tmp_path):
    """--readjudicate (or --record) on a claim the ledger cannot hold (no policy number on a programme
    with aggregates) is refused naming the field, before any ledger file is made."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "ADJUDICATOR_LEDGER"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    for flag in ("--readjudicate", "--record"):
        r = subprocess.run([sys.executable, "-m", "adjudicator", "adjudicate",
                            str(EXAMPLES / "nagano_seed_example.yaml"), flag, "--format", "json"],
                           capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.startswith("policy.policy_number: required to record"), r.stderr
        assert not (tmp_path / "data").exists(), list((tmp_path / "data").rglob("*"))
