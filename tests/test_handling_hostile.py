"""Handling steps a hostile or careless hand takes (hostile probe F3, F4, F11, F16), on SQLite and
PostgreSQL: dates outside the claim file's bounds, a payment before completion or in the future, a pause
that cannot be taken back, notes with control characters, a review landing on a decision the reviewer
never read, and a re-adjudication that raises what a paid claim owes."""
import pytest

from adjudicator.ledger import Ledger, LedgerError
from adjudicator.policy.catalogue import load_catalogue

from ledger_support import claim_data, record

CAT = load_catalogue()
CUT = {"losses": [{"category": "call_center", "amount": 700_000}, {"category": "fine_penalty", "amount": 100_000}]}
SMALL = {"losses": [{"category": "call_center", "amount": 100_000}]}
LARGE = {"losses": [{"category": "call_center", "amount": 500_000}]}
AT = "2026-01-10T09:00:00+00:00"


@pytest.mark.parametrize("action, values, field", [
    ("complete", {"completed_on": "0001-01-01"}, "completed_on"),
    ("complete", {"completed_on": "9999-12-31"}, "completed_on"),
    ("extend", {"reason": "abroad", "to": "9999-12-31"}, "to"),
    ("pause", {"from": "2025-08-06", "to": "9999-12-30"}, "to"),
    ("pause", {"from": "1899-12-31", "to": "2025-08-10"}, "from"),
    ("paid", {"paid_on": "0001-01-01"}, "paid_on"),
])
def test_a_date_outside_the_claim_files_bounds_is_refused_naming_the_field(ledger_target, action, values, field):
    with Ledger(ledger_target) as led:
        record(led, claim_data("B1", SMALL), by="alice")
        if action != "complete":
            led.clock("B1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=rf"^{field}: .* is outside 1900-01-01 \.\. 2199-12-31"):
            led.clock("B1", action, values, CAT, by="alice", at=AT)
        assert led.state("B1")["clock"]["due_on"] in (None, "2025-08-31")  # nothing was written


def test_a_payment_is_not_before_the_completed_claim_nor_after_today(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("B2", SMALL), by="alice")
        led.clock("B2", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^paid_on: 2025-07-31 is before the claim was completed \(2025-08-01\)"):
            led.clock("B2", "paid", {"paid_on": "2025-07-31"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^paid_on: 2026-01-11 is after today \(2026-01-10\)"):
            led.clock("B2", "paid", {"paid_on": "2026-01-11"}, CAT, by="alice", at=AT)
        _, st = led.clock("B2", "paid", {"paid_on": "2026-01-10"}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_on"] == "2026-01-10"


def test_a_pause_recorded_in_error_can_be_taken_back_and_the_completion_date_keeps_before_pauses(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("B3", SMALL), by="alice")
        led.clock("B3", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        _, st = led.clock("B3", "pause", {"from": "2025-08-06", "to": "2199-12-30"}, CAT, by="alice", at=AT)
        assert st["clock"]["paused_days"] == 63_698 and st["clock"]["due_on"] == "2200-01-24"
        with pytest.raises(LedgerError, match=r"^completed_on: a pause from 2025-08-06 is recorded"):
            led.clock("B3", "complete", {"completed_on": "2025-08-07"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^from: no pause from 2025-08-07 is recorded \(recorded: "
                                              r"2025-08-06 - 2199-12-30\)"):
            led.clock("B3", "remove_pause", {"from": "2025-08-07"}, CAT, by="alice", at=AT)
        _, st = led.clock("B3", "remove_pause", {"from": "2025-08-06"}, CAT, by="alice", at=AT)
        assert st["clock"]["pauses"] == [] and st["clock"]["paused_days"] == 0 and st["clock"]["due_on"] == "2025-08-31"
        _, st = led.clock("B3", "pause", {"from": "2025-08-06", "to": "2025-08-16"}, CAT, by="alice", at=AT)
        assert st["clock"]["due_on"] == "2025-09-10"
        _, st = led.clock("B3", "extend", {"reason": "abroad", "to": "2025-10-31"}, CAT, by="alice", at=AT)
        assert st["clock"]["due_on"] == "2025-11-10"
        ok, msg = led.verify()
        assert ok, msg


@pytest.mark.parametrize("note, at", [("ok\x1b[2J", 3), ("見た\u202eevil", 3), ("a\x00b", 2), ("z\u200bw", 2),
                                      ("tab\there", 4), ("\u3164", 1), ("x\u2800", 2), ("a\u034fb", 2),
                                      ("ok\ufe0f", 3), ("e" + "\u0301" * 4, 5)])
def test_notes_refuse_control_bidi_and_zero_width_characters(ledger_target, note, at):
    with Ledger(ledger_target) as led:
        record(led, claim_data("N1", CUT), by="alice")
        with pytest.raises(LedgerError, match=rf"^note: no control, bidi or zero-width characters, nor invisible ones; U\+[0-9A-F]{{4}} "
                                              rf"at position {at}$"):
            led.review("N1", "return", note, by="bob")
        led.clock("N1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^note: no control"):
            led.clock("N1", "pause", {"from": "2025-08-02", "to": "2025-08-03", "note": note}, CAT, by="alice", at=AT)
        assert led.state("N1")["review"]["state"] == "pending_review" and led.state("N1")["clock"]["pauses"] == []


def test_a_long_note_is_refused_not_cut_and_a_review_note_may_run_over_lines(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("N2", CUT), by="alice")
        led.clock("N2", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^note: at most 500 characters, got 501"):
            led.clock("N2", "pause", {"from": "2025-08-02", "to": "2025-08-03", "note": "y" * 501}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=r"^note: at most 2,000 characters, got 2,001"):
            led.review("N2", "return", "y" * 2001, by="bob")
        _, st = led.review("N2", "return", "罰金は対象外です。\r\n　根拠を確認してください", by="bob")
        assert st["review"]["note"] == "罰金は対象外です。\n　根拠を確認してください"


def test_a_review_names_the_decision_it_approves(ledger_target):
    with Ledger(ledger_target) as led:
        first, _ = record(led, claim_data("T1", CUT), by="alice")
        second, _ = record(led, claim_data("T1", {"losses": [{"category": "fine_penalty", "amount": 50_000_000},
                                                            {"category": "call_center", "amount": 1_000}]}),
                           readjudicate=True, by="alice")
        with pytest.raises(LedgerError, match=rf"^decision_seq: the claim's decision is now record {second}, "
                                              rf"not {first}: it was re-adjudicated"):
            led.review("T1", "approve", "checked v1", by="bob", decision_seq=first)
        assert led.state("T1")["review"]["state"] == "pending_review"
        seq, st = led.review("T1", "approve", "checked v2", by="bob", decision_seq=second)
        assert st["review"]["state"] == "approved" and st["decision_seq"] == second
        assert led.find(seq=seq).row["event_json"].count(f'"decision_seq":{second}') >= 1


def test_a_re_adjudication_that_raises_a_paid_claim_runs_the_clock_again_for_the_difference(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("P1", SMALL), by="alice")
        led.clock("P1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        led.clock("P1", "paid", {"paid_on": "2025-08-20"}, CAT, by="alice", at=AT)
        _, ev = record(led, claim_data("P1", LARGE), readjudicate=True, by="alice")
        clock = led.state("P1")["clock"]
        assert led.state("P1")["total_payable"] == 500_000
        assert clock["paid_on"] is None and clock["paid_before"] == [{"paid_on": "2025-08-20", "total_payable": 100_000}]
        import datetime as dt
        row = next(r for r in led.worklist(today=dt.date(2026, 1, 10))[1] if r["claim_id"] == "P1")
        assert row["overdue"] and row["unpaid"]
        _, st = led.clock("P1", "paid", {"paid_on": "2026-01-05"}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_on"] == "2026-01-05" and st["clock"]["paid_before"][0]["total_payable"] == 100_000
        # lowering what a paid claim owes keeps it paid: nothing more is due (a refund is not a payment omission)
        record(led, claim_data("P1", SMALL), readjudicate=True, by="alice")
        assert led.state("P1")["clock"]["paid_on"] == "2026-01-05"


# ------------------------------------------------------------------ over the API and the CLI
def _api(tmp_path):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from adjudicator.service.app import create_app
    from adjudicator.service.settings import Settings
    path = tmp_path / "ledger.sqlite"
    with Ledger(str(path)) as led:
        tokens = {name: led.add_user(name, "handler") for name in ("h1", "h2")}
    client = TestClient(create_app(Settings(ledger=str(path))))
    return client, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}, path


def _wire(data: dict) -> dict:
    import json as _json
    return _json.loads(_json.dumps(data, default=str))


def test_the_api_refuses_a_stale_review_and_absurd_clock_dates_with_4xx(tmp_path):
    client, h, _ = _api(tmp_path)
    first = client.post("/api/v1/adjudicate?record=true", json=_wire(claim_data("API-T1", CUT)), headers=h["h1"])
    assert first.status_code == 200 and first.headers["X-Review-State"] == "pending_review"
    seq1 = client.get("/api/v1/claims/API-T1/handling", headers=h["h1"]).json()["decision_seq"]
    client.post("/api/v1/adjudicate?record=true&readjudicate=true", json=_wire(claim_data("API-T1", CUT)), headers=h["h1"])
    url = "/api/v1/claims/API-T1/review"
    stale = client.post(url, json={"action": "approve", "decision_seq": seq1}, headers=h["h2"])
    assert stale.status_code == 409 and stale.json()["problems"][0]["field"] == "decision_seq"
    assert client.post(url, json={"action": "approve", "decision_seq": 2**70}, headers=h["h2"]).status_code == 422
    bad = client.post(url, json={"action": "return", "note": "x\u202ey", "decision_seq": seq1 + 1}, headers=h["h2"])
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "note"
    seq2 = client.get("/api/v1/claims/API-T1/handling", headers=h["h1"]).json()["decision_seq"]
    ok = client.post(url, json={"action": "approve", "decision_seq": seq2}, headers=h["h2"])
    assert ok.status_code == 200 and ok.json()["review"]["state"] == "approved"
    clock = "/api/v1/claims/API-T1/clock"
    for body, field in (({"action": "complete", "completed_on": "0001-01-01"}, "completed_on"),
                        ({"action": "complete", "completed_on": "9999-12-31"}, "completed_on")):
        r = client.post(clock, json=body, headers=h["h1"])
        assert r.status_code == 422 and r.json()["problems"][0]["field"] == field
    assert client.post(clock, json={"action": "complete", "completed_on": "2025-08-01"}, headers=h["h1"]).status_code == 200
    r = client.post(clock, json={"action": "extend", "reason": "abroad", "to": "9999-12-31"}, headers=h["h1"])
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "to"
    client.post(clock, json={"action": "pause", "from": "2025-08-06", "to": "2199-12-30"}, headers=h["h1"])
    r = client.post(clock, json={"action": "remove_pause", "from": "2025-08-06"}, headers=h["h1"])
    assert r.status_code == 200 and r.json()["clock"]["due_on"] == "2025-08-31"


def test_the_cli_review_names_its_decision_and_a_pause_can_be_taken_back(tmp_path):
    import json as _json
    import subprocess
    import sys
    led_path = tmp_path / "l.sqlite"
    with Ledger(str(led_path)) as led:
        first, _ = record(led, claim_data("CLI-T1", CUT), by="alice")
        record(led, claim_data("CLI-T1", CUT), readjudicate=True, by="alice")
        second = led.state("CLI-T1")["decision_seq"]

    def run(*args):
        p = subprocess.run([sys.executable, "-m", "adjudicator", *args, "--ledger", str(led_path)],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr
    rc, out = run("review", "CLI-T1", "--approve", "--decision", str(first))
    assert rc == 2 and f"decision_seq: the claim's decision is now record {second}" in out
    rc, out = run("clock", "show", "CLI-T1")
    assert rc == 0 and f"CLI-T1: decision record {second}, review pending_review" in out
    rc, out = run("review", "CLI-T1", "--approve", "--decision", str(second), "--format", "json")
    assert rc == 0 and _json.loads(out)["review"]["state"] == "approved"
    assert run("clock", "complete", "CLI-T1", "--on", "2025-08-01")[0] == 0
    assert run("clock", "pause", "CLI-T1", "--from", "2025-08-06", "--to", "2025-08-09")[0] == 0
    rc, out = run("clock", "remove-pause", "CLI-T1", "--from", "2025-08-06")
    assert rc == 0 and "due 2025-08-31" in out
    rc, out = run("clock", "complete", "CLI-T1", "--on", "0001-01-01")
    assert rc == 2 and "completed_on: 0001-01-01 is outside 1900-01-01 .. 2199-12-31" in out and "Traceback" not in out


def test_an_unrecorded_document_of_a_decision_that_needs_review_is_a_draft(tmp_path):
    client, h, _ = _api(tmp_path)
    cut = client.post("/api/v1/adjudicate?format=text&lang=en", json=_wire(claim_data("API-D1", CUT)), headers=h["h1"])
    assert cut.status_code == 200 and "DRAFT" in cut.text and "will be made" not in cut.text
    plain = client.post("/api/v1/adjudicate?format=text&lang=en", json=_wire(claim_data("API-D2", SMALL)),
                        headers=h["h1"])
    assert plain.status_code == 200 and "DRAFT" not in plain.text and "will be made" in plain.text


# ------------------------------------------------------------------ second probe (N1, N3, N6)
def _file(cid, losses, payment=None):
    data = claim_data(cid, losses)
    if payment is not None:
        data["payment"] = payment
    return data


@pytest.mark.parametrize("payment, message", [
    ({"completed_on": "2025-08-01", "paid_on": "2045-01-01"}, r"^payment\.paid_on: 2045-01-01 is after today"),
    ({"completed_on": "2025-08-01", "paid_on": "1990-01-01"}, r"^payment\.paid_on: 1990-01-01 is before the claim was completed"),
    ({"paid_on": "2025-08-20"}, r"^payment\.paid_on: give payment\.completed_on"),
])
def test_the_claim_files_payment_dates_get_the_clocks_checks(ledger_target, payment, message):
    with Ledger(ledger_target) as led:
        with pytest.raises(LedgerError, match=message):
            record(led, _file("FP1", SMALL, payment), by="alice")
        assert led.head()[0] == 0  # nothing written
        record(led, _file("FP1", SMALL, {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}), by="alice")
        clock = led.state("FP1")["clock"]
        assert clock["paid_on"] == "2025-08-20" and clock["paid_amount"] == 100_000


def test_a_files_old_payment_does_not_close_a_raised_claim_again(ledger_target):
    paid = {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}
    with Ledger(ledger_target) as led:
        record(led, _file("FP2", SMALL, paid), by="alice")
        record(led, _file("FP2", LARGE, paid), readjudicate=True, by="alice")  # the handler edited the losses only
        clock = led.state("FP2")["clock"]
        assert clock["paid_on"] is None and clock["paid_amount"] == 100_000
        assert clock["paid_before"] == [{"paid_on": "2025-08-20", "total_payable": 100_000}]
        # the file's completion date does not move a clock that holds one (the clock's steps do)
        record(led, _file("FP2", LARGE, {"completed_on": "2025-12-01"}), readjudicate=True, by="alice")
        assert led.state("FP2")["clock"]["completed_on"] == "2025-08-01"


def test_up_then_down_again_a_claim_paid_in_full_stays_paid_and_no_second_payment(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("UD1", SMALL), by="alice")
        led.clock("UD1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        led.clock("UD1", "paid", {"paid_on": "2025-08-20"}, CAT, by="alice", at=AT)
        record(led, claim_data("UD1", LARGE), readjudicate=True, by="alice")
        assert led.state("UD1")["clock"]["paid_on"] is None
        record(led, claim_data("UD1", SMALL), readjudicate=True, by="alice")
        clock = led.state("UD1")["clock"]
        assert clock["paid_on"] == "2025-08-20" and clock["paid_before"] == [] and clock["paid_amount"] == 100_000
        with pytest.raises(LedgerError, match=r"^paid_on: the payment was recorded \(2025-08-20\)"):
            led.clock("UD1", "paid", {"paid_on": "2025-09-01"}, CAT, by="alice", at=AT)
        record(led, claim_data("UD1", {"losses": [{"category": "call_center", "amount": 50_000}]}),
               readjudicate=True, by="alice")
        assert led.state("UD1")["clock"]["paid_on"] == "2025-08-20"  # owes less than was paid: paid
        # raised again: the second payment covers the new total, in yen
        record(led, claim_data("UD1", LARGE), readjudicate=True, by="alice")
        _, st = led.clock("UD1", "paid", {"paid_on": "2025-10-01"}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_amount"] == 500_000
        record(led, claim_data("UD1", {"losses": [{"category": "call_center", "amount": 300_000}]}),
               readjudicate=True, by="alice")
        assert led.state("UD1")["clock"]["paid_on"] == "2025-10-01"


def test_an_extension_or_a_payment_recorded_in_error_can_be_taken_back(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("EX1", SMALL), by="alice")
        led.clock("EX1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        _, st = led.clock("EX1", "extend", {"reason": "abroad", "to": "2199-12-31"}, CAT, by="alice", at=AT)
        assert st["clock"]["due_on"] == "2199-12-31"
        _, st = led.clock("EX1", "remove_extension", {}, CAT, by="alice", at=AT)
        assert st["clock"]["extension"] is None and st["clock"]["due_on"] == "2025-08-31"
        with pytest.raises(LedgerError, match=r"^to: no extension is recorded"):
            led.clock("EX1", "remove_extension", {}, CAT, by="alice", at=AT)
        # a re-completion drops an extension that ends before the new due date
        led.clock("EX1", "extend", {"reason": "abroad", "to": "2025-10-20"}, CAT, by="alice", at=AT)
        seq, st = led.clock("EX1", "complete", {"completed_on": "2025-12-01"}, CAT, by="alice", at=AT)
        assert st["clock"]["extension"] is None and st["clock"]["due_on"] == "2025-12-31"
        assert '"extension_dropped"' in led.find(seq=seq).row["event_json"]
        _, st = led.clock("EX1", "paid", {}, CAT, by="alice", at=AT)  # no date: today, mistyped
        assert st["clock"]["paid_on"] == "2026-01-10"
        _, st = led.clock("EX1", "remove_paid", {}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_on"] is None and st["clock"]["paid_amount"] is None
        _, st = led.clock("EX1", "paid", {"paid_on": "2025-12-20"}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_on"] == "2025-12-20"
        ok, msg = led.verify()
        assert ok, msg


# ------------------------------------------------------------------ third probe (P1, P2, P10)
def test_a_payment_or_extension_taken_back_stays_taken_back_when_the_same_file_is_readjudicated(ledger_target):
    paid = {"completed_on": "2025-08-01", "paid_on": "2025-08-20", "delay_reason": "abroad"}
    with Ledger(ledger_target) as led:
        record(led, _file("TB1", SMALL, paid), by="alice")
        assert led.state("TB1")["clock"]["paid_on"] == "2025-08-20"
        _, st = led.clock("TB1", "remove_paid", {}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_on"] is None and st["clock"]["steps"] == 1
        record(led, _file("TB1", SMALL, paid), readjudicate=True, by="alice")
        assert led.state("TB1")["clock"]["paid_on"] is None  # the file's old date does not come back


def test_a_payment_names_the_decision_it_pays(ledger_target):
    with Ledger(ledger_target) as led:
        first, _ = record(led, claim_data("PD1", SMALL), by="alice")
        led.clock("PD1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        record(led, claim_data("PD1", LARGE), readjudicate=True, by="alice")
        second = led.state("PD1")["decision_seq"]
        with pytest.raises(LedgerError, match=rf"^decision_seq: the claim's decision is now record {second}"):
            led.clock("PD1", "paid", {"paid_on": "2025-08-20", "decision_seq": first}, CAT, by="alice", at=AT)
        _, st = led.clock("PD1", "paid", {"paid_on": "2025-08-20", "decision_seq": second}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_amount"] == 500_000


@pytest.mark.parametrize("agreed", ["2025-07-31", "2025-11-01", "2026-01-11"])
def test_an_extension_is_agreed_between_the_completed_claim_and_the_earlier_of_today_and_its_date(ledger_target, agreed):
    with Ledger(ledger_target) as led:
        record(led, claim_data("AG1", SMALL), by="alice")
        led.clock("AG1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        with pytest.raises(LedgerError, match=rf"^agreed_on: {agreed} is not between"):
            led.clock("AG1", "extend", {"reason": "abroad", "to": "2025-10-31", "agreed_on": agreed}, CAT,
                      by="alice", at=AT)
        _, st = led.clock("AG1", "extend", {"reason": "abroad", "to": "2025-10-31", "agreed_on": "2025-08-20"}, CAT,
                          by="alice", at=AT)
        assert st["clock"]["extension"]["agreed_on"] == "2025-08-20"


def test_the_earlier_payment_of_a_reopened_claim_can_be_taken_back(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("RB1", SMALL), by="alice")
        led.clock("RB1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice", at=AT)
        led.clock("RB1", "paid", {"paid_on": "2025-08-20"}, CAT, by="alice", at=AT)
        record(led, claim_data("RB1", LARGE), readjudicate=True, by="alice")
        _, st = led.clock("RB1", "remove_paid", {}, CAT, by="alice", at=AT)
        assert st["clock"]["paid_before"] == [] and st["clock"]["paid_amount"] is None and st["clock"]["paid_on"] is None
        with pytest.raises(LedgerError, match=r"^paid_on: no payment is recorded"):
            led.clock("RB1", "remove_paid", {}, CAT, by="alice", at=AT)
        record(led, claim_data("RB1", SMALL), readjudicate=True, by="alice")
        assert led.state("RB1")["clock"]["paid_on"] is None  # nothing paid: the 100,000 is due
