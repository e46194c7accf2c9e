"""The second hostile probe's findings on the server and the CLI (N8, N15): a real `adjudicator serve` on a
free port spoken to over raw sockets (a client that leaves mid-body, one that sends its body too slowly,
terminal escapes in the path), and `audit list --since/--until` on a real SQLite ledger."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from ledger_support import claim_data, cli
from support import ROOT

from adjudicator.decide import decide
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.ledger import Ledger
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BODY_SECONDS = 2  # the server's body-read timeout in these tests (ADJUDICATOR_BODY_TIMEOUT; 30 by default)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        token = led.add_user("h1", "handler")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(port), "--ledger", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ADJUDICATOR_BODY_TIMEOUT": str(BODY_SECONDS)})
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    srv = type("Srv", (), {"port": port, "token": token, "proc": proc})()
    yield srv
    if proc.poll() is None:
        proc.terminate()
        proc.communicate(timeout=20)


def _stop(srv) -> str:
    srv.proc.terminate()
    return srv.proc.communicate(timeout=20)[1]


def _exchange(port: int, data: bytes, timeout: float = 15) -> tuple[bytes, float]:
    """Send `data`, read until the server closes (or `timeout`): (what came back, seconds it took)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(data)
        out = b""
        try:
            while chunk := c.recv(65536):
                out += chunk
        except socket.timeout:
            pass
    return out, time.monotonic() - start


def _post(path: str, length: int, headers: str = "", content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n{headers}\r\n").encode()


# ---------------------------------------------------------------------------- N8: audit list dates
def test_audit_list_takes_dates_as_yyyy_mm_dd_and_date_times_in_utc(tmp_path, capsys):
    path = str(tmp_path / "ledger.sqlite")
    catalogue, book = load_catalogue(), load_rulebook()
    with Ledger(path) as led:
        for cid, at in (("N8-A", "2026-03-04T12:00:00.000000+00:00"), ("N8-B", "2026-03-05T09:30:00.000000+00:00")):
            data = claim_data(cid)
            led.record(data, parse_claim(data, catalogue), catalogue, lambda c, note: decide(c, book, catalogue, note),
                       recorded_at=at, recorded_by="test")

    def listed(*opts):
        rc, out, err = cli(capsys, "audit", "list", "--ledger", path, "--format", "json", *opts)
        assert rc == 0, err
        return [r["claim_id"] for r in json.loads(out)]
    assert listed("--since", "2026-03-05") == ["N8-B"] and listed("--until", "2026-03-04") == ["N8-A"]
    # the same instants with an offset: 21:00+09:00 is 12:00Z; both bounds include the instant itself
    assert listed("--since", "2026-03-04T21:00+09:00") == ["N8-A", "N8-B"]
    assert listed("--since", "2026-03-04T21:00:01+09:00") == ["N8-B"]
    assert listed("--until", "2026-03-04T21:00+09:00") == ["N8-A"]
    assert listed("--until", "2026-03-05T04:29:59-05:00") == ["N8-A"]
    assert listed("--until", "2026-03-05T09:30Z") == ["N8-A", "N8-B"]
    assert listed("--since", "2026-03-05T09:30:00") == ["N8-B"]  # no offset: UTC, as recorded_at is
    assert listed("--until", "9999-12-31T23:00-05:00") == ["N8-A", "N8-B"]
    for opt, bad in (("--since", "20260101"), ("--since", "2026-W01-1"), ("--until", "20260304"),
                     ("--until", "2026-03-04T2100"), ("--since", "2026-063"), ("--since", "2026-13-01")):
        rc, out, err = cli(capsys, "audit", "list", "--ledger", path, "--format", "json", opt, bad)
        assert rc == 2 and f"{opt[2:]}: expected a date YYYY-MM-DD" in err and repr(bad) in err, (opt, bad, rc, err)
