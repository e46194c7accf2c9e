"""Benchmark the ledger (issue 13): `batch --ledger` throughput, and what one claim costs to record at
1,000 and at 100,000 earlier records on the same policy - on SQLite and on PostgreSQL (a throwaway
pgserver, default durability: every commit waits for the disk).

    python benchmarks/ledger_bench.py                       # both backends, 5,000 batch claims, 1k / 100k
    python benchmarks/ledger_bench.py --backends sqlite --sizes 1000,10000 --claims 2000

Figures go in the README.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from adjudicator.decide import decide  # noqa: E402
from adjudicator.engine.examples import load_bases, merge  # noqa: E402
from adjudicator.engine.rulebook import load_rulebook  # noqa: E402
from adjudicator.ledger import Ledger  # noqa: E402
from adjudicator.policy.catalogue import load_catalogue  # noqa: E402
from adjudicator.policy.claims import parse_claim  # noqa: E402
from adjudicator.runs.batch import run_batch  # noqa: E402

CATALOGUE, BOOK = load_catalogue(), load_rulebook()


_BASE = merge(load_bases()["fukuoka-cyber-2025"], {"policy": {"plan": "S3"}})


def claim(i: int, policy: str) -> dict:
    data = copy.deepcopy(_BASE)
    data.update(claim_id=f"LB-{i:07d}", losses=[{"category": "call_center", "amount": 10_000 + i % 1000},
                                               {"category": "forensic_investigation", "amount": 50_000}])
    data["policy"]["policy_number"] = policy
    return data


def corpus(path: Path, n: int, policies: int, start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps(claim(i, f"FK-{i % policies}"), default=str) + "\n")
    return path


def target(backend: str, name: str, work: Path, pg) -> str:
    if backend == "sqlite":
        return str(work / f"{name}.sqlite")
    import psycopg
    with psycopg.connect(pg.get_uri(), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return pg.get_uri().replace("/postgres?", f"/{name}?", 1)


def bench_batch(backend: str, n: int, work: Path, pg, src: Path | None = None) -> dict:
    """(wall claims/s, CPU claims/s) of a batch without a ledger, with one, and its rerun (all skipped).
    CPU is this process's only: PostgreSQL's server works in its own processes."""
    src = src or corpus(work / f"batch-{backend}.jsonl", n, policies=50)

    def timed(**kw) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        run_batch(str(src), str(work / "out.jsonl"), progress=False, **kw)
        return n / (time.perf_counter() - t0), n / (time.process_time() - c0)

    plain = timed()
    with Ledger(target(backend, f"batch_{backend}_{int(time.time() * 1000) % 10**9}", work, pg)) as ledger:
        with_ledger = timed(ledger=ledger, recorded_by="bench")
        resume = timed(ledger=ledger, recorded_by="bench", stats={})
    return {"without ledger": plain, "with ledger": with_ledger, "rerun (all skipped)": resume}


def bench_record_cost(backend: str, sizes: list[int], samples: int, work: Path, pg) -> dict:
    """Fill one policy to each size (batch, group commits), then record `samples` claims on it one
    transaction each: the time of Ledger.record, and the part of it spent deciding."""
    out = {}
    with Ledger(target(backend, f"cost_{backend}", work, pg)) as ledger:
        filled = 0
        for size in sizes:
            if size > filled:
                src = corpus(work / f"fill-{backend}.jsonl", size - filled, policies=1, start=filled)
                t0 = time.perf_counter()
                run_batch(str(src), str(work / "fill.jsonl"), ledger=ledger, progress=False, recorded_by="bench")
                print(f"  {backend}: filled to {size:,} records on one policy in {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr)
                filled = size
            totals, decide_times = [], []

            def timed_decide(c, note):
                t = time.perf_counter()
                d = decide(c, BOOK, CATALOGUE, note)
                decide_times.append(time.perf_counter() - t)
                return d

            for k in range(samples):
                data = claim(10_000_000 + size + k, "FK-0")
                parsed = parse_claim(data, CATALOGUE)
                t0 = time.perf_counter()
                ledger.record(data, parsed, CATALOGUE, timed_decide, recorded_by="bench")
                totals.append(time.perf_counter() - t0)
            med, dec = statistics.median(totals), statistics.median(decide_times)
            # the same inside one group transaction: the ledger's own work per claim, without the commit
            grouped, decide_times = [], []
            with ledger.group():
                for k in range(samples):
                    data = claim(20_000_000 + size + k, "FK-0")
                    parsed = parse_claim(data, CATALOGUE)
                    t0 = time.perf_counter()
                    ledger.record(data, parsed, CATALOGUE, timed_decide, recorded_by="bench")
                    grouped.append(time.perf_counter() - t0)
            filled += 2 * samples
            gmed, gdec = statistics.median(grouped), statistics.median(decide_times)
            out[size] = {"record (one transaction, with commit)": med, "of which deciding": dec,
                         "p99": sorted(totals)[int(0.99 * (len(totals) - 1))],
                         "in a group (no commit)": gmed, "ledger work without deciding": gmed - gdec}
        t0 = time.perf_counter()
        ok, msg = ledger.verify()
        out["verify"] = {"records": ledger.head()[0], "seconds": time.perf_counter() - t0, "ok": ok}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--claims", type=int, default=5000, help="claims in the batch throughput run")
    ap.add_argument("--sizes", default="1000,100000", help="earlier records on the policy when measuring one claim")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--corpus", type=int, default=0, help="also batch this many claims of benchmarks/corpus.py")
    ap.add_argument("--batch-only", action="store_true", help="only the batch throughput runs")
    args = ap.parse_args()
    backends = args.backends.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    pg = None
    if "postgresql" in backends:
        import pgserver
        pg = pgserver.get_server(tempfile.mkdtemp(prefix="ledger-bench-pg-"), cleanup_mode="stop")
    try:
        for backend in backends:
            b = bench_batch(backend, args.claims, work, pg)
            print(f"{backend}: batch of {args.claims:,} claims (load {os.getloadavg()[0]:.1f}): "
                  + ", ".join(f"{k} {w:,.0f} claims/s wall ({c:,.0f} of CPU)" for k, (w, c) in b.items()))
            if args.corpus:  # the benchmark corpus (benchmarks/corpus.py): every programme, many refusals
                from corpus import make_corpus
                src = work / "corpus.jsonl"
                src.write_text("".join(json.dumps(c, default=str) + "\n" for c in make_corpus(args.corpus, seed=7)),
                               encoding="utf-8")
                b = bench_batch(backend, args.corpus, work, pg, src)
                print(f"{backend}: batch of {args.corpus:,} corpus claims (seed 7; load {os.getloadavg()[0]:.1f}): "
                      + ", ".join(f"{k} {w:,.1f} claims/s wall ({c:,.1f} of CPU)" for k, (w, c) in b.items()))
            if args.batch_only:
                continue
            cost = bench_record_cost(backend, sizes, args.samples, work, pg)
            for size in sizes:
                c = cost[size]
                print(f"{backend}: one claim at {size:,} earlier records on its policy: "
                      + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in c.items()))
            v = cost["verify"]
            print(f"{backend}: verify {v['records']:,} records: {v['seconds']:.1f} s ({'OK' if v['ok'] else 'FAILED'})")
    finally:
        if pg is not None:
            pg.cleanup()


if __name__ == "__main__":
    main()
