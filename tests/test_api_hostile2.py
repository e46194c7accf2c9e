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


def test_a_client_that_leaves_mid_body_is_one_log_line_and_a_slow_body_gets_408(server):
    auth = f"Authorization: Bearer {server.token}\r\n"
    # leaves after 1 of 100 bytes
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
        c.sendall(_post("/api/v1/adjudicate", 100, auth) + b"{")
    time.sleep(0.5)
    # 1 of 100 bytes, then nothing: 408 within the timeout (plus slack), and the connection is closed
    out, took = _exchange(server.port, _post("/api/v1/adjudicate", 100, auth) + b"{")
    assert out.startswith(b"HTTP/1.1 408 "), out[:200]
    assert b'"request_timeout"' in out and BODY_SECONDS - 0.5 < took < BODY_SECONDS + 8, (out[-300:], took)
    # a byte now and then does not keep it open: the timeout counts from the first read, not per read
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as c:
        c.sendall(_post("/api/v1/adjudicate", 100, auth))
        got = b""
        for _ in range(20):
            try:
                c.sendall(b" ")
            except OSError:
                break
            c.settimeout(0.5)
            try:
                got += c.recv(65536)
                if got:
                    break
            except socket.timeout:
                pass
    assert got.startswith(b"HTTP/1.1 408 ") and time.monotonic() - start < BODY_SECONDS + 8, got[:200]
    # the server still answers, and a whole body is read as before
    body = b"{}"
    out, _ = _exchange(server.port, _post("/api/v1/adjudicate", len(body), auth + "Connection: close\r\n") + body)
    assert out.startswith(b"HTTP/1.1 422 "), out[:200]
    log = _stop(server)
    assert "Traceback" not in log and "internal error" not in log and "Exception" not in log, log
    left = [ln for ln in log.splitlines() if "disconnected" in ln]
    assert len(left) == 1 and "POST /api/v1/adjudicate" in left[0], log
    assert len([ln for ln in log.splitlines() if "did not arrive within" in ln]) == 2, log


def test_a_slow_desk_form_gets_a_408_page(server):
    # a logged-in desk session: the login page's CSRF token and cookie, then the login form
    out, _ = _exchange(server.port, b"GET /desk/en/login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    cookie = re.search(rb"set-cookie: (desk_session=[^;]+)", out, re.I).group(1).decode()
    csrf = re.search(rb'name="csrf" value="([^"]+)"', out).group(1).decode()
    form = f"csrf={csrf}&token={server.token}".encode()
    out, _ = _exchange(server.port, _post("/desk/en/login", len(form), f"Cookie: {cookie}\r\nConnection: close\r\n",
                                          "application/x-www-form-urlencoded") + form)
    assert out.startswith(b"HTTP/1.1 303 "), out[:300]
    cookie = re.search(rb"set-cookie: (desk_session=[^;]+)", out, re.I).group(1).decode()
    out, took = _exchange(server.port, _post("/desk/en/claims/decide", 100, f"Cookie: {cookie}\r\n",
                                             "application/x-www-form-urlencoded") + b"c")
    assert out.startswith(b"HTTP/1.1 408 ") and b"took too long to arrive" in out, out[:600]
    assert took < BODY_SECONDS + 8
    log = _stop(server)
    assert "Traceback" not in log and "internal error" not in log, log


def test_control_and_bidi_characters_of_a_path_are_escaped_in_the_log(server):
    for path in ("/desk/en/x%1b%5b31mRED%1b%5b0m", "/api/v1/y%E2%80%AEtxt.exe", "/api/v1/z%C2%85%E2%80%A8w"):
        out, _ = _exchange(server.port, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        assert out.startswith(b"HTTP/1.1 404 "), out[:200]
    out, _ = _exchange(server.port, f"GET /api/v1/{'x' * 10_000} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    log = _stop(server)
    assert "\x1b" not in log and "\u202e" not in log and "\x85" not in log and "\u2028" not in log, repr(log)
    assert "GET /desk/en/x\\u001b[31mRED\\u001b[0m 404" in log and "GET /api/v1/y\\u202etxt.exe 404" in log, log
    assert "GET /api/v1/z\\u0085\\u2028w 404" in log, log
    long_line = next(ln for ln in log.splitlines() if "xxxx" in ln)
    assert len(long_line) < 500 and "…" in long_line, len(long_line)


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


def _get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_damaged_ledger_is_a_503_that_never_names_the_servers_path(server, tmp_path):
    """Left by the last session: a busy or damaged ledger's message carried the SQLite path to the client."""
    import sqlite3
    path = tmp_path / "ledger.sqlite"
    assert _get(server.port, "/api/v1/claims/NOPE-1", server.token)[0] == 404   # the ledger works
    with sqlite3.connect(path) as db:          # the damage: a table gone under the running service
        db.execute("DROP TABLE records")
        db.execute("DROP TABLE claim_state")
    status, body = _get(server.port, "/api/v1/claims/NOPE-1", server.token)
    err = json.loads(body)
    assert status == 503 and err["error"] == "ledger_unavailable"
    assert err["message"].startswith("the service's ledger") and "records" in err["message"]
    assert str(tmp_path) not in body.decode() and "ledger.sqlite" not in body.decode()
    status, body = _get(server.port, "/api/v1/claims/NOPE-1/handling", server.token)
    assert status == 503 and str(tmp_path) not in body.decode(), body
    log = _stop(server)
    assert "Traceback" not in log
