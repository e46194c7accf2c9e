"""Second review (二次査定) and the payment clock (issue 20, items 3 and 4) in the ledger, on SQLite and
PostgreSQL: which decisions need review, who may review, the clock's due dates, the work list's order,
every step a record in the hash chain that verify walks (and tampering it is caught)."""
import datetime as dt

import pytest

from adjudicator import adjudicate
from adjudicator.ledger import Ledger, LedgerError, LedgerForbidden
from adjudicator.ledger.handling import review_need
from adjudicator.policy.catalogue import load_catalogue

from ledger_support import claim_data, record, rows, sql

CAT = load_catalogue()
REFUSED = {"losses": [{"category": "fine_penalty", "amount": 100_000}]}                   # 000 §2 ※罰金
CUT = {"losses": [{"category": "call_center", "amount": 700_000}, {"category": "fine_penalty", "amount": 100_000}]}
LIMITED = {"losses": [{"category": "call_center", "amount": 1_500_000}]}                 # S1 ② pool 1,000,000


def test_which_decisions_need_a_second_review():
    refusal = review_need(adjudicate(claim_data("R", REFUSED)), CAT)
    assert [(w["kind"], w["category"], w["clause"], w["amount"]) for w in refusal] == \
        [("refusal", "fine_penalty", "000 §2 ※罰金", 100_000)]
    cut = review_need(adjudicate(claim_data("C", CUT)), CAT)
    assert [(w["kind"], w["line"]) for w in cut] == [("cut", 1)]
    limited = adjudicate(claim_data("L", LIMITED))
    assert limited["total_payable"] == 1_000_000 and review_need(limited, CAT) == []  # the policy's own limit
    assert review_need(adjudicate(claim_data("P")), CAT) == []
    waiting = claim_data("W")
    del waiting["incident"]["cause"]
    assert review_need(adjudicate(waiting), CAT) == []  # held back for information: not a refusal


def test_the_programme_says_which_decisions_need_review(tmp_path):
    import shutil
    from adjudicator.policy.catalogue import rules_dir
    root = tmp_path / "rules"
    shutil.copytree(rules_dir(), root)
    p = root / "programmes" / "fukuoka-cyber-2025.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("when: [refusal, cut]", "when: [refusal]"), encoding="utf-8")
    cat = load_catalogue(root)
    assert review_need(adjudicate(claim_data("C", CUT)), cat) == []
    assert review_need(adjudicate(claim_data("R", REFUSED)), cat)


def test_a_refusal_waits_for_another_handler(ledger_target):
    with Ledger(ledger_target) as led:
        seq, _ = record(led, claim_data("R1", REFUSED), by="alice")
        st = led.state("R1")
        assert st["review"]["state"] == "pending_review" and st["draft"] and st["handler"] == "alice"
        with pytest.raises(LedgerForbidden, match="alice recorded this decision"):
            led.review("R1", "approve", None, by="alice")
        with pytest.raises(LedgerError, match="^note: "):
            led.review("R1", "return", "  ", by="bob")
        with pytest.raises(LedgerError, match="^paid_on: the decision is not final"):
            led.clock("R1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice")
            led.clock("R1", "paid", {"paid_on": "2025-08-02"}, CAT, by="alice")
        s2, st = led.review("R1", "return", "罰金の根拠を確認してください <b>", by="bob")
        assert st["review"] == dict(st["review"], state="returned", by="bob", note="罰金の根拠を確認してください <b>")
        assert st["draft"]
        with pytest.raises(LedgerError, match="not waiting for a second review"):
            led.review("R1", "approve", None, by="carol")
        # the first handler records it again: a fresh decision, waiting again
        record(led, claim_data("R1", REFUSED), readjudicate=True, by="alice")
        s4, st = led.review("R1", "approve", "確認済み", by="carol")
        assert st["review"]["state"] == "approved" and not st["draft"]
        kinds = rows(ledger_target, "SELECT seq, kind, recorded_by FROM records WHERE claim_id = 'R1' ORDER BY seq")
        assert kinds[0][1:] == ("decision", "alice") and (s2, "review", "bob") in kinds and kinds[-1] == (s4, "review", "carol")
        # an event record carries the decision unchanged and counts nothing twice
        assert led.find("R1").decision == led.find(seq=seq).decision
        ok, msg = led.verify()
        assert ok, msg
        # a decision that needs no review is final at once
        record(led, claim_data("P1"), by="alice")
        assert led.state("P1")["review"]["state"] == "none"


def test_the_payment_clock(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("K1"), by="alice")
        with pytest.raises(LedgerError, match="^completed_on: record the day"):
            led.clock("K1", "pause", {"from": "2025-08-02", "to": "2025-08-05"}, CAT, by="alice")
        _, st = led.clock("K1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice")
        assert st["clock"]["due_on"] == "2025-08-31"                         # 000 §18: 30 days
        with pytest.raises(LedgerError, match="^reason: "):
            led.clock("K1", "extend", {"reason": "bored", "to": "2025-12-01"}, CAT, by="alice")
        with pytest.raises(LedgerError, match="^to: an extension ends after"):
            led.clock("K1", "extend", {"reason": "expert_appraisal", "to": "2025-08-20"}, CAT, by="alice")
        _, st = led.clock("K1", "extend", {"reason": "expert_appraisal", "to": "2025-10-30", "agreed_on": "2025-08-20"},
                          CAT, by="alice")
        assert st["clock"]["due_on"] == "2025-10-30" and st["clock"]["extension"]["reason"] == "expert_appraisal"
        _, st = led.clock("K1", "pause", {"from": "2025-09-01", "to": "2025-09-11", "note": "書類の提出待ち"}, CAT, by="bob")
        assert st["clock"]["due_on"] == "2025-11-09" and st["clock"]["paused_days"] == 10
        with pytest.raises(LedgerError, match="^from: overlaps"):
            led.clock("K1", "pause", {"from": "2025-09-10", "to": "2025-09-12"}, CAT, by="bob")
        with pytest.raises(LedgerError, match="^to: expected a date"):
            led.clock("K1", "pause", {"from": "2025-09-20", "to": "soon"}, CAT, by="bob")
        _, st = led.clock("K1", "paid", {"paid_on": "2025-11-01"}, CAT, by="alice")
        assert st["clock"]["paid_on"] == "2025-11-01"
        with pytest.raises(LedgerError, match="clock has stopped"):
            led.clock("K1", "complete", {"completed_on": "2025-08-02"}, CAT, by="alice")
        with pytest.raises(LedgerError, match="^claim_id: no ledger record"):
            led.clock("NOPE", "complete", {"completed_on": "2025-08-02"}, CAT, by="alice")
        events = rows(ledger_target, "SELECT kind, recorded_by FROM records WHERE claim_id = 'K1' ORDER BY seq")
        assert events == [("decision", "alice"), ("clock", "alice"), ("clock", "alice"), ("clock", "bob"),
                          ("clock", "alice")]
        assert led.verify()[0]
        # a re-adjudication keeps the clock; the claim file's payment section still counts
        record(led, claim_data("K2", {"payment": {"completed_on": "2025-08-10"}}), by="alice")
        assert led.state("K2")["clock"]["due_on"] == "2025-09-09"
        record(led, claim_data("K2", {"payment": {"completed_on": "2025-08-10"},
                                      "losses": [{"category": "call_center", "amount": 10}]}), readjudicate=True, by="alice")
        assert led.state("K2")["clock"]["due_on"] == "2025-09-09" and led.state("K2")["total_payable"] == 10


def test_the_work_list_orders_by_due_date_overdue_first(ledger_target):
    today = dt.date(2025, 10, 1)
    with Ledger(ledger_target) as led:
        for cid in ("W-LATER", "W-OVERDUE", "W-NODATE", "W-PAID", "W-SOON"):  # each its own policy (pool)
            record(led, claim_data(cid, {"policy": {"policy_number": cid}}), by="alice")
        waiting = claim_data("W-INFO")
        del waiting["incident"]["cause"]
        record(led, waiting, by="alice")
        record(led, claim_data("W-BOB", {"policy": {"policy_number": "B"}}), by="bob")
        record(led, claim_data("W-REFUSED", REFUSED), by="alice")  # pays nothing, but not final yet
        record(led, claim_data("W-ZERO", {"losses": []}), by="alice")  # pays nothing, final: not open
        led.clock("W-LATER", "complete", {"completed_on": "2025-09-20"}, CAT, by="alice")
        led.clock("W-OVERDUE", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice")
        led.clock("W-SOON", "complete", {"completed_on": "2025-09-05"}, CAT, by="alice")
        led.clock("W-PAID", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice")
        led.clock("W-PAID", "paid", {"paid_on": "2025-08-15"}, CAT, by="alice")
        # paid, or final and paying nothing, but benefits nobody has told the claimant of: still listed, last
        total, mine = led.worklist(handler="alice", today=today)
        held = [r for r in mine if r["claim_id"] in ("W-PAID", "W-ZERO")]
        assert len(held) == 2 and mine[-1]["claim_id"] == "W-PAID" and total == 8  # the paid one after every unpaid
        assert all(r["unclaimed"] > 0 and not r["overdue"] and not r["unpaid"] for r in held)
        for r in held:  # 案内済 / 請求しない for each: they leave the work list
            for u in r["unclaimed_detail"]:
                led.mark_benefit(r["claim_id"], u["key"], "told", "2025-09-30", by="alice")
        total, mine = led.worklist(handler="alice", today=today)
        order = [r["claim_id"] for r in mine]
        assert order[:3] == ["W-OVERDUE", "W-SOON", "W-LATER"] and total == len(order) == 6
        assert set(order[3:]) == {"W-NODATE", "W-REFUSED", "W-INFO"} and order[-1] == "W-INFO"
        top = mine[0]
        assert top["overdue"] and top["unpaid"] and top["days_overdue"] == 31 and top["due_on"] == "2025-08-31"
        assert not mine[1]["overdue"] and mine[1]["due_on"] == "2025-10-05"
        assert [r["claim_id"] for r in led.worklist(handler="bob", today=today)[1]] == ["W-BOB"]
        assert led.worklist(today=today)[0] == 7 and len(led.worklist(today=today, limit=2, offset=6)[1]) == 1
        assert led.verify()[0]
        assert [r["claim_id"] for r in led.search(status="paid")[1]] == ["W-PAID"]


def test_a_refusal_has_no_payment_due_it_waits_for_its_second_review(ledger_target):
    """000 §18 times a payment: a decision that pays nothing has none, so the work list never shows it
    overdue or 未払, however long ago the claim was completed; it shows what it does wait for (the
    second review, then the benefits nobody has told the claimant of). A cut still pays: its clock runs."""
    today = dt.date(2025, 10, 1)
    with Ledger(ledger_target) as led:
        record(led, claim_data("Z-REFUSED", REFUSED), by="alice")
        record(led, claim_data("Z-CUT", dict(CUT, policy={"policy_number": "Z-CUT"})), by="alice")
        record(led, claim_data("Z-PAY", {"policy": {"policy_number": "Z-PAY"}}), by="alice")
        for cid, day in (("Z-REFUSED", "2025-07-01"), ("Z-CUT", "2025-08-01"), ("Z-PAY", "2025-09-20")):
            led.clock(cid, "complete", {"completed_on": day}, CAT, by="alice")
        assert led.state("Z-REFUSED")["clock"]["due_on"] == "2025-07-31"  # the clock keeps it, for a re-adjudication
        rows_ = {r["claim_id"]: r for r in led.worklist(today=today)[1]}
        order = [r["claim_id"] for r in led.worklist(today=today)[1]]
        ref = rows_["Z-REFUSED"]
        assert ref["total_payable"] == 0 and ref["review"] == "pending_review"
        assert not ref["payment_due"] and ref["due_on"] is None and not ref["overdue"] and not ref["unpaid"]
        assert ref["days_overdue"] == 0 and ref["to_do"][0] == "second_review" and "payment" not in ref["to_do"]
        cut = rows_["Z-CUT"]  # pays the call centre, refuses the fine: overdue, 未払, and waiting for review
        assert cut["payment_due"] and cut["overdue"] and cut["unpaid"] and cut["days_overdue"] == 31
        assert cut["to_do"][:2] == ["second_review", "payment"]
        assert rows_["Z-PAY"]["payment_due"] and not rows_["Z-PAY"]["overdue"] and "payment" in rows_["Z-PAY"]["to_do"]
        assert order == ["Z-CUT", "Z-PAY", "Z-REFUSED"]  # the refusal after every claim with a payment due
        assert [rows_[c]["status"] for c in order] == ["unpaid", "unpaid", "nothing_payable"]
        assert {r["claim_id"]: r["status"] for r in led.search()[1]}["Z-REFUSED"] == "nothing_payable"
        assert [r["claim_id"] for r in led.search(status="unpaid")[1]] == ["Z-PAY", "Z-CUT"]  # a refusal is not unpaid
        assert [r["claim_id"] for r in led.search(status="nothing_payable")[1]] == ["Z-REFUSED"]
        led.review("Z-REFUSED", "return", "根拠を確認", by="bob")
        ref = next(r for r in led.worklist(today=today)[1] if r["claim_id"] == "Z-REFUSED")
        assert ref["to_do"][0] == "returned" and not ref["overdue"]
        record(led, claim_data("Z-REFUSED", REFUSED), readjudicate=True, by="alice")
        led.review("Z-REFUSED", "approve", None, by="bob")
        with pytest.raises(LedgerError, match="^paid_on: the decision pays nothing"):
            led.clock("Z-REFUSED", "paid", {"paid_on": "2025-09-30"}, CAT, by="alice")  # no payment to record
        ref = next(r for r in led.worklist(today=today)[1] if r["claim_id"] == "Z-REFUSED")
        assert ref["review"] == "approved" and ref["to_do"] == ["benefits"] and not ref["overdue"]
        for u in ref["unclaimed_detail"]:
            led.mark_benefit("Z-REFUSED", u["key"], "told", "2025-09-30", by="alice")
        assert "Z-REFUSED" not in [r["claim_id"] for r in led.worklist(today=today)[1]]  # final, nothing to pay
        assert led.verify()[0]


@pytest.mark.parametrize("column,value", [("due_on", "'2099-01-01'"), ("review", "'approved'"),
                                           ("paid_on", "'2025-01-01'"), ("unclaimed", "0")])
def test_verify_catches_an_altered_work_list(ledger_target, column, value):
    with Ledger(ledger_target) as led:
        record(led, claim_data("T1", REFUSED), by="alice")
        led.clock("T1", "complete", {"completed_on": "2025-08-01"}, CAT, by="alice")
        assert led.verify()[0]
    sql(ledger_target, f"UPDATE claim_state SET {column} = {value} WHERE claim_id = 'T1'")
    with Ledger(ledger_target) as led:
        ok, msg = led.verify()
    assert not ok and f"claim T1 ({column})" in msg and "claim_state table was altered" in msg


def test_verify_catches_an_altered_review_record(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("T2", REFUSED), by="alice")
        seq, _ = led.review("T2", "approve", None, by="bob")
    sql(ledger_target, f"UPDATE records SET recorded_by = 'alice' WHERE seq = {seq}")
    with Ledger(ledger_target) as led:
        ok, msg = led.verify()
    assert not ok and f"record seq {seq} (T2) was altered" in msg


def as_account(monkeypatch, name: str) -> None:
    """The CLI's commands as OS account `name` (the CLI reads the account, not $LOGNAME:
    test_api_hostile.py runs them as real accounts)."""
    from adjudicator.cli import common
    monkeypatch.setattr(common, "os_account", lambda: name)


def test_the_cli_reviews_and_keeps_the_clock(ledger_target, tmp_path, capsys, monkeypatch):
    from ledger_support import claim_file, cli, cli_json
    monkeypatch.setenv("ADJUDICATOR_LEDGER", ledger_target)
    as_account(monkeypatch, "alice")
    rc, out, err = cli(capsys, "adjudicate", claim_file(tmp_path, "CLI-R", REFUSED), "--record", "--format", "text",
                       "--lang", "en")
    assert rc == 0, err
    assert out.splitlines()[0] == "Coverage decision (DRAFT)" and "It is not a payment notice." in out
    dseq = lambda: str(Ledger(ledger_target).state("CLI-R")["decision_seq"])  # noqa: E731  the record read
    rc, out, err = cli(capsys, "review", "CLI-R", "--approve", "--decision", dseq())
    assert rc == 2 and err.startswith("review: cli:alice recorded this decision") and out == ""
    as_account(monkeypatch, "bob")
    rc, out, err = cli(capsys, "review", "CLI-R", "--return", "--decision", dseq())
    assert rc == 2 and err.startswith("note: ")
    st = cli_json(capsys, "review", "CLI-R", "--return", "--note", "check the fine", "--format", "json",
                  "--decision", dseq())
    assert st["review"]["state"] == "returned" and st["review"]["by"] == "cli:bob"
    as_account(monkeypatch, "alice")
    rc, out, err = cli(capsys, "adjudicate", claim_file(tmp_path, "CLI-R", REFUSED), "--readjudicate")
    assert rc == 0, err
    as_account(monkeypatch, "bob")
    with pytest.raises(SystemExit) as exit_:  # the record read must be named (argparse: exit 2)
        cli(capsys, "review", "CLI-R", "--approve")
    assert exit_.value.code == 2 and "--decision" in capsys.readouterr().err
    rc, out, err = cli(capsys, "review", "CLI-R", "--approve", "--decision", dseq())
    assert rc == 0 and "review approved by cli:bob" in out
    as_account(monkeypatch, "alice")
    rc, out, err = cli(capsys, "adjudicate", claim_file(tmp_path, "CLI-K"), "--record")
    rc, out, err = cli(capsys, "clock", "complete", "CLI-K", "--on", "2025-08-01")
    assert rc == 0 and "due 2025-08-31" in out
    rc, out, err = cli(capsys, "clock", "extend", "CLI-K", "--reason", "abroad", "--to", "2025-08-15")
    assert rc == 2 and err.startswith("to: an extension ends after the 30-day due date (2025-08-31)")
    rc, out, err = cli(capsys, "clock", "pause", "CLI-K", "--from", "2025-08-05", "--to", "2025-08-09")
    assert rc == 0 and "due 2025-09-04, paused 4 day(s)" in out
    wl = cli_json(capsys, "worklist", "--today", "2025-10-01", "--format", "json")
    # CLI-R (approved, pays nothing) stays listed while its unclaimed benefits are not told or declined
    assert [c["claim_id"] for c in wl["claims"]] == ["CLI-K", "CLI-R"] and wl["claims"][0]["unpaid"]
    keys = [u["key"] for u in wl["claims"][1]["unclaimed_detail"]]
    assert "jma-support:cyber_support" in keys
    rc, out, err = cli(capsys, "benefit", "CLI-R", "jma-support:nothing", "--told")
    assert rc == 2 and err.startswith("benefit: the decision lists no unclaimed benefit 'jma-support:nothing'")
    rc, out, err = cli(capsys, "benefit", "CLI-R", keys[0], "--told", "--on", "2025-13-01")
    assert rc == 2 and err.startswith("on: expected a date YYYY-MM-DD")
    for n, key in enumerate(keys):
        rc, out, err = cli(capsys, "benefit", "CLI-R", key, "--declined" if n else "--told", "--on", "2025-09-30")
        assert rc == 0, err
    assert f"unclaimed benefit {keys[0]}: told on 2025-09-30 by cli:alice" in out
    assert f"unclaimed benefit {keys[-1]}: declined on 2025-09-30 by cli:alice" in out
    wl = cli_json(capsys, "worklist", "--today", "2025-10-01", "--format", "json")
    assert [c["claim_id"] for c in wl["claims"]] == ["CLI-K"]
    rc, out, err = cli(capsys, "worklist", "--today", "2025-10-01")
    assert rc == 0 and "未払 CLI-K  due 2025-09-04" in out
    as_account(monkeypatch, "carol")
    assert cli_json(capsys, "worklist", "--format", "json")["total"] == 0
    assert cli_json(capsys, "worklist", "--all", "--format", "json")["total"] == 1
    rc, out, err = cli(capsys, "worklist", "--today", "tomorrow")
    assert rc == 2 and err.startswith("--today: ")
    rc, out, err = cli(capsys, "clock", "paid", "CLI-K", "--on", "2025-10-02")
    assert rc == 0 and "paid 2025-10-02" in out
    rc, out, err = cli(capsys, "audit", "verify")
    assert rc == 0 and out.startswith("OK: 13 records")  # 8 decision and clock records, 5 benefit marks, out + err


JMA_MEMBER = {"policy": {"jma_member": True}, "losses": []}


def test_unclaimed_benefits_are_marked_told_or_declined_and_kept_on_readjudication(ledger_target):
    """請求案内漏れ: each unclaimed benefit of the recorded decision stays open until the handler marks it,
    with the date; a re-adjudication keeps the marks of the benefits it still lists."""
    with Ledger(ledger_target) as led:
        record(led, claim_data("U1", JMA_MEMBER), by="alice")
        st = led.state("U1")
        keys = [u["key"] for u in st["unclaimed"]]
        assert "jma-support:cyber_support" in keys and all(u["mark"] is None for u in st["unclaimed"])
        jma = next(u for u in st["unclaimed"] if u["key"] == "jma-support:cyber_support")
        assert jma["label"]["ja"] == "サイバー攻撃一時支援金"
        with pytest.raises(LedgerError, match="^action: expected told or declined"):
            led.mark_benefit("U1", keys[0], "forgot", "2025-09-01", by="alice")
        with pytest.raises(LedgerError, match="^on: expected a date"):
            led.mark_benefit("U1", keys[0], "told", "yesterday", by="alice")
        with pytest.raises(LedgerError, match="^claim_id: no ledger record"):
            led.mark_benefit("NOPE", keys[0], "told", "2025-09-01", by="alice")
        seq, st = led.mark_benefit("U1", "jma-support:cyber_support", "told", "2025-09-01", by="bob")
        marked = next(u for u in st["unclaimed"] if u["key"] == "jma-support:cyber_support")
        assert marked["mark"] == {"action": "told", "on": "2025-09-01", "by": "bob", "at": marked["mark"]["at"]}
        row = next(r for r in led.worklist()[1] if r["claim_id"] == "U1")
        assert row["unclaimed"] == len(keys) - 1
        record(led, claim_data("U1", JMA_MEMBER), readjudicate=True, by="alice")
        again = {u["key"]: u["mark"] for u in led.state("U1")["unclaimed"]}
        assert again["jma-support:cyber_support"]["action"] == "told"  # not asked twice
        for key in keys:
            if key != "jma-support:cyber_support":
                led.mark_benefit("U1", key, "declined", "2025-09-02", by="alice")
        assert "U1" not in [r["claim_id"] for r in led.worklist()[1]]  # final, pays nothing, all marked
        assert led.verify()[0]


def test_lost_profit_nobody_claimed_keeps_the_claim_on_the_work_list_only_with_the_option(ledger_target):
    """Issue 20 item 1, within a programme: with the all-risk lost-profit option held and the clinic closed
    by the attack, lost profit and continuity costs are reached but no line claims them; without the option
    they are not benefits of this policy. The work list marks the claim until each is told or declined."""
    closed = {"policy": {"policy_number": "LP-1", "lost_profit_limit": 10_000_000, "jma_member": False},
              "incident": {"closure_days": 5}}
    with Ledger(ledger_target) as led:
        record(led, claim_data("LP-OPTION", closed), by="alice")
        record(led, claim_data("LP-NONE", {"policy": {"policy_number": "LP-2", "jma_member": False},
                                          "incident": {"closure_days": 5}}), by="alice")
        keys = {cid: [u["key"] for u in led.state(cid)["unclaimed"]] for cid in ("LP-OPTION", "LP-NONE")}
        assert {"fukuoka-cyber-2025:lost_profit", "fukuoka-cyber-2025:continuity_costs"} <= set(keys["LP-OPTION"])
        assert not any(k.endswith((":lost_profit", ":continuity_costs")) for k in keys["LP-NONE"])
        assert not any(k.startswith("jma-support:") for k in keys["LP-OPTION"])  # not a member: no JMA entry
        row = next(r for r in led.worklist()[1] if r["claim_id"] == "LP-OPTION")
        assert row["unclaimed"] == len(keys["LP-OPTION"]) and "benefits" in row["to_do"]
        led.mark_benefit("LP-OPTION", "fukuoka-cyber-2025:lost_profit", "declined", "2025-09-10", by="alice")
        row = next(r for r in led.worklist()[1] if r["claim_id"] == "LP-OPTION")
        assert row["unclaimed"] == len(keys["LP-OPTION"]) - 1
        assert led.verify()[0]


def test_the_api_reviews_keeps_the_clock_and_lists_the_work_on_either_backend(ledger_target):
    """Issue 20's 'on SQLite and PostgreSQL' for the HTTP routes: second review (403 for the recording
    account), the clock, the benefits and the work list through the service on the ledger of either kind."""
    import json
    import warnings

    from adjudicator.service.app import create_app
    from adjudicator.service.settings import Settings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with Ledger(ledger_target) as led:
        tokens = {name: led.add_user(name, role) for name, role in
                  (("hana", "handler"), ("jiro", "handler"), ("aki", "auditor"))}
    api = TestClient(create_app(Settings(ledger=ledger_target)))
    h = {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}
    body = lambda cid, patch=None: json.loads(json.dumps(claim_data(cid, patch), default=str))  # noqa: E731
    assert api.post("/api/v1/adjudicate?record=true", json=body("A-REF", REFUSED), headers=h["hana"]).status_code == 200
    assert api.post("/api/v1/adjudicate?record=true", json=body("A-PAY", {"policy": {"policy_number": "A-PAY"}}),
                    headers=h["hana"]).status_code == 200
    for cid in ("A-REF", "A-PAY"):
        r = api.post(f"/api/v1/claims/{cid}/clock", json={"action": "complete", "completed_on": "2025-08-01"},
                     headers=h["hana"])
        assert r.status_code == 200 and r.json()["clock"]["due_on"] == "2025-08-31"
    wl = api.get("/api/v1/worklist?today=2025-10-01", headers=h["hana"]).json()
    assert [c["claim_id"] for c in wl["claims"]] == ["A-PAY", "A-REF"]  # the refusal has no payment due
    pay, ref = wl["claims"]
    assert pay["overdue"] and pay["unpaid"] and pay["payment_due"]
    assert not ref["overdue"] and not ref["unpaid"] and ref["due_on"] is None and ref["to_do"][0] == "second_review"
    url = "/api/v1/claims/A-REF/review"
    seq = api.get("/api/v1/claims/A-REF/handling", headers=h["hana"]).json()["decision_seq"]
    assert api.post(url, json={"action": "approve", "decision_seq": seq}, headers=h["hana"]).status_code == 403
    assert api.post(url, json={"action": "approve", "decision_seq": seq}, headers=h["aki"]).status_code == 403
    ok = api.post(url, json={"action": "approve", "note": "確認済み", "decision_seq": seq}, headers=h["jiro"]).json()
    assert ok["review"]["state"] == "approved" and ok["review"]["by"] == "jiro"
    r = api.post("/api/v1/claims/A-REF/clock", json={"action": "paid", "paid_on": "2025-09-01"}, headers=h["hana"])
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "paid_on"
    for u in api.get("/api/v1/claims/A-REF/handling", headers=h["aki"]).json()["unclaimed"]:
        mark = {"programme": u["programme"], "coverage": u["coverage"], "action": "told", "on": "2025-09-01"}
        assert api.post("/api/v1/claims/A-REF/benefits", json=mark, headers=h["hana"]).status_code == 200
    assert api.post("/api/v1/claims/A-PAY/clock", json={"action": "paid", "paid_on": "2025-10-02"},
                    headers=h["hana"]).status_code == 200
    left = [c["claim_id"] for c in api.get("/api/v1/worklist?scope=all", headers=h["jiro"]).json()["claims"]]
    assert "A-REF" not in left  # final, pays nothing, every benefit told
    kinds = rows(ledger_target, "SELECT kind, recorded_by FROM records WHERE claim_id = 'A-REF' ORDER BY seq")
    assert kinds[:3] == [("decision", "hana"), ("clock", "hana"), ("review", "jiro")]
    assert api.get("/api/v1/audit/verify", headers=h["aki"]).json()["ok"]


def test_a_payment_date_in_the_claim_file_does_not_pass_the_second_review(ledger_target):
    """Hostile probe: payment.paid_on in the file stopped the clock of a decision still waiting for its
    second review, and of a refusal paying nothing; only `clock paid` after approval records it there."""
    paid = {"payment": {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}}
    with Ledger(ledger_target) as led:
        record(led, claim_data("F6-REF", {**REFUSED, **paid}), by="alice")
        st = led.state("F6-REF")
        assert st["review"]["state"] == "pending_review"
        assert st["clock"]["paid_on"] is None and st["clock"]["completed_on"] == "2025-08-01"
        record(led, claim_data("F6-OK", paid), by="alice")   # final as recorded, pays: the file's date stands
        ok = led.state("F6-OK")
        assert ok["review"]["state"] == "none" and ok["total_payable"] > 0 and ok["clock"]["paid_on"] == "2025-08-20"
