"""The desk against the hostile probe's findings (F5, F8, F15): the hidden claim JSON through the input
gate, sessions that end at logout and token rotation, amounts in ASCII or full-width digits only, notes
refused rather than cut, and a ledger refusal titled as one. Through the desk app on a real SQLite ledger
(the session columns also on PostgreSQL)."""
from __future__ import annotations

import copy
import html
import json
import re

import pytest

from adjudicator.contract.limits import DEFAULT
from adjudicator.ledger import Ledger, LedgerError
from adjudicator.ledger.base import SCHEMA_VERSION
from adjudicator.service.desk import forms

from ledger_support import cli, rows, sql
from test_desk import NAGANO, csrf_of, desk, login  # noqa: F401 - `desk` is the fixture

beside = lambda html: dict(re.findall(r'class="field-error" role="alert" data-field="([^"]+)">([^<]*)', html))  # noqa: E731


def recorded(path, claim_id: str) -> bool:
    with Ledger(str(path)) as led:
        return led.exists(claim_id) is not None


# ---------------------------------------------------------------------------- F5: the hidden claim JSON
HIDDEN_CLAIM_FORMS = ("show", "edit", "record", "answer")


@pytest.mark.parametrize("form", HIDDEN_CLAIM_FORMS)
@pytest.mark.parametrize("nested", ["[" * 50_000 + "]" * 50_000, '{"a":' * 30_000 + "1" + "}" * 30_000])
def test_a_deeply_nested_hidden_claim_is_refused_in_words(desk, form, nested):
    csrf = login(desk, "handler")
    r = desk.post(f"/desk/en/claims/{form}", data={"csrf": csrf, "claim": nested})
    assert r.status_code == 400, r.status_code
    assert f"nested deeper than {DEFAULT.max_depth} levels" in r.text


@pytest.mark.parametrize("form", HIDDEN_CLAIM_FORMS)
def test_a_hidden_claim_with_a_duplicate_key_is_refused_and_not_recorded(desk, form):
    csrf = login(desk, "handler", "ja")
    body = json.dumps(dict(NAGANO, claim_id="DUP-A"), ensure_ascii=False)
    body = body.replace('"claim_id": "DUP-A"', '"claim_id": "DUP-A", "claim_id": "DUP-B"')
    assert body.count('"claim_id"') == 2
    r = desk.post(f"/desk/ja/claims/{form}", data={"csrf": csrf, "claim": body})
    assert r.status_code == 400 and "JSON として読めません: duplicate key 'claim_id'" in html.unescape(r.text), r.text[-2000:]
    assert not recorded(desk.path, "DUP-A") and not recorded(desk.path, "DUP-B")


def test_a_hidden_claim_that_is_not_a_mapping_or_not_json_is_refused(desk):
    csrf = login(desk, "handler")
    for bad, words in (("[1, 2]", "expected a mapping"), ("{", "not valid JSON")):
        r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": bad})
        assert r.status_code == 400 and words in r.text, (bad, r.text[-1500:])
    # a good hidden claim still decides and records
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="OK-1"))})
    assert r.status_code == 200 and recorded(desk.path, "OK-1")


# ---------------------------------------------------------------------------- F8: sessions end
def test_a_copied_session_cookie_is_useless_after_logout(desk):
    csrf = login(desk, "handler")
    copied = desk.cookies.get("desk_session")
    other = desk.__class__(desk.app, follow_redirects=False)  # the same account in a second browser
    other.cookies.set("desk_session", copied)
    assert other.get("/desk/en/work").status_code == 200
    r = desk.post("/desk/en/logout", data={"csrf": csrf})
    assert r.status_code == 303
    desk.cookies.set("desk_session", copied)  # replayed after logout
    r = desk.get("/desk/en/work")
    assert r.status_code == 303 and r.headers["location"].startswith("/desk/en/login")
    assert other.get("/desk/en/work").status_code == 303  # logging out ends the account's desk sessions
    # the copied cookie cannot post a form either, and a fresh login works
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="AFTER"))})
    assert r.status_code == 303 and not recorded(desk.path, "AFTER")
    login(desk, "handler")
    assert desk.get("/desk/en/work").status_code == 200


def test_rotating_the_token_ends_the_desk_sessions_made_with_the_old_one(desk, capsys):
    login(desk, "handler")
    login_other = desk.__class__(desk.app, follow_redirects=False)
    login_other.cookies.set("desk_session", desk.cookies.get("desk_session"))
    assert desk.get("/desk/en/work").status_code == 200
    rc, out, err = cli(capsys, "users", "rotate", "handler-1", "--ledger", str(desk.path))
    assert rc == 0, err
    assert desk.get("/desk/en/work").status_code == 303
    assert login_other.get("/desk/en/work").status_code == 303
    # the old token no longer logs in, the new one does
    desk.tokens["handler"] = out.strip().splitlines()[-1].strip()
    login(desk, "handler")
    assert desk.get("/desk/en/work").status_code == 200


def test_other_accounts_keep_their_sessions_when_one_logs_out(desk):
    login(desk, "auditor")
    auditor = desk.cookies.get("desk_session")
    csrf = login(desk, "handler")
    desk.post("/desk/en/logout", data={"csrf": csrf})
    desk.cookies.set("desk_session", auditor)
    assert desk.get("/desk/en/ledger").status_code == 200


def test_the_session_generation_on_both_backends_and_a_version_3_ledger_upgraded(ledger_target):
    with Ledger(ledger_target) as led:
        token = led.add_user("hana", "handler")
    # a ledger as schema version 3 wrote it: no session column in users
    sql(ledger_target, "ALTER TABLE users DROP COLUMN session_gen; "
                       "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with Ledger(ledger_target) as led:
        assert led.authenticate(token) == {"name": "hana", "role": "handler"}
        first = led.desk_account("hana")
        assert first["role"] == "handler" and not first["disabled"] and len(first["session"]) >= 32
        assert token not in json.dumps(first)
        led.end_sessions("hana")
        ended = led.desk_account("hana")["session"]
        assert ended != first["session"]
        led.rotate_user("hana")
        assert led.desk_account("hana")["session"] not in (first["session"], ended)
        assert led.desk_account("nobody") is None
        with pytest.raises(LedgerError, match="^name: no user named 'nobody'"):
            led.end_sessions("nobody")
    assert rows(ledger_target, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert rows(ledger_target, "SELECT session_gen FROM users") == [(1,)]


# ---------------------------------------------------------------------------- F15: amounts, notes, titles
def _amount(desk, csrf, text: str):
    values = forms.values_from_claim(NAGANO)
    values.update({"losses[0].amount": text, "csrf": csrf})
    return desk.post("/desk/en/claims/decide", data=values)


@pytest.mark.parametrize("text", ["1²3", "①⓪⓪", "⑩", "٣0", "𝟗𝟗", "৩", "7 5", "1　000", "五百", "1.5", "0x10", "+5"])
def test_an_amount_in_other_digits_or_with_inner_spaces_is_refused_naming_the_field(desk, text):
    r = _amount(desk, login(desk, "handler"), text)
    assert r.status_code == 422, text
    assert "losses[0].amount" in beside(r.text) and "expected a whole number" in beside(r.text)["losses[0].amount"]


@pytest.mark.parametrize("text", ["5000000", "5,000,000", "５００００００", "５，０００，０００", "5,000,000円", "¥5,000,000",
                                  "￥５，０００，０００", "5,000,000 円"])
def test_an_amount_in_ascii_or_full_width_digits_is_read(desk, text):
    r = _amount(desk, login(desk, "handler"), text)
    assert r.status_code == 200, (text, beside(r.text))
    assert forms.claim_from_values({"losses[0].amount": text, "losses[0].category": "x"})[0]["losses"][0]["amount"] \
        == 5_000_000


def _pending_review(desk, csrf, claim_id: str) -> int:
    refused = copy.deepcopy(NAGANO)
    refused.update(claim_id=claim_id)
    refused["incident"]["acts"]["intentional"] = "named_insured"  # 004 §7: refused, so it waits for review
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(refused)})
    assert r.status_code == 200, r.text
    with Ledger(str(desk.path)) as led:
        assert led.state(claim_id)["review"]["state"] == "pending_review"
        return led.state(claim_id)["seq"]


def test_a_review_note_over_2000_characters_is_refused_not_cut(desk):
    with Ledger(str(desk.path)) as led:
        desk.tokens["second"] = led.add_user("handler-2", "handler")
    seq = _pending_review(desk, login(desk, "handler"), "NOTE-LONG")
    csrf = login(desk, "second")
    r = desk.post("/desk/en/claims/NOTE-LONG/review", data={"csrf": csrf, "action": "approve", "note": "x" * 2001, "decision_seq": seq})
    assert r.status_code == 422 and "at most 2,000 characters" in beside(r.text).get("note", ""), beside(r.text)
    with Ledger(str(desk.path)) as led:
        assert led.state("NOTE-LONG")["review"]["state"] == "pending_review" and led.state("NOTE-LONG")["seq"] == seq
    csrf = login(desk, "second", "ja")
    r = desk.post("/desk/ja/claims/NOTE-LONG/review", data={"csrf": csrf, "action": "approve", "note": "あ" * 2001, "decision_seq": seq})
    assert r.status_code == 422 and "2,000文字以下" in beside(r.text).get("note", ""), beside(r.text)
    r = desk.post("/desk/ja/claims/NOTE-LONG/review", data={"csrf": csrf, "action": "approve", "note": "x" * 2000, "decision_seq": seq})
    assert r.status_code == 303
    with Ledger(str(desk.path)) as led:
        assert led.state("NOTE-LONG")["review"]["note"] == "x" * 2000


def test_a_review_lands_only_on_the_decision_its_page_showed(desk):
    with Ledger(str(desk.path)) as led:
        desk.tokens["second"] = led.add_user("handler-2", "handler")
    first = _pending_review(desk, login(desk, "handler"), "STALE-1")
    csrf = login(desk, "second")
    page = desk.get(f"/desk/en/ledger/records/{first}")
    assert page.status_code == 200 and f'name="decision_seq" value="{first}"' in page.text
    # the first handler re-adjudicates while the reviewer has the page open
    csrf1 = login(desk, "handler")
    refused = copy.deepcopy(NAGANO)
    refused.update(claim_id="STALE-1")
    refused["incident"]["acts"]["intentional"] = "named_insured"
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf1, "claim": json.dumps(refused),
                                                     "readjudicate": "1"}).status_code in (200, 303)
    with Ledger(str(desk.path)) as led:
        second = led.state("STALE-1")["decision_seq"]
    assert second > first
    csrf = login(desk, "second")
    r = desk.post("/desk/en/claims/STALE-1/review", data={"csrf": csrf, "action": "approve", "decision_seq": first})
    assert r.status_code == 422 and "re-adjudicated" in beside(r.text).get("action", ""), beside(r.text)
    with Ledger(str(desk.path)) as led:
        assert led.state("STALE-1")["review"]["state"] == "pending_review"
    r = desk.post("/desk/en/claims/STALE-1/review", data={"csrf": csrf, "action": "approve"})
    assert r.status_code == 422  # a form without the record it was read on is not taken
    r = desk.post("/desk/en/claims/STALE-1/review", data={"csrf": csrf, "action": "approve", "decision_seq": second})
    assert r.status_code == 303
    with Ledger(str(desk.path)) as led:
        assert led.state("STALE-1")["review"]["state"] == "approved"


def test_a_pause_note_over_500_characters_is_refused_not_cut(desk):
    csrf = login(desk, "handler")
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="PAUSE-1"))})
    assert r.status_code == 200
    r = desk.post("/desk/en/claims/PAUSE-1/clock", data={"csrf": csrf, "action": "complete", "completed_on": "2016-07-01"})
    assert r.status_code == 303, r.text
    with Ledger(str(desk.path)) as led:
        seq = led.state("PAUSE-1")["seq"]
    pause = {"csrf": csrf, "action": "pause", "from": "2016-07-02", "to": "2016-07-05"}
    r = desk.post("/desk/en/claims/PAUSE-1/clock", data={**pause, "note": "y" * 501})
    assert r.status_code == 422 and "at most 500 characters" in beside(r.text).get("note", ""), beside(r.text)
    with Ledger(str(desk.path)) as led:
        assert led.state("PAUSE-1")["seq"] == seq and not led.state("PAUSE-1")["clock"]["pauses"]
    r = desk.post("/desk/en/claims/PAUSE-1/clock", data={**pause, "note": "y" * 500})
    assert r.status_code == 303
    with Ledger(str(desk.path)) as led:
        assert led.state("PAUSE-1")["clock"]["pauses"][0]["note"] == "y" * 500
        seq = led.state("PAUSE-1")["seq"]
    # a pause recorded in error is taken back from the record page's own form
    page = desk.get(f"/desk/en/ledger/records/{seq}")
    assert 'id="clock-remove-pause"' in page.text and '<option value="2016-07-02">2016-07-02–2016-07-05</option>' in page.text
    r = desk.post("/desk/en/claims/PAUSE-1/clock", data={"csrf": csrf, "action": "remove_pause", "from": "2016-07-03"})
    assert r.status_code == 422 and "No pause with that first day" in beside(r.text).get("from", ""), beside(r.text)
    r = desk.post("/desk/en/claims/PAUSE-1/clock", data={"csrf": csrf, "action": "remove_pause", "from": "2016-07-02"})
    assert r.status_code == 303
    with Ledger(str(desk.path)) as led:
        assert led.state("PAUSE-1")["clock"]["pauses"] == [] and led.state("PAUSE-1")["clock"]["due_on"] == "2016-07-31"


def test_a_ledger_refusal_while_recording_is_titled_not_recorded(desk):
    csrf = login(desk, "handler")
    claim = copy.deepcopy(dict(NAGANO, claim_id="NO-POLICY-NUMBER"))
    del claim["policy"]["policy_number"]  # the ledger keeps aggregates by it: refused
    r = desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim)})
    assert r.status_code == 422
    title = re.search(r"<title>([^<]*)</title>", r.text).group(1)
    assert title.startswith("Not recorded") and "Not found" not in r.text
    assert "policy_number" in r.text and not recorded(desk.path, "NO-POLICY-NUMBER")


def test_clock_refusals_read_in_the_pages_language(desk):
    csrf = login(desk, "handler", "ja")
    r = desk.post("/desk/ja/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="CLOCK-JA"))})
    assert r.status_code == 200
    r = desk.post("/desk/ja/claims/CLOCK-JA/clock", data={"csrf": csrf, "action": "complete", "completed_on": "2200-01-01"})
    assert r.status_code == 422 and beside(r.text).get("completed_on") == "1900-01-01 から 2199-12-31 までの日付にしてください"
    assert desk.post("/desk/ja/claims/CLOCK-JA/clock", data={"csrf": csrf, "action": "complete",
                                                             "completed_on": "2016-07-01"}).status_code == 303
    r = desk.post("/desk/ja/claims/CLOCK-JA/clock", data={"csrf": csrf, "action": "paid", "paid_on": "2016-06-30"})
    assert r.status_code == 422 and beside(r.text).get("paid_on") == "支払日は請求完了日以降にしてください"
    r = desk.post("/desk/ja/claims/CLOCK-JA/clock", data={"csrf": csrf, "action": "pause", "from": "2016-07-02",
                                                          "to": "2016-07-05", "note": "待ち\u202e"})
    assert r.status_code == 422 and beside(r.text).get("note") == "制御文字・双方向制御文字・ゼロ幅文字は使えません"


def test_an_extension_or_a_payment_recorded_in_error_is_taken_back_from_the_record_page(desk):
    csrf = login(desk, "handler")
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(dict(NAGANO, claim_id="UNDO-1"))}
                     ).status_code == 200
    post = lambda **f: desk.post("/desk/en/claims/UNDO-1/clock", data={"csrf": csrf, **f})  # noqa: E731
    assert post(action="complete", completed_on="2016-07-01").status_code == 303
    assert post(action="extend", reason="abroad", to="2199-12-31").status_code == 303
    with Ledger(str(desk.path)) as led:
        seq = led.state("UNDO-1")["seq"]
    assert 'id="clock-remove-extension"' in desk.get(f"/desk/en/ledger/records/{seq}").text
    assert post(action="remove_extension").status_code == 303
    assert post(action="paid", paid_on="2016-07-20").status_code == 303
    with Ledger(str(desk.path)) as led:
        st = led.state("UNDO-1")
    assert st["clock"]["extension"] is None and st["clock"]["paid_on"] == "2016-07-20"
    page = desk.get(f"/desk/en/ledger/records/{st['seq']}").text
    assert 'id="clock-remove-paid"' in page and 'id="clock-paid"' not in page
    assert post(action="remove_paid").status_code == 303
    with Ledger(str(desk.path)) as led:
        assert led.state("UNDO-1")["clock"]["paid_on"] is None and led.state("UNDO-1")["clock"]["due_on"] == "2016-07-31"


def test_a_payment_from_the_page_of_an_older_decision_is_refused(desk):
    csrf = login(desk, "handler")
    claim = dict(NAGANO, claim_id="PAYOLD-1")
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(claim)}).status_code == 200
    with Ledger(str(desk.path)) as led:
        first = led.state("PAYOLD-1")["decision_seq"]
    assert desk.post("/desk/en/claims/PAYOLD-1/clock", data={"csrf": csrf, "action": "complete",
                                                             "completed_on": "2016-07-01"}).status_code == 303
    more = copy.deepcopy(claim)
    more["losses"][0]["amount"] += 1_000_000
    assert desk.post("/desk/en/claims/record", data={"csrf": csrf, "claim": json.dumps(more), "readjudicate": "1"}
                     ).status_code == 200
    page = desk.get(f"/desk/en/ledger/records/{first}").text
    assert f'name="decision_seq" value="{first}"' in page  # the old page's payment form names its own decision
    r = desk.post("/desk/en/claims/PAYOLD-1/clock", data={"csrf": csrf, "action": "paid", "paid_on": "2016-07-20",
                                                          "decision_seq": str(first)})
    assert r.status_code == 422 and "re-adjudicated" in beside(r.text).get("paid_on", ""), beside(r.text)
    with Ledger(str(desk.path)) as led:
        assert led.state("PAYOLD-1")["clock"]["paid_on"] is None
