"""The hostile probe's findings on the API, the ledger's lookups and the CLI's identity and terminal
text (F1, F2, F9, F10, F13, F15): a real `adjudicator serve` on a free port, the desk and the API on
real SQLite and PostgreSQL ledgers, the CLI as real OS accounts."""
from __future__ import annotations

import http.client
import json
import os
import pwd
import socket
import stat
import subprocess
import sys
import time
import warnings

import pytest

from ledger_support import claim_data, cli, is_pg, record
from support import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from adjudicator.ledger import Ledger, LedgerError
from adjudicator.service.app import create_app
from adjudicator.service.settings import Settings

REFUSED = {"losses": [{"category": "fine_penalty", "amount": 100_000}]}  # 000 §2 ※罰金: waits for a second review
HUGE = "99999999999999999999999"  # beyond 64 bits


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`adjudicator serve` on a free port; one keep-alive connection (a 500 used to drop it)."""

    def __init__(self, ledger: str):
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(self.port),
                                      "--ledger", ledger], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("GET", "/api/v1/health")
                assert self.conn.getresponse().read()
                return
            except (ConnectionError, OSError):
                assert self.proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)

    def call(self, method: str, path: str, token: str, body=None, content_type: str | None = "application/json"):
        headers = {"Authorization": f"Bearer {token}"}
        if body is not None:
            body = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
            if content_type:
                headers["Content-Type"] = content_type
        self.conn.request(method, "/api/v1" + path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, json.loads(r.read() or b"null")

    def stop(self) -> str:
        self.conn.close()
        self.proc.terminate()
        return self.proc.communicate(timeout=20)[1]


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {name: led.add_user(name, role) for name, role in
                  (("h1", "handler"), ("h2", "handler"), ("au", "auditor"))}
    srv = Server(str(path))
    srv.path, srv.tokens = path, tokens
    yield srv
    log = srv.stop()
    assert "Traceback" not in log and "internal error" not in log, log


def test_a_record_number_beyond_64_bits_is_a_422_naming_it_and_not_found_says_no_path(served):
    au = served.tokens["au"]
    for seq in (HUGE, str(2 ** 63), "0", "-1"):
        status, body = served.call("GET", f"/records/{seq}", au)
        assert status == 422 and [p["field"] for p in body["problems"]] == ["path.seq"], (seq, body)
    status, body = served.call("GET", f"/records/{2 ** 63 - 1}", au)
    assert status == 404 and body["message"] == f"no ledger record with sequence number {2 ** 63 - 1}"
    # F2: no route's not-found names the server's ledger file
    for method, route, payload in (("GET", "/claims/NOPE", None), ("GET", "/claims/NOPE/handling", None),
                                   ("POST", "/claims/NOPE/review", {"action": "approve", "decision_seq": 1}),
                                   ("POST", "/claims/NOPE/clock", {"action": "complete", "completed_on": "2025-08-01"}),
                                   ("POST", "/replay/NOPE", None), ("GET", "/policies/NOPE", None)):
        status, body = served.call(method, route, served.tokens["au" if route.startswith("/replay") else "h1"], payload)
        assert status == 404 and "NOPE" in body["message"], (route, body)
        assert str(served.path) not in json.dumps(body) and "sqlite" not in body["message"], (route, body)


def test_until_the_last_date_is_no_upper_bound(served):
    status, _ = served.call("POST", "/adjudicate?record=true", served.tokens["h1"], claim_data("U-1"))
    assert status == 200
    for query in ("until=9999-12-31", "since=2000-01-01&until=9999-12-31"):
        status, body = served.call("GET", f"/claims?{query}", served.tokens["au"])
        assert status == 200 and [r["claim_id"] for r in body["records"]] == ["U-1"], body
    status, body = served.call("GET", "/claims?until=10000-01-01", served.tokens["au"])
    assert status == 422 and [p["field"] for p in body["problems"]] == ["query.until"]


def test_a_claim_id_with_a_slash_is_read_reviewed_clocked_and_replayed(served):
    h1, h2, au = (served.tokens[k] for k in ("h1", "h2", "au"))
    status, body = served.call("POST", "/adjudicate?record=true", h1, claim_data("S/1", REFUSED))
    assert status == 200 and body["claim_id"] == "S/1"
    for ident in ("S/1", "S%2F1"):
        status, body = served.call("GET", f"/claims/{ident}", au)
        assert status == 200 and body["claim_id"] == "S/1" and body["kind"] == "decision", body
        status, body = served.call("GET", f"/claims/{ident}/handling", au)
        assert status == 200 and body["claim_id"] == "S/1" and body["review"]["state"] == "pending_review", body
    seq = served.call("GET", "/claims/S%2F1/handling", au)[1]["decision_seq"]
    status, body = served.call("POST", "/claims/S/1/review", h2, {"action": "approve", "note": "確認済み",
                                                                  "decision_seq": seq})
    assert status == 200 and body["claim_id"] == "S/1" and body["review"]["state"] == "approved", body
    status, body = served.call("POST", "/claims/S%2F1/clock", h1, {"action": "complete", "completed_on": "2025-08-01"})
    assert status == 200 and body["clock"]["completed_on"] == "2025-08-01", body
    status, body = served.call("POST", "/claims/S/1/benefits", h1, {"programme": "jma-support", "coverage": "nothing",
                                                                   "action": "told", "on": "2025-09-01"})
    assert status == 422 and body["problems"][0]["field"] == "benefit", body  # reached the claim: not a 404
    status, body = served.call("POST", "/replay/S/1", au)
    assert status == 200 and body["claim_id"] == "S/1" and body["identical"], body
    status, body = served.call("GET", "/claims/S/1", au)
    assert body["kind"] == "clock" and body["handling"]["review"]["state"] == "approved"
    status, body = served.call("GET", "/policies/FK-1", au)  # the route of a policy number takes a slash too
    assert status == 200 and body["policy_number"] == "FK-1"


def test_a_body_that_says_it_is_not_json_is_a_415_and_the_ledger_file_is_owner_only(served):
    h1 = served.tokens["h1"]
    claim = claim_data("CT-1")
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/jsonp"):
        status, body = served.call("POST", "/adjudicate", h1, claim, content_type=ctype)
        assert status == 415 and body["error"] == "unsupported_media_type", (ctype, body)
        assert "Content-Type: application/json" in body["message"]
    status, body = served.call("POST", "/claims/CT-1/review", h1, {"action": "approve"}, content_type="text/plain")
    assert status == 415
    for ctype in ("application/json", "application/json; charset=utf-8", "Application/JSON", None):
        status, body = served.call("POST", "/adjudicate", h1, claim, content_type=ctype)
        assert status == 200 and body["claim_id"] == "CT-1", (ctype, body)
    status, _ = served.call("POST", "/adjudicate?record=true", h1, claim)  # the server writes: -wal and -shm exist
    assert status == 200
    files = [p for p in served.path.parent.iterdir() if p.name.startswith(served.path.name)]
    assert {p.name for p in files} >= {"ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_openapi_documents_415_and_the_claim_routes_keep_their_names(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(str(path)).close()
    spec = TestClient(create_app(Settings(ledger=str(path)))).get("/openapi.json").json()
    paths = spec["paths"]
    for route in ("/api/v1/adjudicate", "/api/v1/claims/{claim_id}/review", "/api/v1/claims/{claim_id}/clock",
                  "/api/v1/claims/{claim_id}/benefits", "/api/v1/diff"):
        assert "415" in paths[route]["post"]["responses"], route
    assert {"/api/v1/claims/{claim_id}", "/api/v1/claims/{claim_id}/handling", "/api/v1/replay/{claim_id}",
            "/api/v1/policies/{policy_number}"} <= set(paths)
    seq = paths["/api/v1/records/{seq}"]["get"]["parameters"][0]["schema"]
    assert (seq["minimum"], seq["maximum"]) == (1, 2 ** 63 - 1)


# ------------------------------------------------------------- the shared ledger layer, both backends
def _login(client, token: str) -> None:
    import re
    r = client.get("/desk/en/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    assert client.post("/desk/en/login", data={"csrf": csrf, "token": token}).status_code == 303


def test_lookups_and_searches_at_the_edges_on_both_backends(ledger_target, capsys):
    with Ledger(ledger_target) as led:
        record(led, claim_data("E-1"))
        token = led.add_user("au", "auditor")
        for seq in (10 ** 23, 2 ** 63, 0, -1):
            with pytest.raises(LedgerError, match=f"^no ledger record with sequence number {seq}$"):
                led.find(seq=seq)
        with pytest.raises(LedgerError) as exc:
            led.state("NOPE")
        assert str(exc.value) == "claim_id: no ledger record for claim id 'NOPE'"  # neither file nor URL
        assert [r["claim_id"] for r in led.list_records(until="9999-12-31")] == ["E-1"]
        assert led.search(date_to="9999-12-31")[0] == 1 and led.search(date_from="9999-12-31")[0] == 0
        with pytest.raises(LedgerError, match="^date_to: expected a date"):
            led.search(date_to="9999-99-99")
    client = TestClient(create_app(Settings(ledger=ledger_target, secret="test-secret")), follow_redirects=False)
    h = {"Authorization": f"Bearer {token}"}
    r = client.get(f"/api/v1/records/{HUGE}", headers=h)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "path.seq"
    r = client.get("/api/v1/claims?until=9999-12-31", headers=h)
    assert r.status_code == 200 and [x["claim_id"] for x in r.json()["records"]] == ["E-1"]
    r = client.get("/api/v1/records/99", headers=h)
    assert r.status_code == 404 and "postgresql" not in r.text and "sqlite" not in r.text
    # the desk reads the same lookups: a record number beyond 64 bits is not found, the last day no bound
    _login(client, token)
    assert client.get(f"/desk/en/ledger/records/{HUGE}").status_code == 404
    r = client.get("/desk/en/ledger?date_to=9999-12-31")
    assert r.status_code == 200 and "E-1" in r.text
    r = client.get("/desk/en/ledger/export?date_to=9999-12-31&format=csv")
    assert r.status_code == 200 and "E-1" in r.text
    rc, out, err = cli(capsys, "audit", "list", "--until", "9999-12-31", "--ledger", ledger_target, "--format", "json")
    assert rc == 0 and [x["claim_id"] for x in json.loads(out)] == ["E-1"], err
    rc, out, err = cli(capsys, "audit", "show", "--seq", HUGE, "--ledger", ledger_target)
    assert rc == 2 and err.strip() == f"no ledger record with sequence number {HUGE}"
    if not is_pg(ledger_target):
        assert ledger_target not in err


# ------------------------------------------------------------- the CLI: who records, terminal lines
def test_the_cli_records_as_the_os_account_whatever_logname_says(tmp_path, capsys, monkeypatch):
    from adjudicator.cli import cli_user
    me = pwd.getpwuid(os.getuid()).pw_name
    monkeypatch.setenv("LOGNAME", "alice")
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LNAME", "alice")
    monkeypatch.setenv("USERNAME", "alice")
    assert cli_user() == f"cli:{me}"
    path = str(tmp_path / "l.sqlite")
    (tmp_path / "c.json").write_text(json.dumps(claim_data("ID-1"), default=str), encoding="utf-8")
    rc, _, err = cli(capsys, "adjudicate", tmp_path / "c.json", "--record", "--ledger", path)
    assert rc == 0, err
    with Ledger(path) as led:
        assert led.find("ID-1").row["recorded_by"] == f"cli:{me}"


def test_a_table_cell_cannot_forge_a_line(tmp_path, capsys):
    path = str(tmp_path / "l.sqlite")
    with Ledger(path) as led:
        record(led, claim_data("T-1"), by="x\n FAKE   2026-01-01  T-2\rY\tZ")
    rc, out, _ = cli(capsys, "audit", "list", "--ledger", path)
    lines = out.splitlines()
    assert rc == 0 and len(lines) == 3 and lines[2] == "1 record(s)", out  # the header, the record, the count
    assert "x\\u000a FAKE" in lines[1] and "\\u000dY\\u0009Z" in lines[1]
    assert "\r" not in out and "\t" not in out


# The CLI as another OS account: the real uid set to it (what os.getuid() answers and the account
# database names), the effective uid kept, so this test's interpreter under /root stays readable.
AS_ACCOUNT = "import os, sys; os.setreuid(int(sys.argv[1]), -1); from adjudicator.cli import main; " \
             "sys.exit(main(sys.argv[2:]))"


@pytest.mark.skipif(os.geteuid() != 0, reason="running commands as other OS accounts needs root")
def test_the_second_review_is_by_another_os_account_not_another_logname(tmp_path):
    """Real accounts: root records; root calling itself bob may not approve; `daemon` calling itself
    root may, and the ledger says daemon."""
    ledger, claim = str(tmp_path / "l.sqlite"), tmp_path / "c.json"
    claim.write_text(json.dumps(claim_data("ACC-1", REFUSED), default=str), encoding="utf-8")

    def run(account: str, name: str, *args) -> subprocess.CompletedProcess:
        env = dict(os.environ, LOGNAME=name, USER=name, ADJUDICATOR_LEDGER=ledger)
        return subprocess.run([sys.executable, "-c", AS_ACCOUNT, str(pwd.getpwnam(account).pw_uid), *map(str, args)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)

    r = run("root", "root", "adjudicate", claim, "--record")
    assert r.returncode == 0, r.stderr
    r = run("root", "bob", "review", "ACC-1", "--approve", "--note", "ok", "--decision", 1)
    assert r.returncode == 2 and r.stderr.startswith("review: cli:root recorded this decision"), r.stderr
    r = run("daemon", "root", "review", "ACC-1", "--approve", "--note", "ok", "--decision", 1)
    assert r.returncode == 0 and "review approved by cli:daemon" in r.stdout, r.stderr
    with Ledger(ledger) as led:
        assert [r["recorded_by"] for r in led.list_records(claim="ACC-1")] == ["cli:root", "cli:daemon"]


def test_a_new_ledger_file_is_owner_only_with_its_wal(tmp_path):
    path = tmp_path / "new" / "l.sqlite"
    old = os.umask(0)  # whatever the umask lets through
    try:
        with Ledger(str(path)) as led:
            led.add_user("au", "auditor")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        os.umask(old)
    assert modes == {"l.sqlite": 0o600, "l.sqlite-wal": 0o600, "l.sqlite-shm": 0o600}
