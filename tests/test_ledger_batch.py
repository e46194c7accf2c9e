"""Issue 13: `batch --ledger` commits in groups, in order, per-claim atomic; a rerun resumes (skips what
is recorded, writes the recorded decisions); a killed run's partial output is kept - SQLite and PostgreSQL."""
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import adjudicator.runs.batch as batch
from adjudicator.ledger import Ledger
from adjudicator.runs.output import atomic_output

from ledger_support import claim_data, cli, rows
from support import ROOT


# The corpus always holds bad claims, so a batch over it exits 1: it finished, and some claims have error lines.
def corpus(path, n, start=0):
    """n claims on 5 policies (the ② pools run out), with bad ones between them: an invalid claim,
    a line that is not JSON, a claim without a policy number (the ledger refuses it)."""
    lines = []
    for i in range(start, start + n):
        data = claim_data(f"B{i:05d}", {"policy": {"policy_number": f"FK-{i % 5}"},
                                        "losses": [{"category": "call_center", "amount": 30_000 + 1_000 * (i % 50)}]})
        if i % 97 == 13:
            data["incident"]["cause"] = "meteor"
        if i % 89 == 7:
            del data["policy"]["policy_number"]
        lines.append(json.dumps(data, default=str, ensure_ascii=False))
        if i % 151 == 3:
            lines.append("{not json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def decisions(out):
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]


def test_batch_records_in_order_and_pays_each_pool_once(ledger_target, tmp_path, capsys):
    src = corpus(tmp_path / "claims.jsonl", 600)
    out = tmp_path / "out.jsonl"
    rc, _, err = cli(capsys, "batch", src, "--out", out, "--ledger", ledger_target)
    assert rc == 1, err
    lines = decisions(out)
    good = [d for d in lines if "claim_id" in d]
    bad = [d for d in lines if "errors" in d]
    assert {e["errors"][0]["field"] for e in bad} == {"incident.cause", "(claim file)", "policy.policy_number"}
    assert len(lines) == 600 + 4 and f"600 claims" not in err and f"{len(lines)} claims, {len(bad)} with errors" in err
    # in input order, each claim seeing exactly what the ones before it on its policy were paid
    paid: dict[str, int] = {}
    for d in good:
        pn = "FK-" + str(int(d["claim_id"][1:]) % 5)
        assert d["prior_payments"]["ledger"]["costs"] == paid.get(pn, 0)
        paid[pn] = paid.get(pn, 0) + d["total_payable"]
    assert paid == {f"FK-{k}": 1_000_000 for k in range(5)}
    with Ledger(ledger_target, create=False) as ledger:
        ok, msg = ledger.verify()
        assert ok and msg.startswith(f"{len(good)} records"), msg
        assert [r["claim_id"] for r in ledger.list_records()] == [d["claim_id"] for d in good]
        assert {r["recorded_by"] for r in ledger.list_records()} == {"cli:" + __import__("pwd").getpwuid(__import__("os").getuid()).pw_name}


def test_a_rerun_resumes_writing_the_recorded_decisions(ledger_target, tmp_path, capsys):
    full = corpus(tmp_path / "full" / "claims.jsonl", 400)
    reference = tmp_path / "reference.jsonl"
    rc, _, err = cli(capsys, "batch", full, "--out", reference, "--ledger", str(tmp_path / "ref.sqlite"))
    assert rc == 1, err
    # the first 250 claims were recorded by an earlier run (same file name, same lines)
    first = corpus(tmp_path / "first" / "claims.jsonl", 250)
    assert full.read_text().startswith(first.read_text())
    assert cli(capsys, "batch", first, "--out", tmp_path / "first.jsonl", "--ledger", ledger_target)[0] == 1
    recorded = rows(ledger_target, "SELECT COUNT(*) FROM records")[0][0]
    out = tmp_path / "out.jsonl"
    rc, _, err = cli(capsys, "batch", full, "--out", out, "--ledger", ledger_target)
    assert rc == 1 and f"{recorded} already recorded in the ledger (skipped" in err, err
    assert out.read_bytes() == reference.read_bytes()  # the same bytes as one uninterrupted run
    assert rows(ledger_target, "SELECT COUNT(*) FROM records") == rows(str(tmp_path / "ref.sqlite"),
                                                                       "SELECT COUNT(*) FROM records")
    # a third run records nothing new
    rc, _, err = cli(capsys, "batch", full, "--out", out, "--ledger", ledger_target)
    assert rc == 1 and "0 with errors" not in err and out.read_bytes() == reference.read_bytes()
    # a claim id recorded with another input is not skipped: it is an error line, as before
    changed = tmp_path / "changed.jsonl"
    data = json.loads(full.read_text().splitlines()[0])
    data["losses"][0]["amount"] += 1
    changed.write_text(json.dumps(data) + "\n")
    rc, _, err = cli(capsys, "batch", changed, "--out", tmp_path / "c.jsonl", "--ledger", ledger_target)
    assert decisions(tmp_path / "c.jsonl")[0]["errors"][0]["message"].startswith("'B00000' is already recorded")


def test_a_killed_batch_loses_no_claim_and_its_partial_output_is_kept(ledger_target, tmp_path, capsys):
    src = corpus(tmp_path / "claims.jsonl", 1500)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "batch", str(src), "--out", str(out),
                             "--ledger", ledger_target], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    def partials() -> list:  # runs/output.py writes beside --out: .out.jsonl.<random>.partial
        return sorted(tmp_path.glob(".out.jsonl.*.partial"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (partials() and partials()[0].stat().st_size > 0):
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    [partial] = partials()
    killed_output = partial.read_bytes()
    with Ledger(ledger_target, create=False) as ledger:
        ok, msg = ledger.verify()  # the chain survived the kill
        assert ok, msg
        recorded = ledger.head()[0]
    assert 0 < recorded < 1450
    # every line the killed run wrote is a claim the ledger holds (output follows the commit)
    # (groups are written whole, one write each; a kill inside that write can still cut the last line)
    complete, _, cut = killed_output.decode(errors="replace").rpartition("\n")
    assert cut == "" or cut.startswith('{"'), cut[:80]
    written = [json.loads(x) for x in complete.splitlines() if x.startswith('{"claim_id"')]
    assert written
    assert len(written) <= recorded
    rc, _, err = cli(capsys, "batch", src, "--out", out, "--ledger", ledger_target)
    assert rc == 1 and f"{recorded} already recorded" in err, err
    assert f"kept the partial output of an earlier run: {partial}" in err
    assert partials() == [partial] and partial.read_bytes() == killed_output  # left as it was
    reference = tmp_path / "reference.jsonl"
    assert cli(capsys, "batch", src, "--out", reference, "--ledger", str(tmp_path / "ref.sqlite"))[0] == 1
    assert out.read_bytes() == reference.read_bytes()
    with Ledger(ledger_target, create=False) as ledger:
        ok, msg = ledger.verify()
        assert ok, msg
        assert ledger.head()[0] == rows(str(tmp_path / "ref.sqlite"), "SELECT COUNT(*) FROM records")[0][0]


def test_each_run_writes_a_new_hidden_partial_and_never_touches_an_earlier_one(ledger_target, tmp_path, capsys,
                                                                              monkeypatch):
    """README (the ledger): each run writes `.OUT.<16 hex>.partial` beside OUT, renamed onto OUT when it
    finishes, removed when it fails; a killed run's partial is named on stderr, never written or removed."""
    src = corpus(tmp_path / "claims.jsonl", 20)
    out = tmp_path / "out.jsonl"
    killed = tmp_path / ".out.jsonl.0123456789abcdef.partial"   # what a killed run leaves
    killed.write_bytes(b'{"claim_id": "B00000"}\n')
    other = tmp_path / ".other.jsonl.0123456789abcdef.partial"  # another output's: not this run's business
    other.write_bytes(b"x")
    seen = []

    @contextlib.contextmanager
    def spy(path):  # the partial files beside OUT while the run writes
        with atomic_output(path) as fh:
            seen.extend(sorted(set(tmp_path.glob(".out.jsonl.*.partial")) - {killed}))
            yield fh

    monkeypatch.setattr(batch, "atomic_output", spy)
    rc, _, err = cli(capsys, "batch", src, "--out", out, "--ledger", ledger_target)
    assert rc == 1, err
    assert len(seen) == 1 and re.fullmatch(r"\.out\.jsonl\.[0-9a-f]{16}\.partial", os.path.basename(seen[0]))
    assert not os.path.exists(seen[0]) and out.exists()              # renamed onto OUT at the end
    assert f"kept the partial output of an earlier run: {killed}" in err and str(other) not in err
    assert killed.read_bytes() == b'{"claim_id": "B00000"}\n' and other.read_bytes() == b"x"
    # a run that fails leaves neither OUT nor its partial
    failed = tmp_path / "failed.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_output(failed) as fh:
            fh.write("half")
            raise RuntimeError("stopped")
    assert not failed.exists() and sorted(tmp_path.glob(".failed.jsonl.*")) == []
