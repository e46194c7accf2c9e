"""Pins found by the second mutation run (mutmut) of engine/why_not.py: the unclaimed benefits, entry by
entry (their clause, amount and every need, of this programme and of the fixed-benefit programme printed
with it), which rules a target reads, and dates in a described change. Real claims through the real
engine, rulebook and catalogue; the texts are the rulebook's own (its duties, messages and rule texts)."""
from __future__ import annotations

import datetime as dt

from adjudicator import adjudicate
from adjudicator.engine import why_not as wn
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BOOK, CAT = load_rulebook(), load_catalogue()
BASES = load_bases()
FK = BASES["fukuoka-cyber-2025"]
CONF = wn.settings(BOOK)
COSTS = [{"category": "forensic_investigation", "amount": 500000}]
JMA_REQ = "000 §13 ①②要件"
NO_ADMISSION = "000 §18 4.; ●示談交渉"


# ------------------------------------------------------------------ the entries, from the rulebook's texts
def entry(programme: str, coverage: str, status: str, clause: str, amount, needs: list[dict]) -> dict:
    return {"programme": programme, "coverage": coverage, "label": CAT[programme].coverages[coverage]["label"],
            "status": status, "clause": clause, "amount": amount, "needs": needs}


def doc() -> dict:
    msg = BOOK.messages["unclaimed_loss_lines"]
    return {"kind": "document", "field": "losses", "text": msg["ja"], "text_en": msg["en"]}


def req(duty: str, clause: str) -> dict:
    return {"kind": "requirement", "field": None, "text": BOOK.duties[duty]["ja"], "text_en": BOOK.duties[duty]["en"],
            "clause": clause}


def info(field: str, rule: str) -> dict:
    text = BOOK.rules_by_id[rule].text
    return {"kind": "information", "field": field, "text": text.ja, "text_en": text.en}


def refused(rule: str) -> dict:
    r = BOOK.rules_by_id[rule]
    return {"kind": "refused_now", "field": None, "text": r.text.ja, "text_en": r.text.en, "clause": r.clause}


REPORT_MHLW = {"kind": "report", "field": "incident.reports", "text": None, "text_en": None,
               "change": {"field": "incident.reports", "op": "add", "value": "mhlw", "from": ["ppc"],
                          "to": ["ppc", "mhlw"], "supplied": "report"}}
REGULATORY = entry("fukuoka-cyber-2025", "regulatory_response", "covered", "000 §8 イ④; §9 イ②", None, [doc()])
LEAK_RESPONSE = entry("fukuoka-cyber-2025", "leak_response", "covered", "000 §8 イ③; §9 イ①", None, [doc()])
# the JMA cyber support reached only with a report: what to supply, what is still missing, its requirement,
# and what refuses it now
JMA_PENDING = entry("jma-support", "cyber_support", "not_covered", "000 §13 ①", None, [
    REPORT_MHLW, info("incident.closure_days", "JMA-CYBER-TRIGGER:needs:incident.closure_days"),
    info("policy.jma_member", "JMA-MEMBER-NEEDED"), req("jma_requirements", JMA_REQ), refused("JMA-CYBER-NO-REPORT")])


def unclaimed(claim: dict) -> list[dict]:
    return adjudicate(claim)["unclaimed_benefits"]


def test_the_jma_support_a_report_would_reach_lists_the_report_what_is_missing_and_what_refuses_it():
    assert unclaimed(FK) == [REGULATORY, JMA_PENDING]


def test_the_jma_support_reached_lists_its_amount_for_the_days_closed_and_only_its_requirement():
    claim = merge(FK, {"policy": {"jma_member": True}, "incident": {"reports": ["mhlw"], "closure_days": 3}})
    assert unclaimed(claim) == [REGULATORY, entry("jma-support", "cyber_support", "covered", "000 §13 ①", 400000,
                                                  [req("jma_requirements", JMA_REQ)])]
    # the amount is the JMA programme's own for the days closed (100,000 and 100,000 a day, 3 days at most)
    shorter = merge(claim, {"incident": {"closure_days": 1}})
    jma = [u for u in unclaimed(shorter) if u["programme"] == "jma-support"]
    as_jma = merge(BASES["jma-support"], {"incident": {"reports": ["mhlw"], "closure_days": 1,
                                                        "occurred_on": FK["incident"]["occurred_on"],
                                                        "discovered_on": FK["incident"]["discovered_on"]}})
    assert [u["amount"] for u in jma] == [adjudicate(as_jma)["total_payable"]]
    assert jma[0]["amount"] == 200000


def test_waiting_for_the_cause_the_trigger_rules_clause_and_the_coverages_own_duty_are_listed():
    claim = merge(FK, {"incident": {"cause": None}, "losses": COSTS})
    assert unclaimed(claim) == [
        # liability waits for the cause: no trigger fired, the clause is its first trigger rule's
        entry("fukuoka-cyber-2025", "liability", "needs_information", BOOK.rules_by_id["FK-TRIG-ALL-RISK"].clause, None,
              [info("incident.cause", "FK-TRIG-ALL-RISK:needs:incident.cause"), req("fk_no_admission", NO_ADMISSION)]),
        LEAK_RESPONSE, REGULATORY,
        entry("jma-support", "cyber_support", "needs_information", "000 §13 ①", None, [
            info("incident.cause", "JMA-CYBER-TRIGGER:needs:incident.cause"),
            info("incident.closure_days", "JMA-CYBER-TRIGGER:needs:incident.closure_days"),
            info("policy.jma_member", "JMA-MEMBER-NEEDED"), req("jma_requirements", JMA_REQ)])]
    # the leak support is not listed: the leak is only suspected, so it is refused whatever the cause
    # (JMA-LEAK-NOT-CONFIRMED, round 4), not waiting for the cause
    assert BOOK.rules_by_id["FK-TRIG-ALL-RISK"].clause != CAT["fukuoka-cyber-2025"].coverages["liability"]["reference"]


def test_a_covered_coverage_nobody_claimed_asks_for_its_duty_then_its_loss_lines():
    assert unclaimed(merge(FK, {"losses": COSTS})) == [
        entry("fukuoka-cyber-2025", "liability", "covered", "000 §7; §8 ア・イ①", None,
              [req("fk_no_admission", NO_ADMISSION), doc()]),
        LEAK_RESPONSE, REGULATORY, JMA_PENDING]


def test_without_a_third_partys_claim_liability_is_left_out_and_the_rest_still_listed():
    claim = merge(FK, {"incident": {"claim_made_on": None}, "losses": COSTS})
    assert unclaimed(claim) == [LEAK_RESPONSE, REGULATORY, JMA_PENDING]


def test_the_clause_is_the_trigger_rule_that_fired_not_the_first_one():
    # the leak-only plan's liability is brought in by its own trigger, the second of liability's two
    claim = merge(FK, {"policy": {"plan": "P3"}, "losses": [{"category": "regulatory_response", "amount": 100000}]})
    got = unclaimed(claim)
    assert got[:2] == [entry("fukuoka-cyber-2025", "liability", "covered", "000 §9 ア", None,
                             [req("fk_no_admission", NO_ADMISSION), doc()]), LEAK_RESPONSE]
    assert [r for r in ("FK-TRIG-ALL-RISK", "FK-TRIG-LEAK-LIABILITY")
            if BOOK.rules_by_id[r].clause == "000 §9 ア"] == ["FK-TRIG-LEAK-LIABILITY"]


def test_a_claim_the_fixed_benefit_programme_refuses_lists_none_of_its_benefits():
    # damages claimed in 2055: inside the 30-year window of Fukuoka's 2025 period, outside that of the JMA
    # scheme's open period from 2022 (the claim-file gate refuses it as a JMA claim): no JMA entry, no error
    claim = merge(FK, {"incident": {"claim_made_on": "2055-01-01"}})
    parsed = parse_claim(claim, CAT)
    assert wn._as_programme(parsed, CAT["jma-support"], lambda data: parse_claim(data, CAT)) is None
    assert unclaimed(claim) == [REGULATORY]


# ------------------------------------------------------------------ which rules a target reads
def test_a_line_target_reads_the_map_and_refuse_rules_and_a_coverage_target_the_rules_aiming_at_it():
    fk = CAT["fukuoka-cyber-2025"]
    assert wn._rules_touching(BOOK, fk, None) == [
        "FK-MAP-LIABILITY", "FK-MAP-INCIDENT-RESPONSE", "FK-MAP-INVESTIGATION-CONFIRMED", "FK-MAP-INVESTIGATION-SUSPECTED",
        "FK-MAP-INVESTIGATION-PENDING", "FK-MAP-LEAK-RESPONSE", "FK-MAP-LEAK-ONLY-RESPONSE", "FK-MAP-REGULATORY", "FK-MAP-LOST-PROFIT", "FK-MAP-CONTINUITY",
        "FK-REFUSE-BI-LEAK-ONLY", "FK-REFUSE-LEAK-ONLY-UNLISTED", "FK-REFUSE-FINES", "FK-REFUSE-RANSOM", "FK-REFUSE-OTHER"]
    jma = CAT["jma-support"]
    assert wn._rules_touching(BOOK, jma, None) == ["JMA-LINES-NOT-BASIS"]
    touching = wn._rules_touching(BOOK, jma, "leak_support")
    assert len(touching) == 12 and "JMA-LEAK-TRIGGER" in touching and "JMA-CYBER-TRIGGER" not in touching
    assert "JMA-LINES-NOT-BASIS" not in touching
    compiled = BOOK.compiled["jma-support"]
    assert all("leak_support" in compiled.targets[r] for r in touching)


# ------------------------------------------------------------------ describe
def test_a_described_date_change_names_its_dates_as_iso_strings():
    data = {"incident": {"claim_made_on": dt.date(2025, 10, 1)}}
    change = wn.Change("incident.claim_made_on", "set", dt.date(2025, 9, 2))
    assert wn.describe((change,), data, CONF) == [{"field": "incident.claim_made_on", "op": "set", "value": "2025-09-02",
                                                   "from": "2025-10-01", "to": "2025-09-02", "supplied": None}]


# ------------------------------------------------------------------ cut: covered, paid less than claimed
def test_a_coverage_paid_in_full_has_no_why_not():
    d = adjudicate(FK)
    paid_in_full = {c: e["payable"] for c, e in d["coverages"].items() if e["payable"] > 0}
    assert paid_in_full == {"liability": 1000000, "incident_response": 500000, "leak_response": 200000}
    assert {c: sum(ln["claimed"] for ln in d["lines"] if ln["coverage"] == c) for c in paid_in_full} == paid_in_full
    assert not any("why_not" in e for e in d["coverages"].values())


def test_what_a_coverage_claimed_is_the_sum_of_its_lines_whichever_comes_last():
    # 1,500,000 + 600,000 of public notice costs on plan A: 1,000,000 paid, less than the 2,100,000 claimed
    # (more than the last line's 600,000)
    d = adjudicate(merge(BASES["nagano-privacy-2016"], {"policy": {"plan": "A"}, "losses": [
        {"category": "public_notice", "amount": 1500000}, {"category": "public_notice", "amount": 600000}]}))
    bp = d["coverages"]["brand_protect"]
    assert bp["payable"] == 1000000
    assert bp["why_not"] == {"decided_by": [
        {"step": "coinsurance", "clause": "004 §5 注④; §6", "cut": 150000},
        {"step": "deductible", "clause": "004 §5 注④; §6", "cut": 100000},
        {"step": "per_claim_limit", "clause": "004 §5 ご加入コース一覧 (1事故)", "cut": 250000},
        {"step": "coinsurance", "clause": "004 §5 注④; §6", "cut": 60000},
        {"step": "per_claim_limit", "clause": "004 §5 ご加入コース一覧 (1事故)", "cut": 540000}],
        "claimant_can_supply": [], "facts_would_have_to_be": [], "policy_limits": True}
    assert sum(c["cut"] for c in bp["why_not"]["decided_by"]) == 2100000 - 1000000


# ------------------------------------------------------------------ which suggestions are kept
def test_a_suggestion_paying_one_yen_is_kept():
    d = adjudicate(merge(FK, {"incident": {"circumstances": ["war"]}, "losses": [{"category": "damages", "amount": 1}]}))
    wn_entry = d["coverages"]["liability"]["why_not"]
    assert wn_entry["facts_would_have_to_be"] == [{"changes": [
        {"field": "incident.circumstances", "op": "remove", "value": "war", "from": ["war"], "to": [], "supplied": None}],
        "pays": 1}]
    assert wn_entry["claimant_can_supply"] == [] and wn_entry["search"] == {"evaluated": 83, "complete": True}


def test_at_most_max_suggestions_of_one_size_are_kept():
    # two exclusions: four pairs lift both, three are kept (rules/why_not.yaml max_suggestions)
    d = adjudicate(merge(FK, {"incident": {"acts": {"intentional": "named_insured", "crime": "named_insured"}}}))
    kept = d["coverages"]["liability"]["why_not"]["facts_would_have_to_be"]
    assert CONF["search"]["max_suggestions"] == 3
    assert [[(c["field"], c["value"]) for c in s["changes"]] for s in kept] == [
        [("incident.acts.intentional", "none"), ("incident.acts.crime", "none")],
        [("incident.acts.intentional", "none"), ("incident.acts.crime", "employee")],
        [("incident.acts.intentional", "employee"), ("incident.acts.crime", "none")]]
    assert [s["pays"] for s in kept] == [1000000] * 3


# ------------------------------------------------------------------ the domain: dates and paths
def date_candidates(patch: dict, programme: str = "fukuoka-cyber-2025", base: str = "fukuoka-cyber-2025") -> list:
    claim = parse_claim(merge(BASES[base], patch), CAT)
    data = claim.model_dump(mode="python", exclude_none=True)
    return [c.value for c in wn.candidates(claim, data, CAT[programme], ["incident.claim_made_on"])]


def test_the_dates_offered_are_the_discovery_day_inside_the_cover_then_its_start_and_end():
    d = dt.date
    # discovered before the period: only the period's start and end
    assert date_candidates({"incident": {"discovered_on": "2025-05-01", "occurred_on": "2025-05-01"}}) == \
        [d(2025, 5, 5), d(2026, 5, 5)]
    # discovered on the period's last day: that day (inside, the end counts), then the start
    assert date_candidates({"incident": {"discovered_on": "2026-05-05", "occurred_on": "2026-05-01",
                                         "claim_made_on": "2026-05-06",
                                         "evidence_dates": {"public_announcement": "2026-05-05"}}}) == \
        [d(2026, 5, 5), d(2025, 5, 5)]
    # a mid-term enrollee's cover starts later than the period (programme.cover_start of its enrolment)
    start = CAT["fukuoka-cyber-2025"].cover_start(d(2025, 7, 1))
    assert start == d(2025, 8, 5)
    assert date_candidates({"policy": {"enrolled_on": "2025-07-01"}, "incident": {"occurred_on": "2025-09-01"}}) == \
        [d(2025, 9, 2), start, d(2026, 5, 5)]
    # an open-ended scheme (the JMA support, from 2022-06-01): no end date (and no None for it)
    assert CAT["jma-support"].period_end is None
    assert date_candidates({"incident": {"claim_made_on": "2024-03-01"}}, "jma-support", "jma-support") == \
        [d(2024, 2, 1), d(2022, 6, 1)]


def test_claim_paths_are_the_plan_for_a_plan_limited_rule_and_the_claim_fields_never_the_line_ones():
    fk = CAT["fukuoka-cyber-2025"]
    assert BOOK.compiled[fk.id].paths["FK-MAP-INVESTIGATION-SUSPECTED"] == ("incident.attack.status", "line.category")
    assert wn.claim_paths(BOOK, fk, ["FK-MAP-INVESTIGATION-SUSPECTED"]) == ["policy.plan", "incident.attack.status"]
    assert wn.claim_paths(BOOK, fk, ["FK-TRIG-LEAK-LIABILITY", "FK-MAP-INCIDENT-RESPONSE"]) == ["policy.plan", "incident.leak.status"]
    assert not BOOK.rules_by_id["FK-EXC-COMMON-11-WAR"].plans   # any plan: no plan change is tried
    assert wn.claim_paths(BOOK, fk, ["FK-EXC-COMMON-11-WAR"]) == ["incident.circumstances"]
