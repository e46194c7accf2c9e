"""Issue 4: payouts to the yen, from a table of hand-computed cases (tests/cases/payouts.yaml)."""
from pathlib import Path

import pytest
import yaml

from adjudicator import adjudicate
from adjudicator.verify import load_bases, merge

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "payouts.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hand_computed_payout(case):
    if "claim_file" in case:
        decision = adjudicate(ROOT / case["claim_file"])
    else:
        decision = adjudicate(merge(load_bases()[case["programme"]], case["patch"]))
    expect = dict(case["expect"])
    total = expect.pop("total")
    for cov, entry in decision["coverages"].items():
        assert entry["payable"] == expect.get(cov, 0), (cov, entry["status"], entry["reasons"])
    assert decision["total_payable"] == total
    for cov, status in case.get("status", {}).items():
        assert decision["coverages"][cov]["status"] == status, decision["coverages"][cov]["reasons"]
    if "lines" in case:
        assert [ln["paid"] for ln in decision["lines"]] == case["lines"]


def test_nagano_worked_example_shows_each_step_of_the_seed_table():
    d = adjudicate(ROOT / "scenarios/examples/nagano_seed_example.yaml")
    bp_lines = [ln for ln in d["lines"] if ln["coverage"] == "brand_protect"]
    assert [next(s["after"] for s in ln["steps"] if s["step"] == "coinsurance") for ln in bp_lines] == \
        [112_500, 2_250_000, 900_000, 1_620_000, 1_890_000, 1_800_000]
    ded = [s for ln in bp_lines for s in ln["steps"] if s["step"] == "deductible"]
    assert sum(s["cut"] for s in ded) == 100_000
    assert d["coverages"]["liability"]["payable"] == 7_875_000
    assert d["coverages"]["brand_protect"]["payable"] == 8_472_500
    assert d["total_payable"] == 16_347_500


def test_shared_cap_says_what_was_cut():
    d = adjudicate(merge(load_bases()["fukuoka-cyber-2025"], {
        "policy": {"plan": "S1000"},
        "losses": [{"category": "damages", "amount": 8_000_000}, {"category": "call_center", "amount": 5_000_000}]}))
    cut = [c for c in d["limits_applied"] if c["step"] == "combined_cap"]
    assert cut and cut[0]["cut"] == 3_000_000 and cut[0]["clause"] == "000 §10 ※1"
    assert cut[0]["cap_id"] == "fukuoka-liability-plus-costs"
