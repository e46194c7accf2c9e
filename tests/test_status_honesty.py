"""Issue 10 item 7: a coverage never reads a bare "covered, 0".

Either the cover never attached (then it is not_covered / excluded with its reason), or it is
covered and pays, or it is covered and the decision says why it pays 0: no loss line was claimed
under it, or a limit / treatment step cut its lines to 0.
"""
import itertools

from adjudicator import adjudicate
from adjudicator.engine.examples import load_bases, merge

BASES = load_bases()

PATCHES = {
    "fukuoka-cyber-2025": [
        {},
        {"policy": {"enrolled_on": "2025-08-20"}},
        {"policy": {"enrolled_on": "2025-08-20"}, "incident": {"claim_made_on": "2025-10-10"}},
        {"policy": {"plan": "P3"}, "incident": {"evidence": []}},
        {"policy": {"plan": "P3"}, "incident": {"cause": "media_loss", "attack": None, "evidence": ["insurer_notified"]}},
        {"policy": {"lost_profit_limit": 1000000}, "losses": []},
        {"prior_payments": {"costs": 5000000}},
        {"incident": {"attack": {"status": "suspected"}, "discovered_by": "self"}},
    ],
    "nagano-privacy-2016": [
        {},
        {"policy": {"enrolled_on": "2016-07-20"}},
        {"incident": {"evidence": []}},
        {"losses": [{"category": "public_notice", "amount": 50000}]},
        {"incident": {"leak": {"corporate_info": True, "personal_records": 0, "subjects": []}},
         "losses": [{"category": "corporate_damages", "amount": 40000}]},
    ],
    "jma-support": [{}, {"incident": {"closure_days": 1}}],
}


def _cut_to_zero(decision: dict, cov: str) -> bool:
    lines = [ln for ln in decision["lines"] if ln["coverage"] == cov]
    return bool(lines) and all(ln["paid"] == 0 and len(ln["steps"]) > 1 for ln in lines)


def test_no_bare_covered_zero():
    seen = 0
    for programme, patches in PATCHES.items():
        for patch in patches:
            d = adjudicate(merge(BASES[programme], patch))
            for cov, entry in d["coverages"].items():
                if entry["status"] == "covered" and entry["payable"] == 0:
                    seen += 1
                    effects = [r.get("effect") for r in entry["reasons"]]
                    assert "no_loss_claimed" in effects or _cut_to_zero(d, cov), (programme, patch, cov, entry)
    assert seen > 0  # the corpus does hold covered-with-0 coverages, each explained


def test_no_loss_claimed_reason_names_the_coverage_clause():
    d = adjudicate(BASES["fukuoka-cyber-2025"])
    reg = d["coverages"]["regulatory_response"]
    assert reg["status"] == "covered" and reg["payable"] == 0
    last = reg["reasons"][-1]
    assert last["effect"] == "no_loss_claimed" and last["rule"] is None
    assert last["clause"] == "000 §8 イ④; §9 イ②"
    # a coverage with a line under it carries no such reason
    assert all(r.get("effect") != "no_loss_claimed" for r in d["coverages"]["incident_response"]["reasons"])


def test_fixed_benefits_do_not_claim_lines():
    d = adjudicate(BASES["jma-support"])
    sup = d["coverages"]["cyber_support"]
    assert sup["status"] == "covered" and sup["payable"] == 100000
    assert all(r.get("effect") != "no_loss_claimed" for r in sup["reasons"])


def test_cover_that_never_attached_is_not_covered_not_zero():
    # incident discovered before a mid-term start (2025-08-20 application -> 2025-10-05)
    d = adjudicate(merge(BASES["fukuoka-cyber-2025"], {"policy": {"enrolled_on": "2025-08-20"}}))
    for cov in ("liability", "incident_response", "leak_response", "regulatory_response"):
        assert d["coverages"][cov]["status"] == "not_covered", cov
        assert d["coverages"][cov]["reasons"][0]["rule"] in ("FK-PERIOD-DISCOVERED-BEFORE-START", "FK-LIAB-CLAIM-BEFORE-START")
    # leak-only evidence not met: the leak costs are not covered (and say why)
    d = adjudicate(merge(BASES["fukuoka-cyber-2025"], {"policy": {"plan": "P3"}, "incident": {"evidence": [], "reports": []}}))
    assert d["coverages"]["leak_response"]["status"] == "not_covered"
    assert d["coverages"]["leak_response"]["reasons"][0]["rule"] == "FK-LEAK-ONLY-EVIDENCE"
