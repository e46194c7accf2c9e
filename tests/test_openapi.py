"""The OpenAPI document of /api/v1 (issue 11): every operation has a typed 200 body and the error body
for its 4xx/5xx, a request schema where it takes a body; and real responses of every operation, good
and refused, validate against what the document says (the schemas are exact: additionalProperties
false), so the document cannot drift from what the service sends."""
from __future__ import annotations

import json
import re
import warnings

import pytest
import yaml

from support import EXAMPLES, ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from adjudicator.ledger import Ledger
from adjudicator.service.app import create_app
from adjudicator.service.settings import Settings

ROLES = ("handler", "underwriter", "auditor", "admin")
# the operations that read a JSON body; every other one takes only its path and query
WITH_BODY = {("post", "/api/v1/adjudicate"), ("post", "/api/v1/claims/{claim_id}/review"),
             ("post", "/api/v1/claims/{claim_id}/clock"), ("post", "/api/v1/claims/{claim_id}/benefits"),
             ("post", "/api/v1/diff")}


def _claim(name: str, **changes) -> dict:
    data = json.loads(json.dumps(yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8")), default=str))
    return {**data, **changes}


# ----------------------------------------------------------------- a small JSON Schema validator
# (the subset pydantic and FastAPI write; jsonschema is not a dependency of the project)
def problems(value, schema: dict, spec: dict, where: str = "$") -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return problems(value, spec["components"]["schemas"][name], spec, where)
    out: list[str] = []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema["oneOf"]
        if all(problems(value, s, spec, where) for s in options):
            out.append(f"{where}: matches none of {len(options)} options")
    for sub in schema.get("allOf", []):
        out += problems(value, sub, spec, where)
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']}")
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            return out + [f"{where}: {type(value).__name__} is not {kind}"]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing {key!r}")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                out += problems(item, props[key], spec, f"{where}.{key}")
            elif extra is False:
                out.append(f"{where}: {key!r} is not in the schema")
            elif isinstance(extra, dict):
                out += problems(item, extra, spec, f"{where}.{key}")
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if isinstance(sub, dict):
                out += problems(item, sub, spec, f"{where}[{i}]")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: {value} > {schema['maximum']}")
    return out


def _is(value, kind: str) -> bool:
    return {"null": value is None, "boolean": isinstance(value, bool), "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "array": isinstance(value, list), "object": isinstance(value, dict)}[kind]


def _typed(schema: dict, spec: dict) -> bool:
    """A schema that says something: a $ref to a component with properties, or properties itself."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return bool(schema.get("properties"))


# ----------------------------------------------------------------- the service
@pytest.fixture(scope="module")
def api(tmp_path_factory):
    path = tmp_path_factory.mktemp("openapi") / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {role: led.add_user(f"{role}-1", role) for role in ROLES}
        tokens["handler-2"] = led.add_user("handler-2", "handler")
    client = TestClient(create_app(Settings(ledger=str(path), max_body=64 * 1024,
                                            rulebooks={"same": str(ROOT / "rules")})))
    client.as_ = lambda role: {"Authorization": f"Bearer {tokens[role]}"}
    client.spec = client.get("/openapi.json").json()
    return client


def _operations(spec: dict) -> dict:
    return {(method, path): op for path, ops in spec["paths"].items() if path.startswith("/api/v1/")
            for method, op in ops.items()}


def _check(api, method: str, route: str, response) -> None:
    """The response validates against the schema the document gives its status."""
    op = _operations(api.spec)[(method, route)]
    status = str(response.status_code)
    assert status in op["responses"], f"{method.upper()} {route} answered {status}, not in its document"
    schema = op["responses"][status]["content"]["application/json"]["schema"]
    found = problems(response.json(), schema, api.spec)
    assert not found, f"{method.upper()} {route} {status}: {found[:5]}"


def test_every_operation_is_typed(api):
    ops = _operations(api.spec)
    assert len(ops) >= 18
    for (method, path), op in ops.items():
        name = f"{method.upper()} {path}"
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert _typed(ok, api.spec), f"{name}: untyped 200"
        if (method, path) in WITH_BODY:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert op["requestBody"]["required"] and _typed(body, api.spec), f"{name}: untyped request body"
        else:
            assert "requestBody" not in op, name
        errors = [s for s in op["responses"] if s != "200"]
        assert "500" in errors, name
        if path != "/api/v1/health":  # every other route needs a token
            assert {"401", "403", "422"} <= set(errors), name
        for status in errors:
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{name} {status}"
    assert {m for (m, _p) in ops} <= {"get", "post"}
    body = api.spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"error", "message"} and body["additionalProperties"] is False


def test_the_validator_is_not_vacuous(api):
    schema = {"$ref": "#/components/schemas/Health"}
    good = api.get("/api/v1/health").json()
    assert problems(good, schema, api.spec) == []
    assert problems({**good, "extra": 1}, schema, api.spec) == ["$: 'extra' is not in the schema"]
    assert problems({k: v for k, v in good.items() if k != "engine"}, schema, api.spec) == ["$: missing 'engine'"]
    assert problems({**good, "status": "ill"}, schema, api.spec)
    assert problems({**good, "engine": {"version": 1}}, schema, api.spec) == ["$.engine.version: int is not string"]


def test_real_responses_of_every_operation_validate(api):
    h, h2, au, uw = api.as_("handler"), api.as_("handler-2"), api.as_("auditor"), api.as_("underwriter")
    nagano = _claim("nagano_seed_example.yaml", claim_id="OA-NG")
    nagano["policy"] = {**nagano["policy"], "policy_number": "OA-NG-1"}
    refused = {**nagano, "claim_id": "OA-REFUSED", "policy": {**nagano["policy"], "policy_number": "OA-R"},
               "losses": [{"category": "fine_penalty", "amount": 500_000}]}
    fukuoka = _claim("fukuoka_seed_example.yaml", claim_id="OA-FK")
    fukuoka["policy"] = {**fukuoka["policy"], "policy_number": "OA-FK-1", "jma_member": True}
    seen = set()

    def call(method: str, route: str, url: str, headers=None, **kw):
        r = getattr(api, method)(url, headers=headers or {}, **kw)
        _check(api, method, route, r)
        seen.add((method, route))
        return r

    assert call("get", "/api/v1/health", "/api/v1/health").status_code == 200
    for claim in (nagano, refused, fukuoka):
        assert call("post", "/api/v1/adjudicate", "/api/v1/adjudicate?record=true", h, json=claim).status_code == 200
    for bad, status in ((b"{", 400), (json.dumps({"programme": "nope"}).encode(), 422),
                        (b"[" + b" " * 70_000 + b"]", 413)):
        assert call("post", "/api/v1/adjudicate", "/api/v1/adjudicate", h, content=bad).status_code == status
    assert call("post", "/api/v1/adjudicate", "/api/v1/adjudicate?record=true", h, json=nagano).status_code == 409
    assert call("post", "/api/v1/adjudicate", "/api/v1/adjudicate", {}, json=nagano).status_code == 401
    assert call("post", "/api/v1/adjudicate", "/api/v1/adjudicate?record=true", uw, json=nagano).status_code == 403

    route = "/api/v1/claims/{claim_id}/review"
    read = {"action": "approve", "decision_seq": api.get("/api/v1/claims/OA-REFUSED/handling", headers=h).json()[
        "decision_seq"]}
    assert call("post", route, "/api/v1/claims/OA-REFUSED/review", h, json=read).status_code == 403
    ok = call("post", route, "/api/v1/claims/OA-REFUSED/review", h2, json={**read, "note": "確認"})
    assert ok.status_code == 200 and ok.json()["review"]["why"]  # the refusal said why it needed review
    assert call("post", route, "/api/v1/claims/OA-REFUSED/review", h2, json=read).status_code == 409
    assert call("post", route, "/api/v1/claims/NOPE/review", h2, json=read).status_code == 404

    route = "/api/v1/claims/{claim_id}/clock"
    url = "/api/v1/claims/OA-NG/clock"
    assert call("post", route, url, h, json={"action": "complete", "completed_on": "2016-08-01"}).status_code == 200
    assert call("post", route, url, h, json={"action": "pause", "from": "2016-08-10", "to": "2016-08-15",
                                              "note": "書類待ち"}).status_code == 200
    assert call("post", route, url, h, json={"action": "extend", "reason": "abroad", "to": "2016-12-01",
                                              "agreed_on": "2016-08-20"}).status_code == 200
    assert call("post", route, url, h, json={"action": "complete", "colour": "red"}).status_code == 422

    route = "/api/v1/claims/{claim_id}/benefits"
    mark = {"programme": "jma-support", "coverage": "cyber_support", "action": "told", "on": "2025-09-01"}
    ok = call("post", route, "/api/v1/claims/OA-FK/benefits", h, json=mark)
    assert ok.status_code == 200 and any(u["mark"] for u in ok.json()["unclaimed"])
    assert call("post", route, "/api/v1/claims/OA-FK/benefits", au, json=mark).status_code == 403

    route = "/api/v1/claims/{claim_id}"
    for cid in ("OA-NG", "OA-REFUSED", "OA-FK"):  # the latest records: a clock step, a review, a benefit mark
        r = call("get", route, f"/api/v1/claims/{cid}", au)
        assert r.status_code == 200 and r.json()["kind"] in ("clock", "review", "benefit")
    assert call("get", route, "/api/v1/claims/NOPE", au).status_code == 404
    assert call("get", route, "/api/v1/claims/OA-NG", uw).status_code == 403
    r = call("get", "/api/v1/records/{seq}", "/api/v1/records/1", au)
    assert r.status_code == 200 and r.json()["kind"] == "decision" and r.json()["event"] == {"type": "decision"}
    assert call("get", "/api/v1/records/{seq}", "/api/v1/records/abc", au).status_code == 422
    assert call("get", "/api/v1/records/{seq}", "/api/v1/records/999", au).status_code == 404

    assert call("get", "/api/v1/claims/{claim_id}/handling", "/api/v1/claims/OA-NG/handling", au).status_code == 200
    page = call("get", "/api/v1/claims", "/api/v1/claims?limit=2", au).json()
    assert len(page["records"]) == 2 and page["next_cursor"] == 2
    assert call("get", "/api/v1/claims", "/api/v1/claims?since=yesterday", au).status_code == 422
    assert call("get", "/api/v1/policies/{policy_number}", "/api/v1/policies/OA-NG-1", au).json()["periods"][0]["pools"]
    assert call("get", "/api/v1/policies/{policy_number}", "/api/v1/policies/NOPE", au).status_code == 404
    wl = call("get", "/api/v1/worklist", "/api/v1/worklist?scope=all&today=2017-01-01", h).json()
    assert wl["total"] >= 2 and any(c["overdue"] for c in wl["claims"])
    assert call("get", "/api/v1/worklist", "/api/v1/worklist", au).status_code == 403
    assert call("get", "/api/v1/audit/verify", "/api/v1/audit/verify", au).json()["ok"]
    assert call("post", "/api/v1/replay/{claim_id}", "/api/v1/replay/OA-NG", au).json()["identical"]
    assert call("post", "/api/v1/replay/{claim_id}", "/api/v1/replay/NOPE", au).status_code == 404
    diff = call("post", "/api/v1/diff", "/api/v1/diff", uw, json={"claims": [nagano, {"x": 1}], "b": "same"}).json()
    assert diff["summary"] == {"claims": 2, "changed": 0, "invalid": 1,
                               "total_payable": {"a": 16_347_500, "b": 16_347_500}, "difference": 0}
    assert call("post", "/api/v1/diff", "/api/v1/diff", uw, json={"claims": [], "b": "nope"}).status_code == 422
    assert call("get", "/api/v1/rules", "/api/v1/rules", uw).json()["rules"]
    assert call("get", "/api/v1/rules", "/api/v1/rules?programme=nagano-privacy-2016", uw).status_code == 200
    assert call("get", "/api/v1/plans", "/api/v1/plans", uw).json()["programmes"]
    assert call("get", "/api/v1/plans", "/api/v1/plans?programme=nope", uw).status_code == 404
    q = call("get", "/api/v1/quote", "/api/v1/quote?programme=fukuoka-cyber-2025&plan=S1&facility=clinic", uw)
    assert q.status_code == 200 and q.json()["programme"] == "fukuoka-cyber-2025"
    assert call("get", "/api/v1/quote", "/api/v1/quote?programme=x&plan=S1&facility=clinic", uw).status_code == 422
    assert call("get", "/api/v1/quote", "/api/v1/quote?programme=x&plan=S1&facility=castle", uw).status_code == 422
    assert "losses" in call("get", "/api/v1/schema/claim", "/api/v1/schema/claim", uw).json()["properties"]
    assert call("get", "/api/v1/schema/claim", "/api/v1/schema/claim", api.as_("admin")).status_code == 403
    assert seen == set(_operations(api.spec)), set(_operations(api.spec)) - seen  # a new route needs a case here
