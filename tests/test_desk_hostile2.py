"""The desk against the second hostile probe (N5a, N7, N8, N9, N11, N12): the review form only on the page of
the claim's current decision, a decision that needs a second review shown as a draft before it is
recorded, search dates as YYYY-MM-DD only, thousands commas only, no form field read as a file's repr,
and scenario failures in words. Through the desk app on a real SQLite ledger."""
from __future__ import annotations

import copy
import html
import json
import re

import pytest
import yaml

from adjudicator.ledger import Ledger
from adjudicator.service.desk import forms

from support import EXAMPLES
from test_desk import NAGANO, desk, login  # noqa: F401 - `desk` is the fixture
from test_desk_hostile import _pending_review, beside

FUKUOKA = json.loads(json.dumps(yaml.safe_load((EXAMPLES / "fukuoka_seed_example.yaml").read_text(encoding="utf-8")),
                                default=str))
FUKUOKA["policy"]["policy_number"] = "FK-DESK-1"  # recorded claims carry one


def _second(desk) -> None:
    with Ledger(str(desk.path)) as led:
        desk.tokens["second"] = led.add_user("handler-2", "handler")


def _refused(claim_id: str) -> dict:
    claim = copy.deepcopy(NAGANO)
    claim.update(claim_id=claim_id)
    claim["incident"]["acts"]["intentional"] = "named_insured"  # 004 §7: refused, so it waits for review
    return claim


# ---------------------------------------------------------------------------- N5(a)
def test_the_review_form_is_only_on_the_page_of_the_claims_current_decision(desk):
    _second(desk)
    first = _pending_review(desk, login(desk, "handler"), "OLD-1")
    csrf = login(desk, "handler")
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(_refused("OLD-1")),
                                                  "readjudicate": "1"})
    assert r.status_code == 200
    with Ledger(str(desk.path)) as led:
        current = led.state("OLD-1")["decision_seq"]
    assert current > first
    login(desk, "second")
    old = desk.get(f"/desk/en/ledger/records/{first}")  # from a bookmark or a colleague's "please review #first"
    # no form on the old page acts on the current decision (its payment form names the decision shown)
    assert old.status_code == 200 and 'id="review-form"' not in old.text
    assert f'name="decision_seq" value="{current}"' not in old.text
    assert 'id="review-elsewhere"' in old.text
    assert f'href="/desk/en/ledger/records/{current}#handling" id="current-decision">#{current}</a>' in old.text
    new = desk.get(f"/desk/en/ledger/records/{current}")
    assert 'id="review-form"' in new.text and f'name="decision_seq" value="{current}"' in new.text
    assert 'id="review-elsewhere"' not in new.text
    # a clock step's record carries the same decision: its page offers the form, naming that decision
    csrf = login(desk, "handler")
    assert desk.post("/desk/en/claims/OLD-1/clock", data={"csrf": csrf, "action": "complete",
                                                          "completed_on": "2016-07-01"}).status_code == 303
    with Ledger(str(desk.path)) as led:
        step = led.state("OLD-1")["seq"]
    assert step > current
    login(desk, "second")
    page = desk.get(f"/desk/en/ledger/records/{step}")
    assert 'id="review-form"' in page.text and f'name="decision_seq" value="{current}"' in page.text
    # in Japanese too
    login(desk, "second", "ja")
    old = desk.get(f"/desk/ja/ledger/records/{first}")
    assert 'id="review-form"' not in old.text and "現在の判定ではありません" in old.text


# ---------------------------------------------------------------------------- N7
def _fk_review(claim_id: str) -> dict:
    claim = copy.deepcopy(FUKUOKA)
    claim["claim_id"] = claim_id
    claim["losses"] = claim["losses"] + [{"category": "ransom_payment", "amount": 1000}]  # refused: a cut
    return claim


@pytest.mark.parametrize("lang,pay,draft", [("en", "The insurance payment above will be made.", "(DRAFT)"),
                                            ("ja", "上記のとおり保険金をお支払いします。", "（案）")])
def test_an_unrecorded_decision_that_needs_review_is_a_draft_as_on_the_api(desk, lang, pay, draft):
    csrf = login(desk, "handler", lang)
    r = desk.post(f"/desk/{lang}/claims/file", data={"csrf": csrf, "text": json.dumps(_fk_review("PROBE-1"))})
    assert r.status_code == 200, r.text[-1500:]
    assert draft in r.text and pay not in r.text
    # the same claim without the refused line needs no review: a final document with its payment sentence
    plain = dict(_fk_review("PROBE-2"), losses=FUKUOKA["losses"])
    r = desk.post(f"/desk/{lang}/claims/file", data={"csrf": csrf, "text": json.dumps(plain)})
    assert r.status_code == 200 and pay in r.text and draft not in r.text
    # recorded, it waits for review; posted again, the 409 "already recorded" page is a draft as well
    claim = json.dumps(_fk_review("PROBE-1"))
    assert desk.post(f"/desk/{lang}/claims/record", data={"csrf": csrf, "claim": claim}).status_code == 200
    r = desk.post(f"/desk/{lang}/claims/record", data={"csrf": csrf, "claim": claim})
    assert r.status_code == 409 and draft in r.text and pay not in r.text


# ---------------------------------------------------------------------------- N8 (desk)
def test_search_dates_are_yyyy_mm_dd_only(desk):
    csrf = login(desk, "handler")
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="D-1"))}
                     ).status_code == 200
    login(desk, "auditor")
    r = desk.get("/desk/en/ledger?date_from=2000-01-01")
    assert r.status_code == 200 and "D-1" in r.text
    for field in ("date_from", "date_to"):
        for bad in ("20000101", "2000-W01-1", "2000-001", "2000-1-1", "２０００-01-01"):
            for url in (f"/desk/en/ledger?{field}={bad}", f"/desk/en/ledger/export?{field}={bad}&format=jsonl"):
                r = desk.get(url)
                assert r.status_code == 422, (url, r.status_code)
                assert "Expected a date YYYY-MM-DD" in r.text and f"{field}: {bad}" in html.unescape(r.text), url


# ---------------------------------------------------------------------------- N9
@pytest.mark.parametrize("text", ["1,5", "1,,0,0", "100,", ",100", "1,50,000", "1,0000", "12,34,567", "１，５"])
def test_an_amount_with_commas_elsewhere_than_thousands_is_refused(desk, text):
    values = forms.values_from_claim(NAGANO)
    values.update({"losses[0].amount": text, "csrf": login(desk, "handler")})
    r = desk.post("/desk/en/claims/decide", data=values)
    assert r.status_code == 422, text
    assert "expected a whole number" in beside(r.text).get("losses[0].amount", ""), beside(r.text)


@pytest.mark.parametrize("text,amount", [("1,234,567", 1_234_567), ("100", 100), ("1,000", 1000), ("123,456円", 123_456)])
def test_thousands_commas_are_read(text, amount):
    assert forms.claim_from_values({"losses[0].amount": text, "losses[0].category": "x"})[0]["losses"][0]["amount"] \
        == amount


# ---------------------------------------------------------------------------- N11
def test_a_text_field_sent_as_a_file_is_refused_not_recorded_as_its_repr(desk):
    _second(desk)
    seq = _pending_review(desk, login(desk, "handler"), "FILE-1")
    csrf = login(desk, "second")
    note = {"note": ("n.txt", b"read it", "text/plain")}
    r = desk.post("/desk/en/claims/FILE-1/review", data={"csrf": csrf, "action": "return", "decision_seq": str(seq)},
                  files=note)
    assert r.status_code == 400 and "not sent as one text" in r.text and ">note<" in r.text, r.text[-800:]
    # a note sent twice is not read as a list either
    r = desk.post("/desk/en/claims/FILE-1/review", data={"csrf": csrf, "action": "return", "decision_seq": str(seq),
                                                         "note": ["a", "b"]})
    assert r.status_code == 400
    with Ledger(str(desk.path)) as led:
        state = led.state("FILE-1")
        assert state["seq"] == seq and state["review"]["state"] == "pending_review"
    csrf = login(desk, "handler")
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="FILE-2"))})
    assert r.status_code == 200
    with Ledger(str(desk.path)) as led:
        seq2 = led.state("FILE-2")["seq"]
    for path, data, part in (
            ("/desk/en/claims/FILE-2/clock", {"action": "pause", "from": "2016-07-02", "to": "2016-07-05"}, "note"),
            ("/desk/en/claims/FILE-2/clock", {"action": "complete"}, "completed_on"),
            ("/desk/en/claims/decide", forms.values_from_claim(NAGANO), "claim_id"),
            ("/desk/en/claims/record", {"claim": json.dumps(NAGANO)}, "readjudicate"),
            ("/desk/en/scenarios", {}, "text"), ("/desk/en/claims/file", {}, "text")):
        r = desk.post(path, data={"csrf": csrf, **data}, files={part: ("x.txt", b"2016-07-01", "text/plain")})
        assert r.status_code in (400, 403) and "Traceback" not in r.text, (path, part, r.status_code)
        if path != "/desk/en/scenarios":  # a handler may not run scenarios: 403 before the form
            assert r.status_code == 400 and f">{part}<" in r.text, (path, part, r.text[-600:])
    with Ledger(str(desk.path)) as led:
        assert led.state("FILE-2")["seq"] == seq2 and "UploadFile" not in json.dumps(led.state("FILE-2"))
    # the claim file's own upload field still takes a file
    r = desk.post("/desk/en/claims/file", data={"csrf": csrf},
                  files={"file": ("ng.json", json.dumps(dict(NAGANO, claim_id="FILE-3")).encode(), "application/json")})
    assert r.status_code == 200, r.text[-600:]
    # a login form's `next` sent twice is refused, not a 500
    desk.cookies.clear()
    page = desk.get("/desk/en/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = desk.post("/desk/en/login", data={"csrf": token, "token": desk.tokens["handler"], "next": ["/desk/en/a", "/b"]})
    assert r.status_code == 400


# ---------------------------------------------------------------------------- N12
@pytest.mark.parametrize("lang,step,words", [
    ("en", 'Given the claim file "scenarios/examples/nope.yaml"', "no such claim file under scenarios/: scenarios/examples/nope.yaml"),
    ("en", "Given the plan is D", "start the scenario with a claim (Given a typical … claim"),
    ("en", "Given a typical nagano claim", "unknown programme &#39;nagano&#39;: expected one of fukuoka-cyber-2025"),
    ("ja", "前提 加入タイプは D", "最初に請求を用意してください"),
    ("ja", "前提 請求ファイル「scenarios/examples/nope.yaml」", "請求ファイルが scenarios/ の下にありません"),
])
def test_scenario_failures_are_worded_without_server_paths(desk, lang, step, words):
    csrf = login(desk, "underwriter", lang)
    head = "Feature: x\n  Scenario: y\n" if lang == "en" else "# language: ja\n機能: x\n  シナリオ: y\n"
    when = "When the claim is adjudicated" if lang == "en" else "もし 判定する"
    r = desk.post(f"/desk/{lang}/scenarios", data={"csrf": csrf, "text": f"{head}    {step}\n    {when}\n"})
    assert r.status_code == 200 and words in r.text, re.findall(r'(?s)<section id="result".*?</section>', r.text)
    from adjudicator.service.desk.scenario_run import project_root
    assert str(project_root()) not in r.text and "KeyError" not in r.text and "Errno" not in r.text
