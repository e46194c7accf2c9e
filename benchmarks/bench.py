"""Benchmark the full path: validate -> rules -> payouts -> decision JSON (and HTML rendering).

    python benchmarks/bench.py                 # 20,000 claims, one core and 2 workers
    python benchmarks/bench.py --claims 5000 --memory 1000000
    python benchmarks/bench.py --cli-only [--cli-against /tmp/before]   # CLI start-up only (CPU s)

Reports claims/s, median and p99 latency per claim, the time per stage (so the next
optimisation is evident), throughput with N worker processes through `adjudicator batch`, and
optionally resident memory over a long run. Figures go in the README.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from adjudicator.engine import coverage, facts, rete  # noqa: E402
from adjudicator.runs.batch import run_batch  # noqa: E402
from adjudicator.policy.catalogue import load_catalogue  # noqa: E402
from adjudicator.decide import decide, to_json  # noqa: E402
from adjudicator.documents.render import render  # noqa: E402
from adjudicator.policy.claims import parse_claim  # noqa: E402
from adjudicator.engine.rulebook import load_rulebook  # noqa: E402

from corpus import make_corpus  # noqa: E402  (benchmarks/corpus.py: varied claims through the contract)


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
        compiled = book.compiled[prog.id]
        fs = facts.claim_facts(claim, prog, compiled.fields, compiled.line_claim_keys)
        t2 = time.perf_counter()
        firings = rete.ruleset_for(compiled.definition).run(fs)
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


def memory(corpus: list[dict], total: int, explain: bool = True, log=None) -> list[tuple[int, int]]:
    """RSS over `total` claims, input and output validation included on every claim. explain=False
    leaves out why_not and unclaimed_benefits (decide(..., explain=False)): with them a refused or
    cut claim costs about 375 times as much, so a million claims would take days. log(n, kb) is told
    of each sample as it is taken (a long run shows its progress)."""
    from adjudicator.contract.decision import Decision
    cat, book = load_catalogue(), load_rulebook()
    claims = corpus[:2000]
    samples = []
    for i in range(total):
        d = decide(parse_claim(claims[i % len(claims)], cat), book, cat, explain=explain)
        Decision.model_validate(d)
        to_json(d)
        if i % max(1, total // 10) == 0 or i == total - 1:
            samples.append((i + 1, rss_kb()))
            if log is not None:
                log(*samples[-1])
    return samples


def core_vs_full(claims: list, rounds: int = 5) -> dict:
    """CPU µs a claim of the full path (parse -> decide -> JSON) and of the C core alone on the same
    claims' facts (assert + firings + state release, nothing else), in alternating rounds."""
    import orjson
    cat, book = load_catalogue(), load_rulebook()
    core = rete._core
    payloads, handles = [], {}
    for c in claims:
        claim = parse_claim(c, cat)
        comp = book.compiled[claim.programme]
        fs = facts.claim_facts(claim, cat[claim.programme], comp.fields, comp.line_claim_keys)
        rs = rete.ruleset_for(comp.definition)
        if claim.programme not in handles:
            handles[claim.programme] = (core.create_ruleset(f"bench{claim.programme}", rs._json),
                                        core.create_ruleset(f"benchd{claim.programme}", rs._json))
        payloads.append((claim.programme, orjson.dumps([dict(f, sid="0") for f in fs]).decode()))

    def core_pass(retract: bool) -> float:
        t = time.process_time()
        for prog, p in payloads:
            h = handles[prog][0 if retract else 1]
            _, st = core.assert_facts(h, p)
            r = core.start_action_for_state(h, st)
            m = r[1] if r else None
            while m:
                m = core.complete_and_start_action(h, st)
            if retract:
                core.retract_facts(h, p)
            else:
                core.delete_state(h, "0")
        return time.process_time() - t

    def full_pass() -> float:
        # the decision path: the payment-omission checks (explain) re-run the engine for their own
        # search, so they are measured apart (explain_cost)
        t = time.process_time()
        for c in claims:
            to_json(decide(parse_claim(c, cat), book, cat, explain=False))
        return time.process_time() - t

    full_pass(), core_pass(True), core_pass(False)  # warm-up
    f, cr, cd = [], [], []
    for _ in range(rounds):
        f.append(full_pass())
        cr.append(core_pass(True))
        cd.append(core_pass(False))
    n = len(claims)
    full, core_r, core_d = (statistics.median(x) / n * 1e6 for x in (f, cr, cd))
    return {"full_us": full, "core_retract_us": core_r, "core_delete_us": core_d, "ratio": full / core_r}


def explain_cost(claims: list, rounds: int = 3) -> dict:
    """CPU µs a claim of the whole decision (with unclaimed_benefits and why_not) against the decision
    path alone, on the same claims in alternating rounds; and the why-not search's re-runs."""
    cat, book = load_catalogue(), load_rulebook()
    parsed = [parse_claim(c, cat) for c in claims]

    def one(explain: bool) -> float:
        t = time.process_time()
        for c in parsed:
            to_json(decide(c, book, cat, explain=explain))
        return time.process_time() - t

    one(True)  # warm-up
    with_, without = [], []
    for _ in range(rounds):
        with_.append(one(True))
        without.append(one(False))
    searched = []
    for c in parsed:
        d = decide(c, book, cat)
        for entry in [v for v in d["coverages"].values()] + d["lines"]:
            s = entry.get("why_not", {}).get("search")
            if s:
                searched.append(s)
                break
    n = len(parsed)
    return {"with_us": statistics.median(with_) / n * 1e6, "without_us": statistics.median(without) / n * 1e6,
            "searched": len(searched), "n": n,
            "reruns_mean": statistics.mean(s["evaluated"] for s in searched) if searched else 0,
            "incomplete": sum(not s["complete"] for s in searched)}


def html_cost(claims: list) -> float:
    cat, book = load_catalogue(), load_rulebook()
    ds = [(parse_claim(c, cat), None) for c in claims]
    ds = [(cl, decide(cl, book, cat)) for cl, _ in ds]
    render(ds[0][1], fmt="html", lang="ja", claim=ds[0][0], book=book, catalogue=cat)
    t = time.process_time()
    for cl, d in ds:
        render(d, fmt="html", lang="ja", claim=cl, book=book, catalogue=cat)
    return (time.process_time() - t) / len(ds) * 1e6


def per_line_cost(base: dict, max_lines: int = 50, reps: int = 200, explain: bool = True) -> float:
    """µs of CPU per extra loss line: the slope of a least-squares fit over 0..max_lines lines (explain:
    the whole decision, why-not and unclaimed benefits included; else the decision path alone)."""
    cat, book = load_catalogue(), load_rulebook()
    cats = ["damages", "call_center", "forensic_investigation", "public_notice", "condolence_gifts"]
    xs, ys = [], []
    for n in range(0, max_lines + 1, 5):
        c = json.loads(json.dumps(base))
        c["losses"] = [{"category": cats[i % len(cats)], "amount": 10_000 + i} for i in range(n)]
        claim = parse_claim(c, cat)
        to_json(decide(claim, book, cat, explain=explain))
        t = time.process_time()
        for _ in range(reps):
            to_json(decide(parse_claim(c, cat), book, cat, explain=explain))
        xs.append(n)
        ys.append((time.process_time() - t) / reps * 1e6)
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


CLI_COMMANDS = (("adjudicate", "adjudicate (warm rulebook cache)", 0.2), ("rules check", "rules check", 0.5))


def cli_startup(sample: Path, runs: int = 9, against: Path | None = None) -> dict:
    """CPU seconds (user + sys of the child, median of `runs`) and wall seconds of one `adjudicator
    adjudicate SAMPLE` on a warm rulebook cache and one `adjudicator rules check`. One run of each
    first, not counted: it fills the rulebook and catalogue caches and writes the bytecode (as an
    installed package has it; this machine sets PYTHONDONTWRITEBYTECODE). With `against` (a checkout
    of another commit, e.g. `git worktree add /tmp/before COMMIT`), its code runs in the same loop,
    each run paired with one of this tree's: the ratio holds on a loaded machine."""
    exe = [sys.executable, "-m", "adjudicator"]
    trees = [("now", ROOT)] + ([("before", against)] if against else [])
    warm_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = {}
    for name, label, target in CLI_COMMANDS:
        args = ["adjudicate", str(sample)] if name == "adjudicate" else name.split()
        got = {tree: ([], []) for tree, _ in trees}
        for _, cwd in trees:
            subprocess.run(exe + args, cwd=cwd, capture_output=True, check=True, env=warm_env)
        for _ in range(runs):
            for tree, cwd in trees:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                subprocess.run(exe + args, cwd=cwd, capture_output=True, check=True)
                got[tree][0].append(time.perf_counter() - t)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                got[tree][1].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out[label] = {"target": target, **{tree: {"wall": statistics.median(w), "cpu": statistics.median(c)}
                                           for tree, (w, c) in got.items()}}
    return out


def print_cli_startup(sample: Path, runs: int, against: Path | None) -> None:
    load = os.getloadavg()[0]
    for label, r in cli_startup(sample, runs, against).items():
        now = r["now"]
        line = (f"CLI {label + ':':<33} {now['cpu']:.3f} s CPU, {now['wall']:.3f} s wall (median of {runs}; "
                f"target {r['target']} s CPU: {'met' if now['cpu'] < r['target'] else 'NOT met'})")
        if "before" in r:
            line += f"; before {r['before']['cpu']:.3f} s CPU: {r['before']['cpu'] / now['cpu']:.2f}x"
        print(line)
    print(f"(load average {load:.1f} when the CLI runs began)")


def ledger_batch(corpus: list[dict]) -> float:
    from adjudicator.ledger import Ledger
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "claims.jsonl"
        src.write_text("\n".join(json.dumps(c, default=str) for c in corpus) + "\n", encoding="utf-8")
        with Ledger(str(Path(tmp) / "ledger.sqlite")) as ledger:
            t = time.perf_counter()
            run_batch(str(src), str(Path(tmp) / "out.jsonl"), ledger=ledger, progress=False, recorded_by="bench")
            return len(corpus) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claims", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--memory", type=int, default=0, help="also run this many claims and sample RSS")
    ap.add_argument("--cli-only", action="store_true", help="only the CLI start-up figures")
    ap.add_argument("--cli-runs", type=int, default=9, help="runs of each CLI command (the median is shown)")
    ap.add_argument("--cli-against", type=Path, help="a checkout of another commit to pair the CLI runs with")
    ap.add_argument("--memory-only", action="store_true", help="only the memory run (--memory N)")
    ap.add_argument("--no-explain", action="store_true",
                    help="the memory run without why_not and unclaimed_benefits (decide(..., explain=False))")
    args = ap.parse_args()
    sample = ROOT / "docs" / "samples" / "claims" / "fukuoka_s1000_combined_cap.yaml"
    if args.cli_only:
        print_cli_startup(sample, args.cli_runs, args.cli_against)
        return
    corpus = make_corpus(args.claims, seed=args.seed)
    if args.memory_only:
        return memory_run(corpus, args)
    lines = [len(c["losses"]) for c in corpus]
    print(f"corpus: {len(corpus):,} claims (seed {args.seed}; benchmarks/corpus.py), {statistics.mean(lines):.1f} "
          f"lines a claim (max {max(lines)}), python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    r = core_vs_full(corpus[:2000])
    print(f"CPU a claim: full path {r['full_us']:.0f} µs; C core alone {r['core_retract_us']:.0f} µs "
          f"(retracting, as the path drives it; {r['core_delete_us']:.0f} µs with delete_state per claim)")
    print(f"RATIO full path / C core: {r['ratio']:.2f}")
    e = explain_cost(corpus[:300])
    print(f"with the payment-omission checks (unclaimed benefits, why-not): {e['with_us']:,.0f} µs CPU a claim "
          f"against {e['without_us']:,.0f} µs without, over {e['n']} claims; {e['searched']} of them searched "
          f"(something refused or cut), {e['reruns_mean']:.0f} re-runs on average, {e['incomplete']} stopped at the bound")
    one = single_core(corpus, html=False)
    print(f"whole decision (why-not incl.), 1 core: {one['claims_per_s']:8,.0f} claims/s  p50 {one['median_us']:7.0f} µs  p99 {one['p99_us']:7.0f} µs")
    print(f"HTML rendering:               {html_cost(corpus[:500]):8.0f} µs a decision (CPU)")
    st = stages(corpus[: max(1000, args.claims // 5)])
    print("time per claim by stage (µs; payouts_and_decision holds the why-not search): " + ", ".join(f"{k} {v:.0f}" for k, v in st.items()))
    print(f"µs per extra loss line:       {per_line_cost(corpus[0], explain=False):8.1f} (decision path); "
          f"{per_line_cost(corpus[0]):.1f} (the whole decision, with why-not)")
    b1 = workers(corpus, 1)
    bn = workers(corpus, args.workers)
    print(f"batch, 1 worker:              {b1['claims_per_s']:8,.0f} claims/s")
    print(f"batch, {args.workers} workers:             {bn['claims_per_s']:8,.0f} claims/s  ({bn['claims_per_s'] / b1['claims_per_s']:.2f}x)")
    print(f"batch with a SQLite ledger:   {ledger_batch(corpus):8,.0f} claims/s")
    print_cli_startup(sample, args.cli_runs, args.cli_against)
    if args.memory:
        memory_run(corpus, args)


def memory_run(corpus: list[dict], args) -> None:
    t0, c0 = time.perf_counter(), time.process_time()

    def log(n: int, kb: int) -> None:
        print(f"  RSS at claim {n:,}: {kb:,} KB ({time.perf_counter() - t0:,.0f} s wall, "
              f"{time.process_time() - c0:,.0f} s CPU, load {os.getloadavg()[0]:.1f})", flush=True)

    print(f"memory: {args.memory:,} claims, input and output validation on each, "
          f"{'without' if args.no_explain else 'with'} why_not and unclaimed_benefits", flush=True)
    s = memory(corpus, args.memory, explain=not args.no_explain, log=log)
    print("RSS over the run (claims: KB): " + ", ".join(f"{n:,}: {kb:,}" for n, kb in s))
    after_warmup = s[1][1] if len(s) > 1 else s[0][1]
    print(f"growth after warm-up: {s[-1][1] - after_warmup:+,} KB")


if __name__ == "__main__":
    main()
