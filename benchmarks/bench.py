"""Benchmark the full path: validate -> rules -> payouts -> decision JSON (and HTML rendering).

    python benchmarks/bench.py                 # 20,000 claims, one core and 2 workers
    python benchmarks/bench.py --claims 5000 --memory 1000000

Reports claims/s, median and p99 latency per claim, the time per stage (so the next
optimisation is evident), throughput with N worker processes through `adjudicator batch`, and
optionally resident memory over a long run. Figures go in the README.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adjudicator import coverage, facts, rete  # noqa: E402
from adjudicator.batch import run_batch  # noqa: E402
from adjudicator.catalogue import load_catalogue  # noqa: E402
from adjudicator.compile import compile_programme, referenced_fields  # noqa: E402
from adjudicator.decide import decide, to_json  # noqa: E402
from adjudicator.explain import render  # noqa: E402
from adjudicator.load import parse_claim  # noqa: E402
from adjudicator.rulebook import load_rulebook  # noqa: E402
from adjudicator.verify import load_bases  # noqa: E402

CATS = {"fukuoka-cyber-2025": ["damages", "litigation_costs", "forensic_investigation", "call_center", "condolence_gifts",
                               "public_notice", "data_recovery", "regulatory_response", "lost_profit", "fine_penalty"],
        "nagano-privacy-2016": ["damages", "mental_distress", "litigation_costs", "public_notice", "call_center",
                                "consulting", "condolence_gifts", "staff_costs", "forensic_investigation"],
        "jma-support": []}
FLAGS = ["war", "bodily_injury", "gross_negligence", "prior_knowledge", "utility_outage", "no_access_control"]


def make_corpus(n: int, seed: int = 7) -> list[dict]:
    """A reproducible mix of the three programmes, plans, facilities, causes, flags and 0–8 lines."""
    rnd = random.Random(seed)
    bases, cat = load_bases(), load_catalogue()
    out = []
    for i in range(n):
        prog = rnd.choice(list(CATS))
        c = copy.deepcopy(bases[prog])
        c["claim_id"] = f"BENCH-{i:07d}"
        if cat[prog].plans:
            c["policy"]["plan"] = rnd.choice(list(cat[prog].plans))
        if prog == "fukuoka-cyber-2025":
            c["policy"]["facility"] = rnd.choice(["clinic", "dental_clinic", "hospital", "care_facility"])
            c["incident"]["attack"]["status"] = rnd.choice(["confirmed", "suspected", "ruled_out"])
            c["incident"]["discovered_by"] = rnd.choice(["public_agency", "security_vendor", "self", "patient"])
        if prog == "jma-support":
            c["incident"]["closure_days"] = rnd.randint(0, 5)
        if rnd.random() < 0.15:
            c["incident"]["circumstances"] = [rnd.choice(FLAGS)]
        c["losses"] = [{"category": (cat_ := rnd.choice(CATS[prog])), "amount": rnd.randint(0, 30_000_000),
                        **({"persons": rnd.randint(1, 3000)} if cat_ == "mental_distress" else {})}
                       for _ in range(rnd.randint(0, 8) if CATS[prog] else 0)]
        out.append(c)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def single_core(corpus: list[dict], html: bool) -> dict:
    cat, book = load_catalogue(), load_rulebook()
    for c in corpus[:200]:  # warm-up: compile rulesets, fill caches
        to_json(decide(parse_claim(c, cat), book, cat))
    lat = []
    t_all = time.perf_counter()
    for c in corpus:
        t = time.perf_counter()
        claim = parse_claim(c, cat)
        d = decide(claim, book, cat)
        to_json(d)
        if html:
            render(d, fmt="html", lang="ja", claim=claim, book=book, catalogue=cat)
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t_all
    return {"claims_per_s": len(corpus) / wall, "median_us": statistics.median(lat) * 1e6, "p99_us": pct(lat, 0.99) * 1e6}


def stages(corpus: list[dict]) -> dict:
    cat, book = load_catalogue(), load_rulebook()
    acc = {k: 0.0 for k in ("validation", "facts", "rule_engine", "coverage", "payouts_and_decision",
                            "serialisation", "rendering_html")}
    for c in corpus:
        t0 = time.perf_counter()
        claim = parse_claim(c, cat)
        t1 = time.perf_counter()
        prog = cat[claim.programme]
        fs = facts.claim_facts(claim, prog, referenced_fields(book, prog))
        t2 = time.perf_counter()
        firings = rete.ruleset_for(compile_programme(book, prog)).run(fs)
        t3 = time.perf_counter()
        outcome = coverage.resolve(book, prog, firings, len(claim.losses))
        t4 = time.perf_counter()
        d = decide(claim, book, cat, outcome=outcome)
        t5 = time.perf_counter()
        to_json(d)
        t6 = time.perf_counter()
        render(d, fmt="html", lang="ja", claim=claim, book=book, catalogue=cat)
        t7 = time.perf_counter()
        for k, a, b in (("validation", t0, t1), ("facts", t1, t2), ("rule_engine", t2, t3), ("coverage", t3, t4),
                        ("payouts_and_decision", t4, t5), ("serialisation", t5, t6), ("rendering_html", t6, t7)):
            acc[k] += b - a
    return {k: v / len(corpus) * 1e6 for k, v in acc.items()}


def workers(corpus: list[dict], n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "claims.jsonl"
        src.write_text("\n".join(json.dumps(c, default=str) for c in corpus) + "\n", encoding="utf-8")
        out = Path(tmp) / "out.jsonl"
        t = time.perf_counter()
        run_batch(str(src), str(out), workers=n, progress=False)
        wall = time.perf_counter() - t
        return {"claims_per_s": len(corpus) / wall, "wall_s": wall, "sha_bytes": len(out.read_bytes())}


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def memory(corpus: list[dict], total: int) -> list[tuple[int, int]]:
    cat, book = load_catalogue(), load_rulebook()
    claims = [parse_claim(c, cat) for c in corpus[:1000]]
    samples = []
    for i in range(total):
        to_json(decide(claims[i % len(claims)], book, cat))
        if i % max(1, total // 10) == 0 or i == total - 1:
            samples.append((i + 1, rss_kb()))
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory", type=int, default=0, help="also run this many claims and sample RSS")
    args = ap.parse_args()
    corpus = make_corpus(args.claims)
    print(f"corpus: {len(corpus):,} synthetic claims (3 programmes, 0-8 loss lines), python {sys.version.split()[0]}")
    one = single_core(corpus, html=False)
    print(f"full path, 1 core:            {one['claims_per_s']:8,.0f} claims/s  median {one['median_us']:7.0f} µs  p99 {one['p99_us']:7.0f} µs")
    h = single_core(corpus[: max(2000, args.claims // 5)], html=True)
    print(f"full path + HTML, 1 core:     {h['claims_per_s']:8,.0f} claims/s  median {h['median_us']:7.0f} µs  p99 {h['p99_us']:7.0f} µs")
    st = stages(corpus[: max(2000, args.claims // 5)])
    print("time per claim by stage (µs): " + ", ".join(f"{k} {v:.0f}" for k, v in st.items()))
    b1 = workers(corpus, 1)
    bn = workers(corpus, args.workers)
    print(f"batch, 1 worker:              {b1['claims_per_s']:8,.0f} claims/s")
    print(f"batch, {args.workers} workers:             {bn['claims_per_s']:8,.0f} claims/s  ({bn['claims_per_s'] / b1['claims_per_s']:.2f}x)")
    if args.memory:
        s = memory(corpus, args.memory)
        print("RSS over the run (claims: KB): " + ", ".join(f"{n:,}: {kb:,}" for n, kb in s))
        after_warmup = s[1][1] if len(s) > 1 else s[0][1]
        print(f"growth after warm-up: {s[-1][1] - after_warmup:+,} KB")


if __name__ == "__main__":
    main()
