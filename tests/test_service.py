"""The decision service (issue 11): every route, every role boundary, every error class, through
FastAPI's TestClient on a real SQLite ledger; and one real `adjudicator serve` process over HTTP."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings

import pytest
import yaml

from support import EXAMPLES, ROOT, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from adjudicator.ledger import Ledger
from adjudicator.service.app import create_app
from adjudicator.service.auth import DESK_ONLY, PERMISSIONS
from adjudicator.service.settings import Settings

ROLES = ("handler", "underwriter", "auditor", "admin")


def _claim(name: str) -> dict:
    return json.loads(json.dumps(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")), default=str))


NAGANO_FILE = _claim("nagano_seed_example.yaml")
# recorded claims carry a policy number: the ledger keeps each policy's aggregates by it
NAGANO = {**NAGANO_FILE, "policy": {**NAGANO_FILE["policy"], "policy_number": "NG-001"}}
FUKUOKA = _claim("fukuoka_seed_example.yaml")
FUKUOKA["policy"]["policy_number"] = "FK-001"


@pytest.fixture
def service(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {role: led.add_user(f"{role}-1", role) for role in ROLES}
        tokens["handler-2"] = led.add_user("handler-2", "handler")  # a second handler: the second review
    client = TestClient(create_app(Settings(ledger=str(path), max_body=64 * 1024,
                                            rulebooks={"same": str(ROOT / "rules")})))
    client.path = path

    def as_(role: str) -> dict:
        return {"Authorization": f"Bearer {tokens[role]}"}
    client.as_ = as_
    return client


def test_health_needs_no_login_and_names_the_rulebook(service):
    r = service.get("/api/v1/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["engine"]["version"]
    assert len(body["rulebook"]["sha256"]) == 64


def test_decision_json_is_the_same_bytes_as_the_cli(service, tmp_path):
    r = service.post("/api/v1/adjudicate", json=NAGANO_FILE, headers=service.as_("handler"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    cli = run_cli("adjudicate", str(EXAMPLES / "nagano_seed_example.yaml"), "--format", "json")
    assert cli.returncode == 0
    assert r.content.decode("utf-8") == cli.stdout
    assert r.json()["total_payable"] == 16_347_500  # 004 §6


@pytest.mark.parametrize("fmt,media,marker", [("html", "text/html", "<html"), ("md", "text/markdown", "#"),
                                               ("text", "text/plain", "16,347,500")])
def test_documents_in_both_languages(service, fmt, media, marker):
    for lang in ("ja", "en"):
        r = service.post(f"/api/v1/adjudicate?format={fmt}&lang={lang}", json=NAGANO, headers=service.as_("underwriter"))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(media)
        assert marker in r.text
        assert "default-src 'none'" in r.headers["content-security-policy"]


def test_record_writes_once_then_asks_for_readjudication(service):
    h = service.as_("handler")
    r = service.post("/api/v1/adjudicate?record=true", json=FUKUOKA, headers=h)
    assert r.status_code == 200 and r.headers["x-ledger-seq"] == "1"
    again = service.post("/api/v1/adjudicate?record=true", json=FUKUOKA, headers=h)
    assert again.status_code == 409
    assert again.json()["problems"][0]["field"] == "claim_id"
    assert "readjudicate=true" in again.json()["message"]
    re = service.post("/api/v1/adjudicate?record=true&readjudicate=true", json=FUKUOKA, headers=h)
    assert re.status_code == 200 and re.headers["x-ledger-seq"] == "2"
    rec = service.get(f"/api/v1/claims/{FUKUOKA['claim_id']}", headers=h).json()
    assert rec["seq"] == 2 and rec["supersedes"] == 1
    assert rec["decision"]["total_payable"] == r.json()["total_payable"]
    assert service.get("/api/v1/records/1", headers=service.as_("auditor")).json()["claim_id"] == FUKUOKA["claim_id"]


def test_a_failed_request_writes_nothing(service):
    h = service.as_("handler")
    bad = dict(FUKUOKA, incident=dict(FUKUOKA["incident"], discovered_by="a neighbour"))
    assert service.post("/api/v1/adjudicate?record=true", json=bad, headers=h).status_code == 422
    assert service.post("/api/v1/adjudicate?record=true", content=b"{", headers=h).status_code == 400
    assert service.get(f"/api/v1/claims/{FUKUOKA['claim_id']}", headers=h).status_code == 404
    assert service.get("/api/v1/audit/verify", headers=service.as_("auditor")).json()["message"].startswith("0 records")


def test_invalid_claim_names_each_field_as_the_cli_does(service, tmp_path):
    bad = dict(NAGANO, incident=dict(NAGANO["incident"], discovered_by="a neighbour"), unknown_key=1)
    r = service.post("/api/v1/adjudicate", json=bad, headers=service.as_("handler"))
    assert r.status_code == 422
    fields = [p["field"] for p in r.json()["problems"]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    cli = run_cli("adjudicate", str(path))
    assert cli.returncode == 2
    assert fields == [line.split(": ")[0] for line in cli.stderr.strip().splitlines()]
    assert "incident.discovered_by" in fields and "unknown_key" in fields
    assert "Traceback" not in r.text


@pytest.mark.parametrize("body,status,code", [
    (b"{", 400, "malformed_json"),
    (b"\xff\xfe", 400, "malformed_json"),
    (b"[1, 2]", 422, "invalid_claim"),
    (b'{"programme": "jma-support", "programme": "x"}', 400, "malformed_json"),  # refused as the CLI does
    (b"[" * 10_000, 400, "malformed_json"),  # nested too deep: the input gate refuses it before parsing
])
def test_bad_bodies_are_clean_errors(service, body, status, code):
    r = service.post("/api/v1/adjudicate", content=body, headers=service.as_("handler"))
    assert (r.status_code, r.json()["error"]) == (status, code)
    assert "Traceback" not in r.text


def test_oversized_body_is_refused_before_parsing(service):
    h = service.as_("handler")
    r = service.post("/api/v1/adjudicate", content=b"{" + b" " * (70 * 1024) + b"}", headers=h)
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():  # no Content-Length: the limit holds on the stream too
        for _ in range(100):
            yield b" " * 1024
    r = service.post("/api/v1/adjudicate", content=chunks(), headers=h)
    assert r.status_code == 413


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc", "Bearer " + "x" * 300])
def test_missing_or_wrong_token_is_401(service, header):
    headers = {"Authorization": header} if header else {}
    r = service.post("/api/v1/adjudicate", json=NAGANO, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_a_disabled_or_rotated_token_stops_working(service):
    h = service.as_("handler")
    assert service.post("/api/v1/adjudicate", json=NAGANO, headers=h).status_code == 200
    with Ledger(str(service.path)) as led:
        new = led.rotate_user("handler-1")
    assert service.post("/api/v1/adjudicate", json=NAGANO, headers=h).status_code == 401
    h2 = {"Authorization": f"Bearer {new}"}
    assert service.post("/api/v1/adjudicate", json=NAGANO, headers=h2).status_code == 200
    with Ledger(str(service.path)) as led:
        led.disable_user("handler-1")
    assert service.post("/api/v1/adjudicate", json=NAGANO, headers=h2).status_code == 401


def _request(service, route: str, role: str):
    h = service.as_(role)
    calls = {
        "adjudicate": lambda: service.post("/api/v1/adjudicate", json=NAGANO, headers=h),
        "record": lambda: service.post("/api/v1/adjudicate?record=true", json=NAGANO, headers=h),
        "read_ledger": lambda: service.get("/api/v1/records/1", headers=h),
        "verify": lambda: service.get("/api/v1/audit/verify", headers=h),
        "replay": lambda: service.post(f"/api/v1/replay/{NAGANO['claim_id']}", headers=h),
        "diff": lambda: service.post("/api/v1/diff", json={"claims": [NAGANO], "b": "same"}, headers=h),
        "reference": lambda: service.get("/api/v1/rules", headers=h),
        "work_list": lambda: service.get("/api/v1/worklist?scope=all", headers=h),
        # the seed example pays in full: nothing waits for review (409 for a role that may review)
        "review": lambda: service.post(f"/api/v1/claims/{NAGANO['claim_id']}/review", json={"action": "approve", "decision_seq": 1},
                                       headers=h),
    }
    return calls[route]()


@pytest.mark.parametrize("permission", [p for p in PERMISSIONS if p != "users" and p not in DESK_ONLY])
def test_each_role_can_do_only_its_job(service, permission):
    # a record to read and replay, written by the one role that may record
    assert service.post("/api/v1/adjudicate?record=true", json=NAGANO, headers=service.as_("handler")).status_code == 200
    for role in ROLES:
        r = _request(service, permission, role)
        if role in PERMISSIONS[permission]:
            assert r.status_code in (200, 409), (permission, role, r.text)  # 409: recorded already above
        else:
            assert r.status_code == 403, (permission, role, r.status_code)
            assert r.json()["error"] == "forbidden"


def test_record_and_readjudicate_need_the_record_permission(service):
    for q in ("record=true", "readjudicate=true"):
        r = service.post(f"/api/v1/adjudicate?{q}", json=NAGANO, headers=service.as_("underwriter"))
        assert r.status_code == 403
    assert service.get("/api/v1/audit/verify", headers=service.as_("auditor")).json()["message"].startswith("0 records")


def test_verify_replay_and_diff(service):
    service.post("/api/v1/adjudicate?record=true", json=NAGANO, headers=service.as_("handler"))
    a = service.as_("auditor")
    v = service.get("/api/v1/audit/verify", headers=a).json()
    assert v["ok"] is True and v["message"].startswith("1 records")
    rp = service.post(f"/api/v1/replay/{NAGANO['claim_id']}", headers=a).json()
    assert rp["identical"] is True and rp["seq"] == 1
    assert service.post("/api/v1/replay/NO-SUCH-CLAIM", headers=a).status_code == 404
    u = service.as_("underwriter")
    bad = dict(NAGANO, programme="nope")
    d = service.post("/api/v1/diff", json={"claims": [NAGANO, bad], "a": "current", "b": "same"}, headers=u).json()
    assert d["summary"] == {"claims": 2, "changed": 0, "invalid": 1,
                            "total_payable": {"a": 16_347_500, "b": 16_347_500}, "difference": 0}
    assert d["claims"][1]["problems"][0]["field"] == "programme"
    r = service.post("/api/v1/diff", json={"claims": [], "b": "elsewhere"}, headers=u)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "b"
    r = service.post("/api/v1/diff", json={"claims": "no"}, headers=u)
    assert r.status_code == 422 and {p["field"] for p in r.json()["problems"]} == {"claims", "b"}


def test_reference_routes(service):
    h = service.as_("handler")
    rules = service.get("/api/v1/rules?programme=jma-support", headers=h).json()
    assert rules["rules"] and all("jma-support" in r["programmes"] for r in rules["rules"])
    assert all(r["clause"] and r["title"]["ja"] and r["title"]["en"] for r in rules["rules"])
    plans = service.get("/api/v1/plans?programme=fukuoka-cyber-2025", headers=h).json()["programmes"]
    assert plans["fukuoka-cyber-2025"]["plans"]["S1000"]["kind"]
    assert service.get("/api/v1/plans?programme=nope", headers=h).status_code == 404
    q = service.get("/api/v1/quote", params={"programme": "fukuoka-cyber-2025", "plan": "S1000", "facility": "clinic"},
                    headers=h).json()
    cli = run_cli("quote", "fukuoka-cyber-2025", "S1000", "--facility", "clinic", "--format", "json")
    assert q["payable"] == json.loads(cli.stdout)["payable"] and isinstance(q["payable"], int)
    r = service.get("/api/v1/quote", params={"programme": "fukuoka-cyber-2025", "plan": "S9", "facility": "clinic"},
                    headers=h)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "plan"
    r = service.get("/api/v1/quote", params={"programme": "jma-support", "plan": "x", "facility": "castle"}, headers=h)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "query.facility"
    schema = service.get("/api/v1/schema/claim", headers=h).json()
    assert "programme" in schema["properties"] and "losses" in schema["properties"]


def test_openapi_documents_every_route_with_schemas(service):
    spec = service.get("/openapi.json").json()
    paths = spec["paths"]
    for route in ("/api/v1/health", "/api/v1/adjudicate", "/api/v1/claims/{claim_id}", "/api/v1/records/{seq}",
                  "/api/v1/audit/verify", "/api/v1/replay/{claim_id}", "/api/v1/diff", "/api/v1/rules",
                  "/api/v1/plans", "/api/v1/quote", "/api/v1/schema/claim"):
        assert route in paths, route
    adj = paths["/api/v1/adjudicate"]["post"]
    assert adj["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Claim"
    assert adj["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Decision"
    assert "Claim" in spec["components"]["schemas"] and "Decision" in spec["components"]["schemas"]
    assert {"401", "403", "413", "422"} <= set(adj["responses"])


def test_unknown_routes_and_methods_are_json_errors(service):
    assert service.get("/api/v1/nothing").json()["error"] == "not_found"
    assert service.get("/api/v1/adjudicate").json()["error"] == "method_not_allowed"
    r = service.get("/api/v1/records/abc", headers=service.as_("auditor"))
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "path.seq"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("workers", [1, 2])  # with workers, each is a spawned process: it must log too
def test_the_real_serve_process_answers_over_http(tmp_path, workers):
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        token = led.add_user("hana", "handler")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(port), "--ledger", str(path),
                             "--workers", str(workers)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else ""
                time.sleep(0.2)
        req = urllib.request.Request(f"{base}/adjudicate?record=true", data=json.dumps(NAGANO).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.load(r)["total_payable"] == 16_347_500
            assert r.headers["X-Ledger-Seq"] == "1"
        bad = urllib.request.Request(f"{base}/adjudicate", data=b"{}", headers={"Authorization": "Bearer nope"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=10)
        assert err.value.code == 401
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    logged = [line for line in stderr.splitlines() if "/api/v1/" in line]
    # one line a request: the health polls, the recorded claim, the refused one
    assert len([line for line in logged if "POST /api/v1/adjudicate" in line]) == 2, stderr
    assert any("POST /api/v1/adjudicate 200" in line and line.endswith("hana") for line in logged), stderr
    assert any("POST /api/v1/adjudicate 401" in line for line in logged)
    assert any("GET /api/v1/health 200" in line for line in logged)
    # the log holds who and what route, never the token nor anything of the claim
    for secret in (token, NAGANO["claim_id"], NAGANO["policy"]["policy_number"], "16347500", "record=true"):
        assert secret not in stderr, secret
    assert "Traceback" not in stderr


def test_search_pages_and_filters_and_the_policy_page_shows_the_pools(service):
    h = service.as_("handler")
    base = dict(FUKUOKA, policy=dict(FUKUOKA["policy"], policy_number="FK-PAGE"))
    for i in range(5):
        assert service.post("/api/v1/adjudicate?record=true", json=dict(base, claim_id=f"PG-{i}"),
                            headers=h).status_code == 200
    other = dict(NAGANO, claim_id="NG-OTHER")
    assert service.post("/api/v1/adjudicate?record=true", json=other, headers=h).status_code == 200
    seen, cursor = [], None
    while True:
        params = {"policy": "fk-page", "limit": 2, **({"cursor": cursor} if cursor is not None else {})}
        page = service.get("/api/v1/claims", params=params, headers=service.as_("auditor")).json()
        assert len(page["records"]) <= 2
        seen += [r["claim_id"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"PG-{i}" for i in range(5)]  # the policy number matched case-insensitively, in chain order
    everything = service.get("/api/v1/claims", params={"limit": 500}, headers=h).json()["records"]
    assert [r["claim_id"] for r in everything] == [f"PG-{i}" for i in range(5)] + ["NG-OTHER"]
    assert all(r["recorded_by"] == "handler-1" for r in everything)  # every record says who recorded it
    paid = service.get("/api/v1/claims", params={"status": "paid"}, headers=h).json()["records"]
    assert {r["claim_id"] for r in paid} == {r["claim_id"] for r in everything if r["total_payable"] > 0}
    assert service.get("/api/v1/claims", params={"status": "lost"}, headers=h).status_code == 422
    assert service.get("/api/v1/claims", params={"limit": 0}, headers=h).status_code == 422
    pol = service.get("/api/v1/policies/FK-PAGE", headers=h).json()
    period = pol["periods"][0]
    assert pol["policy_number"] == "FK-PAGE" and len(period["records"]) == 5
    assert period["pools"]
    for pool in period["pools"]:
        if pool["limit"] is not None:  # a pool whose limit comes from the policy may have none
            assert pool["left"] == max(0, pool["limit"] - pool["used"])
    assert sum(p["used"] for p in period["pools"]) > 0
    assert service.get("/api/v1/policies/NOPE", headers=h).status_code == 404
    assert service.get("/api/v1/policies/FK-PAGE", headers=service.as_("underwriter")).status_code == 403


def test_serve_writes_an_anchor_every_n_records(tmp_path):
    from adjudicator.ledger.chain import read_anchor, read_key
    path, folder, key = tmp_path / "ledger.sqlite", tmp_path / "anchors", tmp_path / "anchor.key"
    with Ledger(str(path)) as led:
        token = led.add_user("hana", "handler")
    client = TestClient(create_app(Settings(ledger=str(path), anchor_dir=str(folder), anchor_every=2,
                                            anchor_key_file=str(key))))
    h = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        assert client.post("/api/v1/adjudicate?record=true", json=dict(FUKUOKA, claim_id=f"AN-{i}"),
                           headers=h).status_code == 200
    anchors = sorted(folder.glob("anchor-*.json"))
    assert [p.name for p in anchors] == ["anchor-000000000002.json", "anchor-000000000004.json"]
    assert read_anchor(anchors[-1], read_key(str(key)))["count"] == 4
    r = run_cli("audit", "verify", "--ledger", str(path), "--anchor", *map(str, anchors), "--key-file", str(key))
    assert r.returncode == 0, r.stderr


REFUSED = {**NAGANO, "claim_id": "NG-REFUSED", "policy": {**NAGANO["policy"], "policy_number": "NG-R"},
           "losses": [{"category": "fine_penalty", "amount": 500_000}]}


def test_second_review_over_the_api(service):
    h1, h2 = service.as_("handler"), service.as_("handler-2")
    r = service.post("/api/v1/adjudicate?record=true&format=html&lang=ja", json=REFUSED, headers=h1)
    assert r.status_code == 200 and r.headers["X-Review-State"] == "pending_review"
    assert "（案）" in r.text and "支払通知ではありません" in r.text and "保険金をお支払いできません" not in r.text
    url = f"/api/v1/claims/{REFUSED['claim_id']}/review"
    seq = lambda: service.get(f"/api/v1/claims/{REFUSED['claim_id']}/handling", headers=h1).json()["decision_seq"]  # noqa: E731
    missing = service.post(url, json={"action": "approve"}, headers=h2)
    assert missing.status_code == 422 and missing.json()["problems"][0]["field"] == "decision_seq"
    typo = service.post(url, json={"action": "approve", "decison_seq": seq()}, headers=h2)
    assert typo.status_code == 422 and "decison_seq" in {p["field"] for p in typo.json()["problems"]}
    assert service.post(url, json={"action": "approve", "decision_seq": True}, headers=h2).status_code == 422
    own = service.post(url, json={"action": "approve", "decision_seq": seq()}, headers=h1)
    assert own.status_code == 403 and "another handler account" in own.json()["message"]
    assert service.post(url, json={"action": "approve", "decision_seq": seq()}, headers=service.as_("auditor")).status_code == 403
    bad = service.post(url, json={"action": "maybe", "decision_seq": seq()}, headers=h2)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "action"
    assert service.post(url, json={"action": "return", "decision_seq": seq()}, headers=h2).json()["problems"][0]["field"] == "note"
    back = service.post(url, json={"action": "return", "note": "根拠の確認を", "decision_seq": seq()}, headers=h2).json()
    assert back["review"]["state"] == "returned" and back["review"]["by"] == "handler-2" and back["draft"]
    assert service.post(url, json={"action": "approve", "decision_seq": seq()}, headers=h2).status_code == 409
    service.post("/api/v1/adjudicate?readjudicate=true", json=REFUSED, headers=h1)
    ok = service.post(url, json={"action": "approve", "note": "確認済み", "decision_seq": seq()}, headers=h2).json()
    assert ok["review"]["state"] == "approved" and not ok["draft"]
    rec = service.get(f"/api/v1/claims/{REFUSED['claim_id']}", headers=service.as_("auditor")).json()
    assert rec["kind"] == "review" and rec["recorded_by"] == "handler-2" and rec["event"]["action"] == "approve"
    assert service.get("/api/v1/audit/verify", headers=service.as_("auditor")).json()["ok"]
    assert service.post("/api/v1/claims/NOPE/review", json={"action": "approve", "decision_seq": 1},
                        headers=h2).status_code == 404


def test_unclaimed_benefits_are_marked_over_the_api(service):
    h = service.as_("handler")
    claim = {**FUKUOKA, "claim_id": "FK-UNCLAIMED", "policy": {**FUKUOKA["policy"], "jma_member": True}}
    decision = service.post("/api/v1/adjudicate?record=true", json=claim, headers=h).json()
    keys = [f"{u['programme']}:{u['coverage']}" for u in decision["unclaimed_benefits"]]
    assert "jma-support:cyber_support" in keys
    url = "/api/v1/claims/FK-UNCLAIMED/benefits"
    body = {"programme": "jma-support", "coverage": "cyber_support", "action": "told", "on": "2025-09-01"}
    assert service.post(url, json=body, headers=service.as_("auditor")).status_code == 403  # auditors read only
    bad = service.post(url, json={**body, "on": "01/09/2025"}, headers=h)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "on"
    bad = service.post(url, json={**body, "action": "maybe"}, headers=h)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "action"
    unknown = service.post(url, json={**body, "coverage": "nothing"}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "benefit"
    assert service.post("/api/v1/claims/NOPE/benefits", json=body, headers=h).status_code == 404
    ok = service.post(url, json=body, headers=h).json()
    mark = next(u for u in ok["unclaimed"] if u["key"] == "jma-support:cyber_support")["mark"]
    assert (mark["action"], mark["on"], mark["by"]) == ("told", "2025-09-01", "handler-1")
    row = next(c for c in service.get("/api/v1/worklist?scope=all", headers=h).json()["claims"]
               if c["claim_id"] == "FK-UNCLAIMED")
    assert row["unclaimed"] == len(keys) - 1
    rec = service.get("/api/v1/claims/FK-UNCLAIMED", headers=service.as_("auditor")).json()
    assert rec["kind"] == "benefit" and rec["recorded_by"] == "handler-1" and rec["event"]["key"] == "jma-support:cyber_support"
    assert service.get("/api/v1/audit/verify", headers=service.as_("auditor")).json()["ok"]


def test_payment_clock_and_work_list_over_the_api(service):
    h1, h2 = service.as_("handler"), service.as_("handler-2")
    for cid, pn in (("NG-CLOCK-1", "NG-C1"), ("NG-CLOCK-2", "NG-C2")):
        claim = {**NAGANO, "claim_id": cid, "policy": {**NAGANO["policy"], "policy_number": pn}}
        assert service.post("/api/v1/adjudicate?record=true", json=claim, headers=h1).status_code == 200
    url = "/api/v1/claims/NG-CLOCK-1/clock"
    assert service.post(url, json={"action": "extend", "reason": "abroad", "to": "2030-01-01"},
                        headers=h1).json()["problems"][0]["field"] == "completed_on"
    assert service.post(url, json={"action": "complete", "completed_on": "someday"},
                        headers=h1).json()["problems"][0]["field"] == "completed_on"
    assert service.post(url, json={"action": "complete", "completed_on": "2016-08-01"}, headers=h1).json()[
        "clock"]["due_on"] == "2016-08-31"
    r = service.post(url, json={"action": "pause", "from": "2016-08-10", "to": "2016-08-15"}, headers=h2).json()
    assert r["clock"]["due_on"] == "2016-09-05"
    assert service.post(url, json={"action": "complete", "colour": "red"}, headers=h1).status_code == 422
    # the pause's start is `from` on the wire and in the OpenAPI document (never the Python name from_)
    bad = service.post(url, json={"action": "pause", "from": "later", "to": "2016-08-15"}, headers=h1).json()
    assert [p["field"] for p in bad["problems"]] == ["from"]
    assert service.post(url, json={"action": "pause", "from_": "2016-08-10"}, headers=h1).status_code == 422
    schema = service.get("/openapi.json").json()["paths"]["/api/v1/claims/{claim_id}/clock"]["post"]["requestBody"]
    props = schema["content"]["application/json"]["schema"]["properties"]
    assert "from" in props and "from_" not in props
    assert service.post(url, json={"action": "complete"}, headers=service.as_("auditor")).status_code == 403
    service.post("/api/v1/claims/NG-CLOCK-2/clock", json={"action": "complete", "completed_on": "2099-01-01"},
                 headers=h1)
    wl = service.get("/api/v1/worklist?today=2016-10-01", headers=h1).json()
    assert [c["claim_id"] for c in wl["claims"]] == ["NG-CLOCK-1", "NG-CLOCK-2"] and wl["total"] == 2
    head = wl["claims"][0]
    assert head["overdue"] and head["unpaid"] and head["days_overdue"] == 26 and head["due_on"] == "2016-09-05"
    assert service.get("/api/v1/worklist", headers=h2).json()["total"] == 0        # mine: handler-2 recorded none
    assert service.get("/api/v1/worklist?scope=all", headers=h2).json()["total"] == 2
    assert service.get("/api/v1/worklist?scope=everyone", headers=h2).status_code == 422
    assert service.post(url, json={"action": "paid", "paid_on": "2016-09-30"}, headers=h1).status_code == 200
    assert [c["claim_id"] for c in service.get("/api/v1/worklist", headers=h1).json()["claims"]] == ["NG-CLOCK-2"]
    st = service.get("/api/v1/claims/NG-CLOCK-1/handling", headers=service.as_("auditor")).json()
    assert st["clock"]["paid_on"] == "2016-09-30" and st["clock"]["pauses"][0]["days"] == 5
    assert service.post(url, json={"action": "paid"}, headers=h1).status_code == 409


def test_search_by_recording_dates_over_the_real_server(tmp_path):
    """GET /api/v1/claims?since=&until= on a real `adjudicator serve` and a real ledger: both days
    included, a bad date a 422 naming its parameter, and paging by cursor inside a since/until window."""
    from adjudicator.decide import decide
    from adjudicator.engine.rulebook import load_rulebook
    from adjudicator.policy.catalogue import load_catalogue
    from adjudicator.policy.claims import parse_claim
    catalogue, book = load_catalogue(), load_rulebook()
    path = tmp_path / "ledger.sqlite"
    days = {"2026-03-01": [], "2026-03-02": [], "2026-03-03": []}
    with Ledger(str(path)) as led:
        token = led.add_user("aya", "auditor")
        for i in range(9):
            day = list(days)[i // 3]
            data = {**FUKUOKA, "claim_id": f"DT-{i}", "policy": {**FUKUOKA["policy"], "policy_number": f"DT-P{i}"}}
            seq, _ = led.record(data, parse_claim(data, catalogue), catalogue,
                                lambda c, note: decide(c, book, catalogue, note),
                                recorded_at=f"{day}T{9 + i % 3:02d}:30:00+00:00", recorded_by="hana")
            days[day].append(seq)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "adjudicator", "serve", "--port", str(port), "--ledger", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/v1/claims"

    def get(query: str) -> tuple[int, dict]:
        req = urllib.request.Request(f"{base}?{query}", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        seqs = lambda body: [r["seq"] for r in body["records"]]  # noqa: E731
        status, body = get("since=2026-03-02&until=2026-03-02")
        assert status == 200 and seqs(body) == days["2026-03-02"] and body["next_cursor"] is None
        assert all(r["recorded_at"].startswith("2026-03-02") for r in body["records"])
        assert seqs(get("since=2026-03-02")[1]) == days["2026-03-02"] + days["2026-03-03"]
        assert seqs(get("until=2026-03-01")[1]) == days["2026-03-01"]  # the until day itself is included
        assert seqs(get("since=2026-03-03&until=2026-03-01")[1]) == []
        # paging by cursor across the window of the last two days: every record once, in chain order
        seen, cursor, pages = [], None, 0
        while True:
            status, body = get("since=2026-03-02&until=2026-03-03&limit=2" + (f"&cursor={cursor}" if cursor else ""))
            assert status == 200 and len(body["records"]) <= 2
            seen += seqs(body)
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == days["2026-03-02"] + days["2026-03-03"] and pages == 3
        for query, field in (("since=2026-13-01", "query.since"), ("until=yesterday", "query.until"),
                             ("since=2026-03-02&until=03/03/2026", "query.until")):
            status, body = get(query)
            assert status == 422 and [p["field"] for p in body["problems"]] == [field], (query, body)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert "Traceback" not in stderr


def test_the_claim_searchs_status_is_the_decision_the_work_lists_is_the_payment(service):
    """Two things called status (both contract names, side by side in docs/CLAIM_FILE.md and the OpenAPI
    document): GET /claims reads each record's decision (`paid`: it pays something, a payment made or
    not), GET /worklist the claim's payment (`unpaid` until a payment is recorded, then `paid`)."""
    h = service.as_("handler")
    refused = json.loads(json.dumps(NAGANO))
    refused["incident"]["acts"]["intentional"] = "named_insured"  # 004 §7: pays nothing, asks for nothing
    waiting = json.loads(json.dumps(FUKUOKA))
    del waiting["incident"]["cause"]  # the engine asks for it
    claims = {"ST-PAY": NAGANO, "ST-PAID": {**NAGANO, "policy": {**NAGANO["policy"], "policy_number": "NG-ST-2"}},
              "ST-REF": {**refused, "policy": {**NAGANO["policy"], "policy_number": "NG-ST-3"}}, "ST-WAIT": waiting}
    for cid, claim in claims.items():
        assert service.post("/api/v1/adjudicate?record=true", json={**claim, "claim_id": cid}, headers=h).status_code == 200
    for cid, steps in (("ST-PAY", [{"action": "complete", "completed_on": "2016-08-01"}]),
                       ("ST-PAID", [{"action": "complete", "completed_on": "2016-08-01"},
                                    {"action": "paid", "paid_on": "2016-08-20"}])):
        for step in steps:
            assert service.post(f"/api/v1/claims/{cid}/clock", json=step, headers=h).status_code == 200
    records = service.get("/api/v1/claims", params={"limit": 500}, headers=h).json()["records"]
    search = {}
    for r in records:  # every record of a claim (its clock records too) carries its decision's status
        search.setdefault(r["claim_id"], set()).add(r["status"])
    assert search == {"ST-PAY": {"paid"}, "ST-PAID": {"paid"}, "ST-REF": {"not_paid"}, "ST-WAIT": {"needs_information"}}
    assert len([r for r in records if r["claim_id"] == "ST-PAID"]) == 3
    paid = service.get("/api/v1/claims", params={"status": "paid", "limit": 500}, headers=h).json()["records"]
    assert {r["claim_id"] for r in paid} == {"ST-PAY", "ST-PAID"}
    work = {c["claim_id"]: c["status"] for c in service.get("/api/v1/worklist?scope=all&today=2016-10-01",
                                                              headers=h).json()["claims"]}
    # ST-PAID: paid, no benefit left to mark, so off the work list; the search still lists it `paid`
    assert work == {"ST-PAY": "unpaid", "ST-REF": "nothing_payable", "ST-WAIT": "needs_information"}
    assert service.get("/api/v1/claims/ST-PAID/handling", headers=h).json()["clock"]["paid_on"] == "2016-08-20"
    spec = service.get("/openapi.json").json()
    param = next(p for p in spec["paths"]["/api/v1/claims"]["get"]["parameters"] if p["name"] == "status")
    schemas = spec["components"]["schemas"]
    assert "not whether a payment was made" in param["description"] and "GET /worklist" in param["description"]
    assert "GET /worklist" in schemas["RecordSummary"]["properties"]["status"]["description"]
    assert "GET /claims" in schemas["WorklistClaim"]["properties"]["status"]["description"]
