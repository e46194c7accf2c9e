"""The second round of hand-computed claims (000, 004): what it found wrong, pinned to the yen."""
import pytest

from adjudicator import adjudicate
from adjudicator.contract.load import ClaimError

from ledger_support import claim_data

INVESTIGATION = {"incident": {"attack": None},
                 "losses": [{"category": "forensic_investigation", "amount": 500_000},
                            {"category": "call_center", "amount": 100_000}]}


@pytest.mark.parametrize("missing", ["attack", "cause"])
def test_investigation_costs_wait_for_the_attack_status_or_cause_never_refused_as_unlisted(missing):
    patch = {"incident": {"attack": None, **({"cause": None} if missing == "cause" else {})},
             "losses": INVESTIGATION["losses"]}
    data = claim_data("F24", patch)
    if missing == "cause":
        data["incident"].pop("cause", None)
    d = adjudicate(data)
    forensic = d["lines"][0]
    assert forensic["coverage"] == "incident_response" and forensic["paid"] == 0
    assert all(s["step"] != "refused" for s in forensic["steps"])
    assert d["coverages"]["incident_response"]["status"] == "needs_information"
    assert f"incident.{'attack.status' if missing == 'attack' else 'cause'}" in [n["field"] for n in d["needs_information"]]
    from adjudicator.documents.render import render
    assert "amount on hold: ¥600,000" in render(d, fmt="text", lang="en")  # both lines held, none refused
    given = adjudicate(claim_data("F24b", {"incident": {"attack": {"kind": "malware", "status": "confirmed",
                                                                   "state_sponsored": False}},
                                           "losses": INVESTIGATION["losses"]}))
    assert given["lines"][0]["paid"] == 500_000 and given["total_payable"] == 600_000


@pytest.mark.parametrize("item", ["apology_letters", "public_announcement", "insurer_notified", "authority_report"])
def test_a_measure_dated_before_the_leak_is_an_input_error_naming_the_field(item):
    data = claim_data("F11b", {"incident": {"evidence": [item], "evidence_dates": {item: "2025-06-01"}}})
    with pytest.raises(ClaimError) as err:
        adjudicate(data)
    assert err.value.problems == [(f"incident.evidence_dates.{item}",
                                   f"cannot be before incident.occurred_on (2025-06-01 < "
                                   f"{data['incident']['occurred_on']})")]


def test_regulatory_costs_without_a_filing_ask_whether_a_breach_of_law_was_recognised():
    lines = [{"category": "regulatory_response", "amount": 200_000}, {"category": "call_center", "amount": 100_000}]
    asked = adjudicate(claim_data("F29", {"incident": {"reports": []}, "losses": lines}))
    assert asked["coverages"]["regulatory_response"]["status"] == "needs_information"
    assert [n["field"] for n in asked["needs_information"]] == ["incident.breach_of_law_recognised"]
    assert asked["total_payable"] == 100_000
    yes = adjudicate(claim_data("F29", {"incident": {"reports": [], "breach_of_law_recognised": True}, "losses": lines}))
    assert yes["total_payable"] == 300_000
    no = adjudicate(claim_data("F29", {"incident": {"reports": [], "breach_of_law_recognised": False}, "losses": lines}))
    assert no["coverages"]["regulatory_response"]["status"] == "not_covered" and no["total_payable"] == 100_000


def test_a_recognised_breach_pays_regulatory_costs_even_when_the_file_says_nothing_of_reports():
    lines = [{"category": "regulatory_response", "amount": 800_000}]
    data = claim_data("F29c", {"incident": {"breach_of_law_recognised": True}, "losses": lines})
    del data["incident"]["reports"]
    d = adjudicate(data)
    assert d["coverages"]["regulatory_response"]["status"] == "covered" and d["total_payable"] == 800_000
    assert not d["needs_information"]
