"""Issue 13: audit list / policy / export / show --format json (a tampered record flagged), and the
accounts kept in the ledger database for the HTTP service - on SQLite and PostgreSQL."""
import csv
import datetime as dt
import io
import json

import pytest

from adjudicator.ledger import Ledger, LedgerError

from ledger_support import is_pg, claim_data, cli, cli_json, record, rows, sql


@pytest.fixture
def filled(ledger_target):
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("C1"))                                             # 1: FK-1, 700,000
        record(ledger, claim_data("C2", {"policy": {"policy_number": "ｆｋ－１"},
                                         "losses": [{"category": "call_center", "amount": 500_000}]}))  # 2: 300,000
        record(ledger, claim_data("C3", {"policy": {"policy_number": "FK-2"}}), by="svc:alice")        # 3
        record(ledger, claim_data("C1", {"losses": [{"category": "call_center", "amount": 600_000}]}),
               readjudicate=True)                                                    # 4: replaces 1
    return ledger_target


def test_audit_list_filters_and_formats(filled, capsys):
    seqs = lambda *a: [r["seq"] for r in cli_json(capsys, "audit", "list", "--ledger", filled, "--format", "json", *a)]  # noqa: E731
    assert seqs() == [1, 2, 3, 4]
    assert seqs("--policy", "ＦＫ－１") == [1, 2, 4]
    assert seqs("--claim", "C1") == [1, 4]
    today = dt.date.today()
    assert seqs("--since", str(today)) == [1, 2, 3, 4] and seqs("--until", str(today)) == [1, 2, 3, 4]
    assert seqs("--until", str(today - dt.timedelta(days=1))) == [] and seqs("--since", str(today + dt.timedelta(days=1))) == []
    rc, _, err = cli(capsys, "audit", "list", "--ledger", filled, "--since", "yesterday")
    assert rc == 2 and err.startswith("since: expected a date")
    listed = cli_json(capsys, "audit", "list", "--ledger", filled, "--format", "json", "--claim", "C3")
    assert listed[0]["recorded_by"] == "svc:alice" and listed[0]["policy_number"] == "FK-2"
    rc, out, _ = cli(capsys, "audit", "list", "--ledger", filled, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["claim_id"] for r in table] == ["C1", "C2", "C3", "C1"]
    assert table[1]["total_payable"] == "300000" and json.loads(table[1]["paid"]) == {"costs": 300000}
    rc, out, _ = cli(capsys, "audit", "list", "--ledger", filled)
    assert rc == 0 and "(replaces 1)" in out and out.rstrip().endswith("4 record(s)")


def test_audit_policy_shows_pools_used_and_left(filled, capsys):
    summary = cli_json(capsys, "audit", "policy", " fk-1", "--ledger", filled, "--format", "json")
    assert summary["policy_number"] == "FK-1"
    (period,) = summary["periods"]
    pools = {p["pool"]: p for p in period["pools"]}
    # C1 now 600,000 (its first record no longer counts) + C2 300,000
    assert pools["costs"]["limit"] == 1_000_000 and pools["costs"]["used"] == 900_000 and pools["costs"]["left"] == 100_000
    assert pools["liability"]["used"] == 0
    assert pools["fukuoka-liability-plus-costs"]["used"] == 900_000
    assert [r["seq"] for r in period["records"]] == [1, 2, 4]
    rc, out, _ = cli(capsys, "audit", "policy", "FK-1", "--ledger", filled)
    assert "left        100,000" in out and "(replaced: not counted)" in out
    rc, _, err = cli(capsys, "audit", "policy", "FK-9", "--ledger", filled)
    assert rc == 2 and "no record of policy 'FK-9'" in err


def test_audit_export_every_field(filled, capsys):
    rc, out, _ = cli(capsys, "audit", "export", "--ledger", filled)
    lines = [json.loads(x) for x in out.splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3, 4]
    assert {"hash", "prev_hash", "recorded_by", "policy_key", "input_json", "decision_json", "paid_json"} <= set(lines[0])
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    rc, out, _ = cli(capsys, "audit", "export", "--ledger", filled, "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 4 and table[3]["hash"] == lines[3]["hash"] and table[3]["supersedes"] == "1"
    assert json.loads(table[0]["decision_json"])["claim_id"] == "C1"


def test_audit_show_json_and_a_tampered_record_is_flagged(filled, capsys):
    shown = cli_json(capsys, "audit", "show", "C1", "--ledger", filled, "--format", "json")
    assert shown["record"]["seq"] == 4 and shown["record"]["verified"] is True and shown["record"]["supersedes"] == 1
    assert shown["decision"]["total_payable"] == 600_000 and shown["input"]["claim_id"] == "C1"
    sql(filled, "UPDATE records SET decision_json = replace(decision_json, '300000', '900000') WHERE seq = 2")
    rc, out, err = cli(capsys, "audit", "show", "--seq", "2", "--ledger", filled, "--format", "json")
    assert rc == 1 and "WARNING: ledger record 2 does not verify" in err
    assert json.loads(out)["record"]["verified"] is False
    rc, out, err = cli(capsys, "audit", "show", "--seq", "2", "--ledger", filled, "--lang", "en")
    assert rc == 1 and out.startswith("WARNING: this record does not verify: its hash does not match")
    rc, out, err = cli(capsys, "audit", "show", "--seq", "2", "--ledger", filled, "--format", "html", "--lang", "en")
    assert rc == 1 and 'class="meta tampered"' in out
    # the record after it is itself intact
    assert cli(capsys, "audit", "show", "--seq", "3", "--ledger", filled, "--format", "json")[0] == 0


def test_terminal_output_escapes_control_characters(ledger_target, capsys):
    # the contract refuses control characters (issue 14); a ledger file edited by hand can still hold them
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("C1"))
    esc = "chr(27)" if is_pg(ledger_target) else "char(27)"
    sql(ledger_target, f"UPDATE records SET claim_id = 'C' || {esc} || '[2J1' WHERE seq = 1")
    rc, out, _ = cli(capsys, "audit", "list", "--ledger", ledger_target)
    assert rc == 0 and "\x1b" not in out and "\\u001b[2J" in out


def test_accounts(ledger_target, capsys):
    with Ledger(ledger_target) as ledger:
        token = ledger.add_user("alice", "handler")
        assert ledger.authenticate(token) == {"name": "alice", "role": "handler"}
        assert ledger.authenticate(token + "x") is None and ledger.authenticate("") is None
        with pytest.raises(LedgerError, match="^name: a user named 'alice' already exists"):
            ledger.add_user("alice", "auditor")
        with pytest.raises(LedgerError, match="^role: 'boss' is not a role"):
            ledger.add_user("bob", "boss")
        with pytest.raises(LedgerError, match="^name:"):
            ledger.add_user("bad name\x1b", "admin")
        new = ledger.rotate_user("alice")
        assert ledger.authenticate(token) is None and ledger.authenticate(new)["name"] == "alice"
        ledger.disable_user("alice")
        assert ledger.authenticate(new) is None
        with pytest.raises(LedgerError, match="^name: no user named 'carol'"):
            ledger.disable_user("carol")
        (user,) = ledger.list_users()
        assert user["name"] == "alice" and user["disabled"] is True and set(user) == {"name", "role", "disabled", "created_at"}
    stored = json.dumps(rows(ledger_target, "SELECT * FROM users"))
    assert token not in stored and new not in stored  # only hashes are kept
    rc, out, err = cli(capsys, "users", "add", "dora", "--role", "auditor", "--ledger", ledger_target)
    printed = out.strip()
    assert rc == 0 and printed.startswith("adj_") and "shown only this once" in err
    with Ledger(ledger_target) as ledger:
        assert ledger.authenticate(printed) == {"name": "dora", "role": "auditor"}
    rc, out, _ = cli(capsys, "users", "list", "--ledger", ledger_target)
    assert "dora" in out and "auditor" in out and printed not in out and "disabled" in out
    assert cli(capsys, "users", "add", "dora", "--role", "admin", "--ledger", ledger_target)[0] == 2
    rc, out, _ = cli(capsys, "users", "rotate", "dora", "--ledger", ledger_target)
    assert rc == 0 and out.strip() != printed
    assert cli(capsys, "users", "disable", "dora", "--ledger", ledger_target)[0] == 0
    assert cli_json(capsys, "users", "list", "--ledger", ledger_target, "--format", "json")[1]["disabled"] is True
    with pytest.raises(SystemExit):
        cli(capsys, "users", "add", "eve", "--role", "boss", "--ledger", ledger_target)


def test_adjudicator_ledger_variable_names_the_ledger_of_either_kind(ledger_target, tmp_path, monkeypatch, capsys):
    from ledger_support import claim_file
    monkeypatch.setenv("ADJUDICATOR_LEDGER", ledger_target)
    rc, out, err = cli(capsys, "adjudicate", claim_file(tmp_path, "E1"), "--record")
    assert rc == 0, err
    listed = cli_json(capsys, "audit", "list", "--format", "json")
    assert [r["claim_id"] for r in listed] == ["E1"] and listed[0]["recorded_by"].startswith("cli:")
    rc, out, _ = cli(capsys, "audit", "verify")
    assert rc == 0 and out.startswith("OK: 1 records")


def test_the_desks_search_and_work_list_on_both_backends(ledger_target):
    """Status, latest-only, paging and the open claims: what the desk's ledger and work-list pages read."""
    with Ledger(ledger_target) as ledger:
        _, plain = record(ledger, claim_data("D1"))
        waiting = claim_data("D2")
        del waiting["incident"]["cause"]  # the engine asks for it (needs_information)
        _, held = record(ledger, waiting)
        _, paid = record(ledger, claim_data("D3", {"payment": {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}}))
        record(ledger, claim_data("D1", {"losses": [{"category": "call_center", "amount": 100_000}]}), readjudicate=True)
        assert held["needs_information"] and not plain["needs_information"] and not paid["needs_information"]
        total, rows = ledger.search()
        assert total == 3 and [r["claim_id"] for r in rows] == ["D1", "D3", "D2"]  # latest of each, newest first
        assert rows[0]["seq"] == 4 and rows[0]["total_payable"] == 100_000
        assert ledger.search(latest_only=False)[0] == 4
        assert [r["claim_id"] for r in ledger.search(status="needs_information")[1]] == ["D2"]
        assert [r["claim_id"] for r in ledger.search(status="paid")[1]] == ["D3"]
        assert ledger.search(status="paid")[1][0]["paid_on"] == "2025-08-20"
        assert [r["claim_id"] for r in ledger.search(status="unpaid")[1]] == ["D1"]
        assert [r["claim_id"] for r in ledger.search(policy_number="fk-1", limit=1, offset=1)[1]] == ["D3"]
        assert [r["claim_id"] for r in ledger.search(claim_id="D")[1]] == ["D1", "D3", "D2"]
        assert ledger.search(seqs=[])[0] == 0 and ledger.search(seqs=[2])[1][0]["claim_id"] == "D2"
        with pytest.raises(LedgerError, match="^status: "):
            ledger.search(status="lost")
        open_ = {r["claim_id"]: r for r in ledger.open_claims()}
        # D3 is paid but lists benefits nobody has told the claimant of: open until they are marked
        assert set(open_) == {"D1", "D2", "D3"} and open_["D3"]["unclaimed"] and not open_["D3"]["overdue"]
        for u in open_["D3"]["unclaimed_detail"]:
            ledger.mark_benefit("D3", u["key"], "declined", "2025-08-21", by="test")
        open_ = {r["claim_id"]: r for r in ledger.open_claims()}
        assert set(open_) == {"D1", "D2"} and open_["D2"]["needs"] and not open_["D1"]["needs"]
        assert ledger.open_claims(recorded_by="nobody") == []


def test_the_work_lists_payment_due_overdue_and_order_on_every_status_combination(ledger_target):
    """The work list's rows and its order read one predicate (payment due: the decision pays something or
    asks for information; a refusal has none), on both backends, for every combination of what the side
    table holds: payable or not, facts asked or not, paid or not, each review state, due date past,
    future or none, unclaimed benefits or not. The rows are written straight into claim_state (the only
    table the work list reads) so that every combination is there, even ones recording never makes."""
    import itertools
    today = dt.date(2025, 10, 1)
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("G-REAL"))
    [(state_json,)] = rows(ledger_target, "SELECT state_json FROM claim_state WHERE claim_id = 'G-REAL'")
    sql(ledger_target, "DELETE FROM claim_state")
    q = lambda v: "NULL" if v is None else (str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'")  # noqa: E731
    grid = list(itertools.product((0, 700_000), (0, 2), (None, "2025-09-15"),
                                  ("none", "pending_review", "approved", "returned"),
                                  (None, "2025-09-01", "2025-10-31"), (0, 1)))
    want = {}
    values = []
    for i, (payable, needs, paid_on, review, due_on, unclaimed) in enumerate(grid):
        cid, seq = f"G-{i:03d}", 1000 + i
        want[cid] = dict(seq=seq, payable=payable, needs=needs, paid_on=paid_on, review=review, due_on=due_on,
                         unclaimed=unclaimed)
        values.append("(" + ", ".join(q(v) for v in (
            cid, seq, seq, "alice", "FK-G", "fukuoka-cyber-2025", "2025-08-01T00:00:00Z", payable, needs, review,
            "2025-08-01" if due_on else None, due_on, paid_on, unclaimed, state_json)) + ")")
    sql(ledger_target, "INSERT INTO claim_state (claim_id, seq, decision_seq, handler, policy_key, programme, "
                       "recorded_at, total_payable, needs, review, completed_on, due_on, paid_on, unclaimed, "
                       "state_json) VALUES " + ", ".join(values))
    with Ledger(ledger_target) as ledger:
        total, got = ledger.worklist(today=today, limit=None)
        pages = [r["claim_id"] for k in range(0, total, 50) for r in ledger.worklist(today=today, limit=50, offset=k)[1]]
    # what the work list promises (README, docs/CLAIM_FILE.md "The payment clock"), said again here
    expect_open = {cid for cid, w in want.items()
                   if (w["paid_on"] is None and (w["payable"] or w["needs"] or w["review"] in ("pending_review", "returned")))
                   or w["unclaimed"]}
    assert total == len(got) == len(expect_open) and {r["claim_id"] for r in got} == expect_open
    assert 0 < len(expect_open) < len(grid)
    for r in got:
        w = want[r["claim_id"]]
        due_payment = w["payable"] > 0 or w["needs"] > 0
        overdue = due_payment and w["paid_on"] is None and w["due_on"] is not None and w["due_on"] < today.isoformat()
        assert r["payment_due"] is due_payment, r["claim_id"]
        assert r["due_on"] == (w["due_on"] if due_payment else None), r["claim_id"]
        assert r["overdue"] is overdue and r["unpaid"] is (overdue and w["payable"] > 0), r["claim_id"]
        assert r["days_overdue"] == (30 if overdue else 0), r["claim_id"]
        assert r["status"] == ("needs_information" if w["needs"] else "paid" if w["paid_on"]
                               else "unpaid" if w["payable"] else "nothing_payable"), r["claim_id"]
        assert (("payment" in r["to_do"]) or ("completion" in r["to_do"])) is (w["payable"] > 0 and not w["paid_on"])
    # overdue first; then unpaid before paid; then those with a due date, earliest first; fewest facts asked, newest
    key = lambda r: (not r["overdue"], r["paid_on"] is not None, r["due_on"] is None, r["due_on"] or "",  # noqa: E731
                     r["needs"], -r["seq"])
    assert [r["claim_id"] for r in got] == [r["claim_id"] for r in sorted(got, key=key)] == pages
    assert sum(r["overdue"] for r in got) and sum(not r["payment_due"] for r in got)


def test_audit_list_table_columns_fit_their_widest_cell_wide_characters_counted_twice(ledger_target, capsys):
    """A long claim id or a Japanese one no longer pushes the columns after it out of line."""
    from adjudicator.cli.common import _table, _width
    assert _width("事故-1") == 6 and _width("ｆｋ") == 4 and _width("FK-1") == 4
    assert _table(["a", "n"], [["事故", "1"], ["x", "1,000"]], right={1}) == ["a         n", "事故      1", "x     1,000"]
    with Ledger(ledger_target) as ledger:
        record(ledger, claim_data("A-VERY-LONG-CLAIM-IDENTIFIER-OF-FORTY-CHARS"))
        record(ledger, claim_data("事故２０２５－１", {"policy": {"policy_number": "FK-2"}}))
    rc, out, _ = cli(capsys, "audit", "list", "--ledger", ledger_target)
    assert rc == 0
    head, *lines, tail = out.rstrip("\n").split("\n")
    assert tail == "2 record(s)" and len(lines) == 2
    col = head.index("policy")
    for ln in lines:   # each row's policy number starts under the header's "policy", wide characters counted
        prefix = ln[:next(i for i in range(len(ln)) if _width(ln[:i]) == _width(head[:col]))]
        assert ln[len(prefix):].startswith("FK-"), ln
    assert head.split() == ["seq", "recorded_at", "claim_id", "policy", "programme", "payable", "by"]
