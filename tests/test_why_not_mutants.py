"""Pins found by mutation testing (mutmut) of engine/why_not.py: the search (its sizes, bounds, order and
pairs), the claim changes (apply, candidates), the shape gate shortcut, what the claimant supplies, and
what counts as an improvement. Real claims, the real rulebook and catalogue, the real claim-file gate."""
from __future__ import annotations

import copy
import datetime as dt

import pytest

from adjudicator.contract import limits as _limits
from adjudicator.contract.load import check_shape
from adjudicator.engine import coverage
from adjudicator.engine import why_not as wn
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rete import Firing
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BOOK, CAT = load_rulebook(), load_catalogue()
FK_BASE = load_bases()["fukuoka-cyber-2025"]
FK = CAT["fukuoka-cyber-2025"]
CONF = wn.settings(BOOK)


def validate(data: dict):
    return parse_claim(data, CAT)


def fk(patch: dict | None = None):
    return validate(merge(FK_BASE, patch or {}))


def target(coverage_id: str, paths: list[str]) -> wn.Target:
    return wn.Target(f"coverage:{coverage_id}", coverage_id, None, paths)


def conf_with(**search) -> dict:
    out = copy.deepcopy(CONF)
    out["search"] = dict(CONF["search"], **search)
    return out


def plain(found: dict) -> dict:
    return {k: [[(c.field, c.op, c.value) for c in combo] for combo in v] for k, v in found.items()}


def search(claim, targets, conf=CONF, **kw):
    found, stats = wn.search(claim, BOOK, FK, targets, conf, validate, **kw)
    return plain(found), stats


INTENT, CRIME = "incident.acts.intentional", "incident.acts.crime"
TWO_EXCLUSIONS = {"incident": {"acts": {"intentional": "named_insured", "crime": "named_insured"}}}


# ------------------------------------------------------------------------------------ search
def test_one_change_that_covers_is_found_and_no_pair_is_tried():
    found, stats = search(fk(), [target("cyber_attack_response", ["incident.attack.status", "incident.discovered_by"])])
    assert found == {"coverage:cyber_attack_response": [[("incident.attack.status", "set", "suspected")],
                                                         [("incident.attack.status", "set", "ruled_out")]]}
    assert stats == {"evaluated": 9, "complete": True}   # 2 + 7 singles; a pair is tried only without any single


def test_two_exclusions_are_lifted_by_pairs_of_an_improving_change_and_a_change_of_another_field():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])])
    assert found == {"coverage:liability": [
        [(INTENT, "set", "none"), (CRIME, "set", "none")], [(INTENT, "set", "none"), (CRIME, "set", "employee")],
        [(INTENT, "set", "employee"), (CRIME, "set", "none")], [(INTENT, "set", "employee"), (CRIME, "set", "employee")]]}
    assert stats == {"evaluated": 8, "complete": True}   # 4 singles (none covers, each lifts one exclusion), 4 pairs


def test_the_reference_mode_finds_the_same():
    targets = [target("liability", [INTENT, CRIME])]
    assert search(fk(TWO_EXCLUSIONS), targets, reference=True) == search(fk(TWO_EXCLUSIONS), targets)


def test_two_targets_share_the_runs():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME]), target("incident_response", [CRIME])])
    pairs = [[(INTENT, "set", "none"), (CRIME, "set", "none")], [(INTENT, "set", "none"), (CRIME, "set", "employee")],
             [(INTENT, "set", "employee"), (CRIME, "set", "none")], [(INTENT, "set", "employee"), (CRIME, "set", "employee")]]
    assert found == {"coverage:liability": pairs, "coverage:incident_response": pairs}
    assert stats == {"evaluated": 8, "complete": True}


def test_the_search_stops_at_max_evaluations_and_says_it_is_incomplete():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_evaluations=5))
    assert found == {"coverage:liability": [[(INTENT, "set", "none"), (CRIME, "set", "none")]]}
    assert stats == {"evaluated": 5, "complete": False}


def test_max_work_bounds_the_runs_by_facts_per_claim():
    # 1 claim fact + 3 loss lines = 4 facts a run: max_work 20 allows 5 runs
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_work=20))
    assert stats == {"evaluated": 5, "complete": False}
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_work=3))
    assert stats == {"evaluated": 1, "complete": False}   # at least one run


def test_max_size_one_tries_no_pairs():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_size=1))
    assert found == {"coverage:liability": []}
    assert stats == {"evaluated": 4, "complete": True}


def test_max_suggestions_keeps_twice_as_many_found_changes():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_suggestions=1))
    assert found == {"coverage:liability": [[(INTENT, "set", "none"), (CRIME, "set", "none")],
                                            [(INTENT, "set", "none"), (CRIME, "set", "employee")]]}
    assert stats == {"evaluated": 6, "complete": True}


NO_REPORTS = {"incident": {"reports": [], "breach_of_law_recognised": False}, "losses": [{"category": "regulatory_response", "amount": 100}]}


def test_supply_only_tries_only_what_the_claimant_can_supply():
    found, stats = search(fk(NO_REPORTS), [target("regulatory_response", ["incident.reports", "incident.evidence"])],
                          supply_only=True)
    assert found == {"coverage:regulatory_response": [[("incident.reports", "add", "mhlw")],
                                                      [("incident.reports", "add", "ppc")],
                                                      [("incident.evidence", "add", "authority_report")]]}
    # 4 report adds and 3 evidence adds (removing public_announcement is not supplied)
    assert stats == {"evaluated": 7, "complete": True}


def test_claimant_supplied_changes_are_tried_before_changes_to_the_facts():
    # attack.status set to confirmed is a causation finding the claimant supplies, listed after the facts
    # changes of discovered_by in the paths; with room for one run it is the one tried
    claim = fk({"incident": {"attack": {"status": "suspected"}, "discovered_by": "self"}})
    paths = ["incident.discovered_by", "incident.attack.status"]
    data = claim.model_dump(mode="python", exclude_none=True)
    kinds = [wn.supplied_kind(s, data, CONF) for s in wn.candidates(claim, data, FK, paths)]
    assert kinds == [None] * 7 + ["causation", None]
    found, stats = search(claim, [target("incident_response", paths)], conf_with(max_evaluations=1))
    assert found == {"coverage:incident_response": [[("incident.attack.status", "set", "confirmed")]]}
    assert stats == {"evaluated": 1, "complete": False}


def test_a_target_is_only_run_on_changes_to_its_own_fields():
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT]), target("incident_response", ["incident.cause"])],
                          conf_with(max_size=1))
    assert found == {"coverage:liability": [], "coverage:incident_response": []}
    assert stats == {"evaluated": 10, "complete": True}   # 2 intent and 8 cause values, each run once


def test_a_refused_change_is_no_suggestion():
    # a plan of the other programme kind is valid; a date outside the contract's domain is never offered
    found, _ = search(fk(), [target("cyber_attack_response", ["policy.plan"])], conf_with(max_size=1))
    assert found == {"coverage:cyber_attack_response": []}


# ------------------------------------------------------------------------------------ apply
DATA = {"claim_id": "X", "policy": {"plan": "S3"},
        "incident": {"attack": {"status": "confirmed", "kind": "ransomware"}, "reports": ["ppc"], "cause": "cyber_attack"}}


def test_apply_sets_a_nested_field_and_copies_only_the_dicts_on_its_path():
    before = copy.deepcopy(DATA)
    out = wn.apply(DATA, (wn.Change("incident.attack.status", "set", "suspected"),))
    assert out == merge(before, {"incident": {"attack": {"status": "suspected"}}})
    assert DATA == before                                   # the claim's data is left as it was
    assert out["policy"] is DATA["policy"]                  # not on the path: shared
    assert out["incident"]["reports"] is DATA["incident"]["reports"]
    assert out["incident"] is not DATA["incident"] and out["incident"]["attack"] is not DATA["incident"]["attack"]


def test_apply_with_no_change_is_an_equal_copy():
    out = wn.apply(DATA, ())
    assert out == DATA and out is not DATA


def test_apply_creates_the_missing_parents_of_a_field():
    before = copy.deepcopy(DATA)
    out = wn.apply(DATA, (wn.Change("incident.evidence_dates.insurer_notified", "set", dt.date(2025, 9, 5)),
                          wn.Change("policy.jma_member", "set", True)))
    assert out["incident"]["evidence_dates"] == {"insurer_notified": dt.date(2025, 9, 5)}
    assert out["policy"] == {"plan": "S3", "jma_member": True}
    assert DATA == before


def test_apply_adds_and_removes_list_members_without_editing_the_list():
    before = copy.deepcopy(DATA)
    added = wn.apply(DATA, (wn.Change("incident.reports", "add", "mhlw"),))
    assert added["incident"]["reports"] == ["ppc", "mhlw"]
    removed = wn.apply(DATA, (wn.Change("incident.reports", "remove", "ppc"),))
    assert removed["incident"]["reports"] == []
    fresh = wn.apply(DATA, (wn.Change("incident.evidence", "add", "insurer_notified"),))
    assert fresh["incident"]["evidence"] == ["insurer_notified"]
    assert DATA == before


def test_apply_makes_two_changes_under_one_parent():
    before = copy.deepcopy(DATA)
    out = wn.apply(DATA, (wn.Change("incident.attack.status", "set", "ruled_out"), wn.Change("incident.attack.kind", "set", "malware"),
                          wn.Change("incident.reports", "add", "jma")))
    assert out["incident"]["attack"] == {"status": "ruled_out", "kind": "malware"}
    assert out["incident"]["reports"] == ["ppc", "jma"]
    assert DATA == before


def test_own_path_stops_at_a_value_that_is_not_a_mapping():
    d = {"incident": {"reports": ["ppc"]}}
    inner = d["incident"]
    wn._own_path(d, "incident.reports.x")
    assert d["incident"] is not inner and d["incident"] == inner    # the mapping on the path is copied
    assert d["incident"]["reports"] is inner["reports"]             # the list is not: the walk stops there
    d2 = {"policy": "S3"}
    wn._own_path(d2, "policy.plan")
    assert d2 == {"policy": "S3"}


# ------------------------------------------------------------------------------------ the shape gate shortcut
def test_shape_room_is_the_gates_spare_budget_or_none_for_a_refused_claim():
    data = fk().model_dump(mode="python", exclude_none=True)
    assert wn._shape_room(data) == check_shape(data) == _limits.DEFAULT.max_nodes - 43
    deep: dict = {}
    node = deep
    for _ in range(_limits.DEFAULT.max_depth + 1):
        node["x"] = {}
        node = node["x"]
    assert wn._shape_room(deep) is None


def test_within_shape_counts_one_value_per_part_of_each_path_plus_the_value():
    one = (wn.Change("a.b", "set", "v"),)                                   # 3 new values at most
    assert wn._within_shape(one, 3) and not wn._within_shape(one, 2)
    two = (wn.Change("incident.attack.status", "set", "x"), wn.Change("policy.plan", "set", "S1"))   # 4 + 3
    assert wn._within_shape(two, 7) and not wn._within_shape(two, 6)
    assert wn._within_shape((), 0)
    assert not wn._within_shape((), None) and not wn._within_shape(one, None)


def test_within_shape_refuses_a_path_too_deep_a_key_too_long_or_a_string_too_long():
    lim = _limits.DEFAULT
    big = 10 ** 9
    assert wn._within_shape((wn.Change(".".join(["k"] * (lim.max_depth - 2)), "set", 1),), big)
    assert not wn._within_shape((wn.Change(".".join(["k"] * (lim.max_depth - 1)), "set", 1),), big)
    assert wn._within_shape((wn.Change("a." + "k" * lim.max_key, "set", 1),), big)
    assert not wn._within_shape((wn.Change("a." + "k" * (lim.max_key + 1), "set", 1),), big)
    assert not wn._within_shape((wn.Change("k" * (lim.max_key + 1) + ".a", "set", 1),), big)
    assert wn._within_shape((wn.Change("a.b", "set", "s" * lim.max_string),), big)
    assert not wn._within_shape((wn.Change("a.b", "set", "s" * (lim.max_string + 1)),), big)
    assert wn._within_shape((wn.Change("a.b", "set", True),), big)
    ok, bad = wn.Change("a.b", "set", "v"), wn.Change("a.b", "set", "s" * (lim.max_string + 1))
    assert not wn._within_shape((ok, bad), big) and not wn._within_shape((bad, ok), big)


# ------------------------------------------------------------------------------------ candidates
def test_candidates_are_every_single_change_the_contract_allows_in_path_order():
    claim = fk()
    data = claim.model_dump(mode="python", exclude_none=True)
    got = [(c.field, c.op, c.value) for c in wn.candidates(claim, data, FK, [
        "incident.attack.status", "incident.reports", "incident.attack.state_sponsored", "incident.software_defect_caused",
        "incident.claim_made_on", "incident.nope", "incident.attack.status.x", "incident.leak.personal_records", "policy.plan"])]
    plans = [p for p in FK.plans if p != "S3"]
    assert got == [
        ("incident.attack.status", "set", "suspected"), ("incident.attack.status", "set", "ruled_out"),
        ("incident.reports", "add", "mhlw"), ("incident.reports", "add", "jma"),
        ("incident.reports", "add", "individuals_notified"), ("incident.reports", "remove", "ppc"),
        ("incident.attack.state_sponsored", "set", True),
        ("incident.software_defect_caused", "set", True), ("incident.software_defect_caused", "set", False),
        # the discovery day, the cover start and the period end, each unless it is the value now
        ("incident.claim_made_on", "set", dt.date(2025, 9, 2)), ("incident.claim_made_on", "set", dt.date(2025, 5, 5)),
        ("incident.claim_made_on", "set", dt.date(2026, 5, 5)),
    ] + [("policy.plan", "set", p) for p in plans]
    assert len(plans) == len(FK.plans) - 1 and plans[0] == "S1"


def test_date_candidates_skip_the_date_the_field_has():
    claim = fk({"incident": {"claim_made_on": "2025-09-02"}})
    data = claim.model_dump(mode="python", exclude_none=True)
    assert [c.value for c in wn.candidates(claim, data, FK, ["incident.claim_made_on"])] == \
        [dt.date(2025, 5, 5), dt.date(2026, 5, 5)]


def test_a_list_field_the_claim_lacks_offers_every_member_to_add():
    claim = fk({"incident": {"reports": None}})
    data = claim.model_dump(mode="python", exclude_none=True)
    got = [(c.op, c.value) for c in wn.candidates(claim, data, FK, ["incident.reports"])]
    assert got == [("add", "mhlw"), ("add", "jma"), ("add", "ppc"), ("add", "individuals_notified")]


# ------------------------------------------------------------------------------------ supplied_kind
@pytest.mark.parametrize("change,data,kind", [
    (wn.Change("incident.reports", "add", "ppc"), {}, "report"),
    (wn.Change("incident.reports", "remove", "ppc"), {"incident": {"reports": ["ppc"]}}, None),
    (wn.Change("incident.evidence", "add", "insurer_notified"), {}, "notice"),
    (wn.Change("incident.evidence", "add", "authority_report"), {}, "report"),
    (wn.Change("incident.evidence", "add", "apology_letters"), {}, "apology"),
    (wn.Change("incident.evidence", "add", "media"), {}, None),
    (wn.Change("incident.evidence_dates.insurer_notified", "set", dt.date(2025, 9, 3)), {}, "date"),
    (wn.Change("incident.evidence_dates.insurer_notified", "set", dt.date(2025, 9, 3)),
     {"incident": {"evidence_dates": {"insurer_notified": dt.date(2025, 9, 9)}}}, None),   # a date moved: a fact
    (wn.Change("incident.evidence_datesX", "set", 1), {"incident": {"evidence_datesX": 2}}, None),
    # a causation finding still to come is supplied; one the file already made, reversed, is a fact (round 4)
    (wn.Change("incident.software_defect_caused", "set", False), {"incident": {"software_defect_caused": True}}, None),
    (wn.Change("incident.software_defect_caused", "set", False), {"incident": {}}, "causation"),
    (wn.Change("incident.attack.status", "set", "confirmed"), {"incident": {"attack": {"status": "suspected"}}}, "causation"),
    (wn.Change("incident.attack.status", "set", "confirmed"), {"incident": {"attack": {}}}, "causation"),
    (wn.Change("incident.attack.status", "set", "confirmed"), {"incident": {"attack": {"status": "ruled_out"}}}, None),
    (wn.Change("incident.attack.status", "set", "ruled_out"), {"incident": {"attack": {"status": "suspected"}}}, None),
    (wn.Change("policy.jma_member", "set", True), {"policy": {}}, "information"),     # a fact the file leaves out
    (wn.Change("policy.jma_member", "set", True), {"policy": {"jma_member": False}}, None),
    (wn.Change("incident.circumstances", "add", "x"), {}, None),                      # absent, but not a set
])
def test_supplied_kind_names_what_the_claimant_would_supply(change, data, kind):
    assert wn.supplied_kind(change, data, CONF) == kind


def test_supplied_kind_takes_the_first_matching_entry_and_its_op_defaults_to_any():
    conf = {"claimant_can_supply": [{"field": "a.b", "kind": "first"}, {"field": "a.b", "kind": "second"},
                                    {"field": "a.*", "op": "add", "kind": "star"}],
            "absent_field_kind": "information"}
    assert wn.supplied_kind(wn.Change("a.b", "remove", 1), {}, conf) == "first"
    assert wn.supplied_kind(wn.Change("a.c", "add", 1), {}, conf) == "star"
    assert wn.supplied_kind(wn.Change("a.c", "remove", 1), {}, conf) is None
    assert wn.supplied_kind(wn.Change("ab.c", "add", 1), {}, conf) is None           # "a.*" is "a." and more
    assert wn.supplied_kind(wn.Change("a.c", "set", 1), {"a": {"c": 0}}, conf) is None
    assert wn.supplied_kind(wn.Change("a.c", "set", 1), {"a": {}}, conf) == "information"


# ------------------------------------------------------------------------------------ _blocking, _improves, _same
def outcome(rules: list[str], lines: dict[int, str] | None = None, n_lines: int = 2):
    firings = [Firing(r, {"c": {"id": "claim"}}) for r in rules]
    firings += [Firing(r, {"l": {"id": f"line{i}", "line__index": i}}) for i, r in (lines or {}).items()]
    return coverage.statuses(BOOK, FK, firings, n_lines)


EXC1, EXC2, NEED, NOTC, COVER = ("FK-EXC-COMMON-1-INTENT", "FK-EXC-COMMON-2-CRIME", "FK-INVESTIGATION-STATUS-NEEDED",
                                 "FK-PERIOD-DISCOVERED-BEFORE-START", "FK-TRIG-ALL-RISK")
IR = target("incident_response", [])


def test_blocking_is_the_status_and_every_exclusion_refusal_and_need_but_not_the_cover():
    assert wn._blocking(IR, outcome([COVER, EXC1, NOTC, NEED])) == ("excluded", frozenset({EXC1, NOTC, NEED}))
    assert wn._blocking(IR, outcome([COVER])) == ("covered", frozenset())
    assert wn._blocking(IR, outcome([])) == ("not_covered", frozenset())


def test_blocking_of_a_line_is_its_coverages_or_refused_when_no_rule_maps_it():
    line = wn.Target("line:1", None, 1, [])
    assert wn._blocking(line, outcome([EXC1], {0: "FK-MAP-INCIDENT-RESPONSE"})) == ("refused", frozenset())
    assert wn._blocking(line, outcome([EXC1], {1: "FK-MAP-INCIDENT-RESPONSE"})) == ("excluded", frozenset({EXC1}))


def test_an_improvement_is_a_status_moved_or_strictly_fewer_rules_holding_it_back():
    before = wn._blocking(IR, outcome([EXC1, EXC2]))
    assert wn._improves(IR, before, outcome([EXC1]))                 # one exclusion fewer
    assert not wn._improves(IR, before, outcome([EXC1, EXC2]))       # the same
    assert not wn._improves(IR, before, outcome([EXC1, "FK-EXC-COMMON-3-KNOWN-VIOLATION"]))   # another, not fewer
    assert not wn._improves(IR, before, outcome([EXC1, EXC2, "FK-EXC-COMMON-3-KNOWN-VIOLATION"]))
    assert wn._improves(IR, before, outcome([NOTC]))                 # the status moved


def test_met_on_a_line_needs_a_mapping_to_a_reached_coverage():
    line = wn.Target("line:0", None, 0, [])
    assert wn._met(line, outcome([COVER], {0: "FK-MAP-INCIDENT-RESPONSE"}))
    assert not wn._met(line, outcome([COVER], {1: "FK-MAP-INCIDENT-RESPONSE"}))
    assert not wn._met(line, outcome([COVER, NEED], {0: "FK-MAP-INCIDENT-RESPONSE"}))
    waiting = wn.Target("line:0", None, 0, [], reach=("covered", "needs_information"))
    assert wn._met(waiting, outcome([COVER, NEED], {0: "FK-MAP-INCIDENT-RESPONSE"}))
    assert wn._met(IR, outcome([COVER])) and not wn._met(IR, outcome([NEED]))


def test_two_suggestions_differing_only_in_a_date_or_a_plan_are_the_same():
    d1, d2 = wn.Change("incident.claim_made_on", "set", dt.date(2025, 9, 2)), wn.Change("incident.claim_made_on", "set", dt.date(2026, 5, 5))
    p1, p2 = wn.Change("policy.plan", "set", "S1"), wn.Change("policy.plan", "set", "S2")
    r1, r2 = wn.Change("incident.reports", "add", "ppc"), wn.Change("incident.reports", "add", "jma")
    assert wn._same((d1,), (d2,)) and wn._same((p1,), (p2,))
    assert wn._same((d1, r1), (r1, d2))                                # order does not matter
    assert not wn._same((r1,), (r2,))
    assert not wn._same((d1,), (wn.Change("incident.discovered_on", "set", dt.date(2025, 9, 2)),))
    assert not wn._same((r1,), (wn.Change("incident.reports", "remove", "ppc"),))
    assert not wn._same((d1,), (d1, r1))


# ------------------------------------------------------------------ second mutation run (search, supplied_kind)
def test_max_work_not_a_multiple_of_the_facts_per_run_rounds_the_runs_down():
    # 22 // 4 facts a run = 5 runs (not 5.5, which would allow a sixth)
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME])], conf_with(max_work=22))
    assert found == {"coverage:liability": [[(INTENT, "set", "none"), (CRIME, "set", "none")]]}
    assert stats == {"evaluated": 5, "complete": False}


NAMED_INTENT = {"incident": {"acts": {"intentional": "named_insured"}}}


def test_a_pair_lists_its_changes_in_search_order_whichever_improved():
    # the intent change improves (the exclusion goes); the report added is tried first (claimant-supplied):
    # each pair lists the report first
    found, stats = search(fk(merge(NO_REPORTS, NAMED_INTENT)), [target("regulatory_response", [INTENT, "incident.reports"])])
    assert found == {"coverage:regulatory_response": [
        [("incident.reports", "add", "mhlw"), (INTENT, "set", "none")], [("incident.reports", "add", "ppc"), (INTENT, "set", "none")],
        [("incident.reports", "add", "mhlw"), (INTENT, "set", "employee")], [("incident.reports", "add", "ppc"), (INTENT, "set", "employee")]]}
    assert stats == {"evaluated": 14, "complete": True}


def test_pairs_join_only_a_change_that_improved_with_another():
    # discovered_by and attack.status change nothing for liability: they pair with the intent and crime
    # changes, never with each other (2 + 2 + 7 + 2 singles, then 2 x 11 + 2 x 9 pairs)
    found, stats = search(fk(TWO_EXCLUSIONS), [target("liability", [INTENT, CRIME, "incident.discovered_by",
                                                                     "incident.attack.status"])])
    assert len(found["coverage:liability"]) == 4
    assert stats == {"evaluated": 53, "complete": True}


def test_a_target_with_a_single_change_found_tries_no_pair_of_facts():
    # the discovery day moved to the cover start covers; the intent change (status moved) improves, but
    # a pair of facts changes is not tried once a single one is found
    claim = fk({"incident": {"discovered_on": "2025-05-01", "occurred_on": "2025-05-01"}})
    found, stats = search(claim, [target("incident_response", ["incident.discovered_on", INTENT])])
    assert found == {"coverage:incident_response": [[("incident.discovered_on", "set", dt.date(2025, 5, 5))]]}
    assert stats == {"evaluated": 4, "complete": True}


def test_supplied_kind_reads_on_past_an_entry_of_another_op_or_one_for_absent_fields_only():
    conf = {"claimant_can_supply": [{"field": "a.b", "op": "add", "kind": "added"},
                                    {"field": "a.b", "op": "remove", "kind": "removed"},
                                    {"field": "a.*", "op": "set", "only_if_absent": True, "kind": "given"},
                                    {"field": "a.c", "op": "set", "kind": "moved"}],
            "absent_field_kind": "information"}
    assert wn.supplied_kind(wn.Change("a.b", "remove", 1), {"a": {"b": [1]}}, conf) == "removed"
    assert wn.supplied_kind(wn.Change("a.c", "set", 2), {"a": {"c": 1}}, conf) == "moved"
    assert wn.supplied_kind(wn.Change("a.c", "set", 2), {"a": {}}, conf) == "given"


def test_an_entry_whose_from_does_not_match_leaves_the_later_entries_to_decide():
    """`from` skips its own entry only (mutant: break would end the search before the next entry)."""
    conf = {"claimant_can_supply": [
        {"field": "incident.attack.status", "op": "set", "to": "confirmed", "kind": "causation", "from": [None, "suspected"]},
        {"field": "incident.attack.status", "op": "set", "kind": "review"}], "absent_field_kind": "information"}
    change = wn.Change("incident.attack.status", "set", "confirmed")
    assert wn.supplied_kind(change, {"incident": {"attack": {"status": "ruled_out"}}}, conf) == "review"
    assert wn.supplied_kind(change, {"incident": {"attack": {"status": "suspected"}}}, conf) == "causation"
