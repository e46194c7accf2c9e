"""The fourth hostile probe on a real server: an out-of-range quote date names its field, an unknown
programme of /rules is a 404 as for /plans, a desk path that is not a record number is a desk page."""
from __future__ import annotations

import json

from test_api_hostile2 import _get, server  # noqa: F401 - `server` is the fixture

QUOTE = "/api/v1/quote?programme=fukuoka-cyber-2025&plan=S1&facility=clinic"


def test_quote_enrolled_on_out_of_range_names_the_field(server):
    for day in ("9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"):
        status, body = _get(server.port, f"{QUOTE}&enrolled_on={day}", server.token)
        assert status == 422, (day, body)
        assert json.loads(body)["problems"] == [{"field": "enrolled_on",
                                                 "message": f"{day} is outside 1900-01-01 .. 2199-12-31"}]
    status, body = _get(server.port, f"{QUOTE}&enrolled_on=2025-08-01", server.token)
    assert status == 200 and json.loads(body)["annual"] == 29380
    status, body = _get(server.port, "/api/v1/quote?programme=fukuoka-cyber-2025&plan=S1&facility=hospital"
                                     "&general_beds=-1", server.token)
    assert status == 422 and json.loads(body)["problems"][0]["field"] == "query.general_beds"   # a parameter check (ge=0)


def test_rules_of_an_unknown_programme_is_a_404_like_plans(server):
    for path in ("/api/v1/rules?programme=JUNK", "/api/v1/rules?programme=%1b[31m", "/api/v1/plans?programme=JUNK"):
        status, body = _get(server.port, path, server.token)
        assert status == 404, (path, body)
        out = json.loads(body)
        assert out["problems"][0]["field"] == "programme" and "fukuoka-cyber-2025" in out["problems"][0]["message"]
        assert "\x1b" not in out["message"]
    status, body = _get(server.port, "/api/v1/rules?programme=jma-support", server.token)
    assert status == 200 and json.loads(body)["rules"]


def test_a_desk_record_path_that_is_not_a_number_is_a_desk_page(server):
    for path in ("/desk/en/ledger/records/abc", "/desk/en/ledger/records/1.5", "/desk/ja/ledger?page=x"):
        status, body = _get(server.port, path)
        assert status == 404, (path, body)
        assert body.lstrip().startswith(b"<!DOCTYPE html>"), body[:200]
        assert b'"problems"' not in body
