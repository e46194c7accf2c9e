"""Time and memory of refusing each hostile claim (issue 14: within 2 s and 200 MB each).

    python benchmarks/hostile.py

For every file of tests/hostile/ (plus a FIFO, a 200 MB sparse file and a claim with a 20 MB
string made here): the CLI `adjudicate` in a fresh process (wall time and peak resident memory of
that process, via wait4), and the refusal alone inside a warm process (the gate's own time).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
sys.path.insert(0, str(ROOT))


CHILD = r"""
import atexit, os, runpy, sys
def report():
    hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:")).split()[1]
    with open(os.environ["HOSTILE_RSS_FILE"], "w") as fh:
        fh.write(hwm)
atexit.register(report)
sys.argv = ["adjudicator", "adjudicate", sys.argv[1]]
runpy.run_module("adjudicator", run_name="__main__")
"""


def cli_run(path: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KB, exit code) of `adjudicator adjudicate PATH` in a new process
    (its own VmHWM: a forked parent's pages are not counted)."""
    with tempfile.NamedTemporaryFile() as rss:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=dict(os.environ, HOSTILE_RSS_FILE=rss.name))
        wall = time.perf_counter() - t
        return wall, int(Path(rss.name).read_text() or 0), proc.returncode


def main() -> None:
    from adjudicator import ClaimError, adjudicate
    from adjudicator.engine.examples import load_bases, merge

    expected = json.loads(json.dumps(__import__("yaml").safe_load((HOSTILE / "expected.yaml").read_text())))
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp)
        os.mkfifo(extra / "fifo.yaml")
        with open(extra / "sparse_200mb.yaml", "wb") as fh:
            fh.truncate(200 * 2 ** 20)
        big = merge(load_bases()["fukuoka-cyber-2025"], {"losses": [{"category": "damages", "amount": 1,
                                                                      "note": "x" * 20_000_000}]})
        (extra / "string_20mb.json").write_text(json.dumps(big, default=str))
        files = [HOSTILE / n for n in sorted(expected)] + sorted(extra.iterdir())
        baseline = cli_run(ROOT / "scenarios" / "examples" / "fukuoka_seed_example.yaml")
        adjudicate(ROOT / "scenarios" / "examples" / "fukuoka_seed_example.yaml")  # warm: rulebook loaded
        print(f"{'file':<32} {'gate ms':>8} {'cli s':>7} {'cli peak RSS MB':>16} exit")
        print(f"{'(a valid claim, for reference)':<32} {'':>8} {baseline[0]:>7.2f} {baseline[1] / 1024:>16.1f} {baseline[2]}")
        worst_gate = worst_cli = worst_rss = 0.0
        for f in files:
            t = time.perf_counter()
            try:
                adjudicate(f)
                outcome = "DECIDED"
            except ClaimError:
                outcome = ""
            gate = (time.perf_counter() - t) * 1000
            wall, rss, code = cli_run(f)
            worst_gate, worst_cli, worst_rss = max(worst_gate, gate), max(worst_cli, wall), max(worst_rss, rss / 1024)
            print(f"{f.name:<32} {gate:>8.1f} {wall:>7.2f} {rss / 1024:>16.1f} {code} {outcome}")
        print(f"worst: gate {worst_gate:.1f} ms, cli {worst_cli:.2f} s, peak RSS {worst_rss:.1f} MB")


if __name__ == "__main__":
    main()
