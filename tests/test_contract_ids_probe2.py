"""Claim ids and policy numbers a reader cannot tell apart (second hostile probe N2, N4, N13): a claim
id is compared as the duplicate check sees it (NFKC, dash look-alikes), and holds only characters a
reader can tell apart, so the same claim is not recorded and paid twice."""
import pytest

from adjudicator.contract.load import ClaimError
from adjudicator.ledger import Ledger, LedgerError, normalise_policy_number
from adjudicator.policy.claims import parse_claim

from ledger_support import claim_data, record

SMALL = {"losses": [{"category": "call_center", "amount": 100_000}]}


@pytest.mark.parametrize("cid", ["DUPX\u3164", "DUPX\u2800", "DUPX\ufe0f", "DUP\u0425", "DUPX\u0301", ".", "..",
                                 "FK-\u4e28001"])
def test_a_claim_id_with_an_invisible_or_look_alike_character_is_refused_naming_it(cid):
    with pytest.raises(ClaimError) as err:
        parse_claim(claim_data(cid))
    assert err.value.problems[0][0] == "claim_id"


@pytest.mark.parametrize("typed, key", [("ＤＵＰＸ", "DUPX"), ("DUP一X", "DUP-X"), ("FK－001", "FK-001"),
                                        ("S/1", "S/1"), ("R1<b>\"'x", "R1<b>\"'x"), ("事故2025-01", "事故2025-01")])
def test_a_claim_id_is_kept_as_the_duplicate_check_compares_it(typed, key):
    assert parse_claim(claim_data(typed)).claim_id == key


def test_the_same_claim_typed_full_width_is_a_duplicate(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("DUPX", SMALL), by="alice")
        with pytest.raises(LedgerError, match="already recorded"):
            record(led, claim_data("ＤＵＰＸ", SMALL), by="alice")


@pytest.mark.parametrize("typed", ["NG一AGG", "NG-AGG", "NGーAGG", "ＮＧ－ＡＧＧ", "NG\u2f00AGG", "NG\u3192AGG"])
def test_the_kanji_one_beside_ascii_reads_as_a_dash_in_a_policy_number(typed):
    assert normalise_policy_number(typed) == normalise_policy_number("NG-AGG")


def test_kanji_that_read_as_strokes_are_refused_in_a_policy_number():
    with pytest.raises(ClaimError) as err:
        parse_claim(claim_data("P1", {"policy": {"policy_number": "FK-\u4e28001"}}))
    assert err.value.problems[0][0] == "policy.policy_number"
    assert parse_claim(claim_data("P2", {"policy": {"policy_number": "第一-001"}})).policy.policy_number == "第一-001"
