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


def test_a_claim_is_read_and_handled_by_its_id_as_typed(ledger_target):
    from adjudicator.policy.catalogue import load_catalogue
    cat = load_catalogue()
    with Ledger(ledger_target) as led:
        record(led, claim_data("DUP-1", SMALL), by="alice")
        for typed in ("ＤＵＰ－１", "DUP‐1", "DUPー1", "DUP-①"):
            assert led.find(typed).claim_id == "DUP-1" and led.state(typed)["claim_id"] == "DUP-1"
        _, st = led.clock("ＤＵＰ－１", "complete", {"completed_on": "2025-08-01"}, cat, by="alice")
        assert st["claim_id"] == "DUP-1" and st["clock"]["completed_on"] == "2025-08-01"


@pytest.mark.parametrize("typed, kept", [("サーバー1", "サーバー1"), ("ｻｰﾊﾞｰ1", "サーバー1"), ("データ一覧", "データ一覧"),
                                         ("FKー001", "FK-001")])
def test_a_katakana_word_keeps_its_long_vowel_in_a_claim_id(typed, kept):
    assert parse_claim(claim_data(typed)).claim_id == kept


def test_a_claim_id_differing_only_in_letter_case_is_the_same_claim(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("DUP-1", SMALL), by="alice")
        with pytest.raises(LedgerError, match=r"^claim_id: 'dup-1' is already recorded as 'DUP-1'"):
            record(led, claim_data("dup-1", SMALL), by="alice")
        record(led, claim_data("事故-2", SMALL), by="alice")  # no letters: nothing to fold
        assert led.head()[0] == 2


def test_case_twins_inside_one_batch_group_are_refused_too(ledger_target, tmp_path, capsys):
    import json
    from ledger_support import cli
    src = tmp_path / "two.jsonl"
    src.write_text("\n".join(json.dumps(claim_data(cid, SMALL), default=str) for cid in ("CASE-A", "case-a")) + "\n",
                   encoding="utf-8")
    rc, _, err = cli(capsys, "batch", src, "--out", tmp_path / "out.jsonl", "--ledger", ledger_target)
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[0]["claim_id"] == "CASE-A" and "errors" not in lines[0]
    assert "already recorded as 'CASE-A'" in lines[1]["errors"][0]["message"], lines[1]
    with Ledger(ledger_target) as led:
        assert led.head()[0] == 1
