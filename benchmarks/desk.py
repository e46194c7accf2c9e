"""How fast the claims desk's pages load over a ledger of N records (issue 12: under 200 ms for 10,000).

    python benchmarks/desk.py                     # 10,000 records, 20 loads per page
    python benchmarks/desk.py --records 2000 --loads 5

Builds a throwaway SQLite ledger of N real records (claims of the three programmes from bench.py's
corpus, on 500 policies, one in ten re-adjudicated; a fifth of the N records are payment-clock steps
(completion dates over a year, so part of the work list is overdue); every record decided by the engine once per
distinct claim shape (one in seven missing facts the engine then asks for) and recorded through Ledger.record, so the hash chain and prior payments are
real), starts a real `adjudicator serve` on a free localhost port, logs in as each role, and times
each page's GET (server + loopback, the client on the same machine): median, p95, max in ms.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import make_corpus  # noqa: E402

from adjudicator.decide import decide  # noqa: E402
from adjudicator.engine.rulebook import load_rulebook  # noqa: E402
from adjudicator.ledger import Ledger  # noqa: E402
from adjudicator.policy.catalogue import load_catalogue  # noqa: E402
from adjudicator.policy.claims import parse_claim  # noqa: E402


def build(path: Path, n: int) -> dict:
    cat, book = load_catalogue(), load_rulebook()
    corpus = [c for c in make_corpus(200) if c.get("programme")]
    cache: dict = {}
    with Ledger(str(path)) as led:
        tokens = {r: led.add_user(f"{r}-1", r) for r in ("handler", "underwriter", "auditor")}
        t0 = time.perf_counter()
        decisions = n - n // 5  # the last fifth of the records are payment-clock steps (issue 20)
        for i in range(decisions):
            raw = dict(corpus[i % len(corpus)])
            readj = i % 10 == 9
            raw["claim_id"] = f"BENCH-{i - 1 if readj else i:06d}"
            raw["policy"] = dict(raw["policy"], policy_number=f"POL-{i % 500:04d}")
            raw.pop("prior_payments", None)
            if i % 7 == 3:  # some claims wait for a fact: the engine asks (needs_information)
                raw["incident"] = {k: v for k, v in raw["incident"].items() if k not in ("evidence", "discovered_by")}
            claim = parse_claim(raw, cat)

            def decide_fn(c, note, key=i % len(corpus)):
                # one engine run per claim shape and prior-payments state; the id is the record's own
                k = (key, json.dumps(note, sort_keys=True, default=str))
                if k not in cache:
                    cache[k] = decide(c, book, cat, note)
                return dict(cache[k], claim_id=c.claim_id)
            led.record(raw, claim, cat, decide_fn, readjudicate=readj, recorded_by="handler-1")
        ids = sorted({r["claim_id"] for r in led.search(limit=None)[1]})
        for k in range(n - decisions):  # completion dates spread over a year: some overdue, some not
            day = (dt.date(2025, 6, 1) + dt.timedelta(days=k % 400)).isoformat()
            led.clock(ids[(k * 7) % len(ids)], "complete", {"completed_on": day}, cat, by="handler-1")
        print(f"ledger: {n:,} records in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login(base: str, token: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    page = c.get("/desk/en/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = c.post("/desk/en/login", data={"csrf": csrf, "token": token})
    assert r.status_code == 303, r.text
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--loads", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.sqlite"
        tokens = build(path, args.records)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(port), "--ledger",
                                 str(path)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=dict(os.environ))
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/api/v1/health", timeout=2)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the server did not start")
                    time.sleep(0.2)
            clients = {r: login(base, t) for r, t in tokens.items()}
            last = args.records
            pages = [("handler", "/desk/en/claims/new"), ("handler", "/desk/ja/work"),
                     ("handler", "/desk/en/work?scope=all&page=20"),
                     ("auditor", "/desk/en/ledger"), ("auditor", "/desk/en/ledger?page=150"),
                     ("auditor", "/desk/en/ledger?policy_number=POL-0042"),
                     ("auditor", "/desk/en/ledger?claim_id=BENCH-0099"),
                     ("auditor", "/desk/en/ledger?status=needs_information"),
                     ("auditor", "/desk/en/ledger?date_from=2000-01-01&date_to=2100-01-01&status=unpaid"),
                     ("auditor", "/desk/en/ledger/policy/POL-0042"), ("auditor", f"/desk/en/ledger/records/{last}"),
                     ("auditor", "/desk/en/ledger/export?format=csv&policy_number=POL-0042"),
                     ("underwriter", "/desk/ja/rules"), ("underwriter", "/desk/en/scenarios")]
            print(f"{'page':<72} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
            worst = 0.0
            for role, url in pages:
                c = clients[role]
                assert c.get(url).status_code == 200, url  # warm
                times = []
                for _ in range(args.loads):
                    t = time.perf_counter()
                    r = c.get(url)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, (url, r.status_code)
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                worst = max(worst, statistics.median(times))
                print(f"{role + ' ' + url:<72} {statistics.median(times):7.1f} {p95:7.1f} {times[-1]:7.1f}")
            print(f"slowest median: {worst:.1f} ms (target: under 200 ms)")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
