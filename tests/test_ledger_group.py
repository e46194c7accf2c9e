"""A batch group buffers its writes and writes them together (one executemany per table): it must leave
exactly what recording the same claims one transaction each leaves - records, hashes, running totals,
work-list rows, chain head - and every read inside the group must see the claims already recorded in it."""
import json

import orjson
import pytest

from adjudicator.decide import decide, to_json
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.ledger import Ledger, LedgerError
from adjudicator.ledger.base import _compact
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

from ledger_support import claim_data, is_pg, new_pg_database, rows

CATALOGUE, BOOK = load_catalogue(), load_rulebook()
PROG = "fukuoka-cyber-2025"


def _steps():
    """(claim data, readjudicate, resume, recorded_at): claims on shared policies that the ② costs pool
    (1,000,000 a period) cuts once the totals run up, a policy number written two ways, a claim id
    re-adjudicated onto another policy, the same input again (skipped on resume) and a claim error. The
    first step is recorded before the group: the group moves its policy's totals before it reads them."""
    at = iter(f"2026-12-02T07:00:{s:02d}.000000+00:00" for s in range(60))
    out = [(claim_data("H-1", {"policy": {"policy_number": "FK-3"}}), False, True, next(at)),
           (claim_data("H-1", {"policy": {"policy_number": "FK-4"}}), True, False, next(at)),
           (claim_data("H-2", {"policy": {"policy_number": "FK-3"}, "losses": [{"category": "call_center",
                                                                                 "amount": 900_000}]}), False, True, next(at))]
    for i in range(6):
        out.append((claim_data(f"G-{i}", {"policy": {"policy_number": "FK-1" if i % 2 else "fk－1"}}), False, True, next(at)))
    out.append((claim_data("G-7", {"policy": {"policy_number": "FK-2"}}), False, True, next(at)))
    out.append((claim_data("G-1", {"policy": {"policy_number": "FK-2"},
                                   "losses": [{"category": "call_center", "amount": 400_000}]}), True, False, next(at)))
    out.append((claim_data("G-7", {"policy": {"policy_number": "FK-2"}}), False, True, next(at)))   # same input: skipped
    out.append((claim_data("G-3", {"losses": [{"category": "call_center", "amount": 5}]}), False, True, next(at)))  # error
    out.append((claim_data("G-8", {"policy": {"policy_number": "FK-2"}}), False, True, next(at)))
    return out


def _record_all(ledger, in_group: bool) -> list:
    """What each step returned: ("ok", seq, decision JSON) / ("skipped", ...) / ("error", message)."""
    seen = []

    def one(data, readjudicate, resume, at):
        claim = parse_claim(data, CATALOGUE)
        try:
            seq, decision = ledger.record(data, claim, CATALOGUE, lambda c, note: decide(c, BOOK, CATALOGUE, note),
                                          readjudicate=readjudicate, recorded_at=at, recorded_by="test", resume=resume)
        except LedgerError as exc:
            seen.append(("error", str(exc)))
            return
        # the JSON the batch writes is the recorded JSON, the bytes of to_json
        assert ledger.last_decision_json + "\n" == to_json(decision)
        seen.append(("skipped" if ledger.last_skipped is not None else "ok", seq, ledger.last_decision_json))

    if in_group:
        first, *rest = _steps()
        one(*first)
        with ledger.group():
            for step in rest:
                one(*step)
    else:
        for step in _steps():
            one(*step)
    return seen


def _dump(target) -> dict:
    return {"records": rows(target, "SELECT * FROM records ORDER BY seq"),
            "totals": rows(target, "SELECT * FROM totals ORDER BY policy_key, programme, period_start, pool"),
            "claim_state": rows(target, "SELECT * FROM claim_state ORDER BY claim_id"),
            "chain": rows(target, "SELECT * FROM chain")}


def _second_target(ledger_target, request, tmp_path) -> str:
    if is_pg(ledger_target):
        return new_pg_database(request.getfixturevalue("pg_server"))
    return str(tmp_path / "one-at-a-time.sqlite")


@pytest.mark.parametrize("flush_rows", [1, 2, 512])
def test_a_group_leaves_what_one_transaction_a_claim_leaves(ledger_target, request, tmp_path, flush_rows):
    single_target = _second_target(ledger_target, request, tmp_path)
    with Ledger(ledger_target) as grouped, Ledger(single_target) as single:
        grouped.GROUP_FLUSH_ROWS = flush_rows  # 1 and 2: the buffer written in the middle of the group too
        got, want = _record_all(grouped, True), _record_all(single, False)
        assert got == want
        assert [s[0] for s in got].count("skipped") == 1 and [s[0] for s in got].count("error") == 1
        # the pool ran up: a later claim on FK-1 was cut by what the group's own earlier claims paid
        paid = [json.loads(s[2])["total_payable"] for s in got[3:9]]
        assert paid[0] == 700_000 and paid[1] == 300_000 and paid[2:6] == [0, 0, 0, 0]
        assert json.loads(got[2][2])["total_payable"] == 900_000  # FK-3's 700,000 moved to FK-4 in the group
        assert grouped.verify()[0] and single.verify()[0]
    dump = _dump(ledger_target)
    assert dump == _dump(single_target)
    assert len(dump["records"]) == 12 and dump["chain"][0][2] == 12
    for rec in rows(ledger_target, "SELECT event_json FROM records"):  # the state encoded once, the same bytes
        ev = orjson.loads(rec[0])
        assert rec[0] == _compact({"event": ev["event"], "state": ev["state"]})


def test_a_read_inside_a_group_sees_the_claims_recorded_in_it(ledger_target):
    with Ledger(ledger_target) as ledger:
        period = str(CATALOGUE[PROG].period_start)
        with ledger.group():
            claim_data_a = claim_data("R-1")
            ledger.record(claim_data_a, parse_claim(claim_data_a, CATALOGUE), CATALOGUE,
                          lambda c, note: decide(c, BOOK, CATALOGUE, note), recorded_by="test")
            assert ledger.exists("R-1") == 1
            assert ledger.find("R-1").decision["total_payable"] == 700_000
            assert ledger.totals("FK-1", PROG, period)["costs"] == 700_000
            assert ledger.state("R-1")["seq"] == 1
            data = claim_data("R-2")
            _, decision = ledger.record(data, parse_claim(data, CATALOGUE), CATALOGUE,
                                        lambda c, note: decide(c, BOOK, CATALOGUE, note), recorded_by="test")
            assert decision["total_payable"] == 300_000
        assert ledger.head()[0] == 2 and ledger.verify()[0]


def test_a_failed_group_writes_nothing_of_its_buffer(ledger_target):
    with Ledger(ledger_target) as ledger:
        with pytest.raises(RuntimeError, match="stop"):
            with ledger.group():
                for i in range(3):
                    data = claim_data(f"F-{i}")
                    ledger.record(data, parse_claim(data, CATALOGUE), CATALOGUE,
                                  lambda c, note: decide(c, BOOK, CATALOGUE, note), recorded_by="test")
                raise RuntimeError("stop")
        assert ledger.head()[0] == 0 and ledger.exists("F-0") is None
        assert rows(ledger_target, "SELECT COUNT(*) FROM totals") == [(0,)]
        assert rows(ledger_target, "SELECT COUNT(*) FROM claim_state") == [(0,)]
        data = claim_data("F-0")  # the ledger is usable after it: the totals start from nothing
        _, decision = ledger.record(data, parse_claim(data, CATALOGUE), CATALOGUE,
                                    lambda c, note: decide(c, BOOK, CATALOGUE, note), recorded_by="test")
        assert decision["total_payable"] == 700_000 and ledger.verify()[0]
