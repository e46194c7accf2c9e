"""Bounded load test of `adjudicator serve` on localhost (issue 11).

    python benchmarks/load.py                       # 30 s per phase, 16 clients
    python benchmarks/load.py --seconds 5 --clients 8

Phases, each against a fresh server on a free port with a throwaway SQLite ledger:
  workers 1 and 2 × record=false / record=true: claims/s, p50/p99 latency, errors (must be 0);
  then a hostile mix (malformed, oversized, unauthenticated, invalid claims among good ones): each
  bad request must get its 4xx and every good one its 200 — the server keeps serving.
Traffic goes to 127.0.0.1 only; every phase stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import json
import os
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

from adjudicator.ledger import Ledger  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers: int):
        self.dir = tempfile.TemporaryDirectory()
        self.ledger = os.path.join(self.dir.name, "ledger.sqlite")
        with Ledger(self.ledger) as led:
            self.token = led.add_user("load", "handler")
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(self.port),
                                      "--ledger", self.ledger, "--workers", str(workers)],
                                     cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.dir.cleanup()


def hostile(token: str) -> list[tuple[dict, bytes, int]]:
    """(headers, body, expected status) of requests the server must refuse and survive."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return [
        (auth, b"{", 400),
        (auth, b"\xff\xfe\x00", 400),
        (auth, b"{" + b" " * (1024 * 1024 + 10) + b"}", 413),
        ({"Content-Type": "application/json"}, b"{}", 401),
        ({"Authorization": "Bearer wrong"}, b"{}", 401),
        (auth, json.dumps({"programme": "fukuoka-cyber-2025"}).encode(), 422),
        (auth, b"[" * 5000, 400),  # unclosed: malformed JSON, refused before any nesting is built
    ]


async def phase(server: Server, seconds: float, clients: int, record: bool, mix: bool) -> dict:
    corpus = make_corpus(2000, seed=11)
    counter = itertools.count()
    lat: list[float] = []
    errors = unexpected = bad_sent = 0
    wrong: dict[str, int] = {}  # expected->got status of each hostile request not refused as it should be
    auth = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
    bad = hostile(server.token)
    url = f"{server.base}/adjudicate" + ("?record=true" if record else "")
    stop = time.monotonic() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors, unexpected, bad_sent
        while time.monotonic() < stop:
            i = next(counter)
            if mix and i % 3 == 0:
                headers, body, want = bad[i % len(bad)]
                bad_sent += 1
                try:
                    got = (await http.post(url, content=body, headers=headers)).status_code
                except httpx.HTTPError as exc:  # e.g. the server closed the connection: it must not
                    got = type(exc).__name__
                if got != want:
                    unexpected += 1
                    wrong[f"{want}->{got}"] = wrong.get(f"{want}->{got}", 0) + 1
                continue
            claim = copy.deepcopy(corpus[i % len(corpus)])
            claim["claim_id"] = f"LOAD-{i:08d}"
            t0 = time.perf_counter()
            try:
                r = await http.post(url, content=json.dumps(claim, default=str).encode(), headers=auth)
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            lat.append(time.perf_counter() - t0)
            errors += not ok

    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    wall = time.perf_counter() - t0
    lat.sort()
    return {"requests_per_s": round(len(lat) / wall, 1), "good_requests": len(lat),
            "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "p99_ms": round(lat[int(0.99 * (len(lat) - 1))] * 1000, 1) if lat else None,
            "errors": errors, **({"hostile_sent": bad_sent, "hostile_unexpected": unexpected, "wrong": wrong} if mix else {}),
            "seconds": round(wall, 1), "load_avg": round(os.getloadavg()[0], 1)}  # the machine is shared


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    args.seconds = min(args.seconds, 120.0)  # bounded, whatever is asked
    results = {}
    for workers in (1, 2):
        server = Server(workers)
        try:
            for record in (False, True):
                results[f"workers={workers} record={record}"] = asyncio.run(
                    phase(server, args.seconds, args.clients, record, mix=False))
            results[f"workers={workers} hostile mix"] = asyncio.run(
                phase(server, args.seconds, args.clients, False, mix=True))
        finally:
            server.stop()
    for name, r in results.items():
        print(f"{name:<28} " + "  ".join(f"{k}={v}" for k, v in r.items()))
    failed = any(r["errors"] or r.get("hostile_unexpected") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
