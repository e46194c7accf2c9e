"""engine/run.py StatusRuns answers a claim rule from the engine's earlier answer on the same values of the
properties it tests (compile.properties_read): what those properties are, when the engine runs and when it
does not, and that the answers agree with full runs in a fresh state."""
from __future__ import annotations

import pytest

from adjudicator.engine import rete
from adjudicator.engine.compile import properties_read
from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.run import StatusRuns, run_rules
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BOOK = load_rulebook()
CAT = load_catalogue()
FK = CAT["fukuoka-cyber-2025"]
BASE = load_bases()["fukuoka-cyber-2025"]


def claim(patch: dict):
    return parse_claim(merge(BASE, patch), CAT)


def expr(rule_id: str) -> dict:
    (_, e), = BOOK.compiled[FK.id].definition[rule_id]["all"][0].items()
    return e


def test_properties_read_are_every_tested_key_and_every_compared_property():
    # a comparison with another property of the same fact ($m) reads both
    assert properties_read(expr("FK-PERIOD-DISCOVERED-BEFORE-START")) == \
        {"t", "cover__start", "incident__discovered_on"}
    # list members are flags of their own: the rule reads the flags it tests, not the whole list
    assert properties_read(expr("FK-LIAB-CLAIM-DATE-NEEDED")) == \
        {"t", "incident__claim_made_on", "losses__categories__corporate_damages", "losses__categories__damages",
         "losses__categories__litigation_costs", "losses__categories__mental_distress"}
    # operators are not properties; $neq / $nex / $ex name the property under them
    assert properties_read({"$and": [{"$neq": {"a": 1}}, {"$nex": {"b": 1}}, {"$or": [{"c": "x"}, {"$ex": {"d": 1}}]},
                                     {"$lte": {"e": {"$m": "f"}}}]}) == {"a", "b", "c", "d", "e", "f"}
    assert properties_read([]) == frozenset()


def test_every_claim_rule_of_every_programme_reads_the_fact_type_and_what_its_paths_name():
    from adjudicator.engine.facts import FIELDS
    for pid, compiled in BOOK.compiled.items():
        for rid, rule in compiled.definition.items():
            if BOOK.rules_by_id[rid].on != "claim":
                continue
            props = properties_read(expr_of(compiled, rid))
            assert "t" in props, rid
            for path in compiled.paths[rid]:
                key = FIELDS[path].key
                assert any(p == key or p.startswith(key + "__") for p in props) or path in BOOK.rules_by_id[rid].requires, (rid, path)


def expr_of(compiled, rid):
    (_, e), = compiled.definition[rid]["all"][0].items()
    return e


class Counting:
    """The real engine, counting the claim-fact runs StatusRuns asks of it (the programme's ruleset, or a
    rule's own)."""

    def __init__(self, monkeypatch):
        self.claim_runs = 0
        original = rete.Ruleset.run

        def run(ruleset, facts, fresh_state=False):
            if facts and facts[0].get("t") == "claim":
                self.claim_runs += 1
            return original(ruleset, facts, fresh_state)
        monkeypatch.setattr(rete.Ruleset, "run", run)


SUSPECTED = {"incident": {"attack": {"status": "suspected"}}}
SELF_FOUND = {"incident": {"discovered_by": "self"}}
INTENT = {"incident": {"acts": {"intentional": "named_insured"}}}
SUSPECTED_INTENT = {"incident": {"attack": {"status": "suspected"}, "acts": {"intentional": "named_insured"}}}
SUSPECTED_SELF = {"incident": {"attack": {"status": "suspected"}, "discovered_by": "self"}}


def shape(outcome):
    return ({c: (s.status, {k: sorted(r["rule"] for r in v) for k, v in s.effects.items()})
             for c, s in outcome.coverages.items()}, [ln.coverage for ln in outcome.lines])


def test_a_pair_of_changes_each_seen_alone_is_answered_without_the_engine(monkeypatch):
    """No rule tests both the attack status and the intentional act: each rule sees values seen before."""
    runs = StatusRuns(BOOK, FK)
    counting = Counting(monkeypatch)
    runs(claim({}))
    assert counting.claim_runs == 1                  # the claim: the whole ruleset
    runs(claim(SUSPECTED))
    after_one = counting.claim_runs
    assert after_one > 1                             # a new value: the rules testing it are asked
    runs(claim(INTENT))
    seen = counting.claim_runs
    assert seen > after_one
    both = runs(claim(SUSPECTED_INTENT))
    assert counting.claim_runs == seen               # no run
    assert shape(both) == shape(run_rules(claim(SUSPECTED_INTENT), BOOK, FK, reference=True))
    assert {s.status for s in both.coverages.values()} == {"excluded"}


def test_a_pair_a_rule_tests_together_runs_the_engine(monkeypatch):
    """FK-CAR-OTHER-CHANNEL tests the attack status and who found it: a combination not seen before."""
    runs = StatusRuns(BOOK, FK)
    counting = Counting(monkeypatch)
    for patch in ({}, SUSPECTED, SELF_FOUND):
        runs(claim(patch))
    seen = counting.claim_runs
    both = runs(claim(SUSPECTED_SELF))
    asked = counting.claim_runs
    assert asked > seen
    runs(claim(SUSPECTED_SELF))
    assert counting.claim_runs == asked              # seen: not run again
    assert shape(both) == shape(run_rules(claim(SUSPECTED_SELF), BOOK, FK, reference=True))
    assert both.coverages["cyber_attack_response"].effects == {"not_cover": [{"rule": "FK-CAR-OTHER-CHANNEL"}]}


def test_a_value_never_seen_runs_the_engine(monkeypatch):
    runs = StatusRuns(BOOK, FK)
    counting = Counting(monkeypatch)
    runs(claim({}))
    runs(claim(SUSPECTED))
    seen = counting.claim_runs
    runs(claim({"incident": {"attack": {"status": "ruled_out"}}}))
    assert counting.claim_runs > seen


def test_a_property_given_then_left_out_is_a_change(monkeypatch):
    """Absence is a value of its own: a claim without the date a rule tests is not the claim with it."""
    with_date = merge(BASE, {"incident": {"claim_made_on": "2025-11-01"}})
    without = {k: v for k, v in with_date.items()}
    without["incident"] = {k: v for k, v in with_date["incident"].items() if k != "claim_made_on"}
    runs = StatusRuns(BOOK, FK)
    first = runs(parse_claim(with_date, CAT))
    second = runs(parse_claim(without, CAT))
    ref = run_rules(parse_claim(without, CAT), BOOK, FK, reference=True)
    assert shape(second) == shape(ref) != shape(first)
    assert runs(parse_claim(with_date, CAT)) is first


@pytest.mark.parametrize("order", [("P3", "SUSPECTED", "BOTH"), ("BOTH", "P3", "SUSPECTED"), ("SUSPECTED", "P3", "BOTH")])
def test_answers_agree_with_full_runs_whatever_the_order_plan_changes_included(order):
    patches = {"P3": {"policy": {"plan": "P3"}}, "SUSPECTED": SUSPECTED,
               "BOTH": {"policy": {"plan": "P3"}, "incident": {"attack": {"status": "suspected"}}}}
    patches["BOTH"]["incident"]["discovered_by"] = "self"
    runs = StatusRuns(BOOK, FK)
    runs(claim({}))
    for name in order:
        c = claim(patches[name])
        assert shape(runs(c)) == shape(run_rules(c, BOOK, FK, reference=True)), name


def test_each_claim_rule_alone_on_the_properties_it_tests_answers_as_the_whole_ruleset():
    """The other way StatusRuns drives the core (a few rules seeing new values): a ruleset of one rule (with
    the adapter's catch-all) on a fact of the properties that rule tests. Same answer as the programme's
    ruleset on the whole claim fact, for every claim rule, on corpus claims of every programme."""
    import sys
    from support import ROOT
    from adjudicator.engine import facts
    from adjudicator.engine.run import _claim_reads
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import make_corpus
    asked = fired = 0
    for raw in make_corpus(60, seed=19):
        c = parse_claim(raw, CAT)
        programme = CAT[c.programme]
        compiled = BOOK.compiled[programme.id]
        reads = _claim_reads(BOOK, compiled)
        head = facts.claim_fact(c, programme, compiled.fields)
        whole = {f.rule for f in rete.ruleset_for(compiled.definition).run([head])}
        for rule, props in reads.keys.items():
            fact = dict({p: head[p] for p in props if p in head}, id="claim")
            alone = rete.ruleset_for(reads.alone[rule]).run([fact])
            assert bool(alone) == (rule in whole), (c.claim_id, rule)
            assert [f.rule for f in alone] in ([], [rule])
            asked += 1
            fired += bool(alone)
        assert rete.ruleset_for(compiled.definition).live_facts() == rete.ruleset_for(reads.alone[rule]).live_facts()
    assert asked > 2500 and fired > 300


def test_claim_reads_are_built_from_the_compiled_claim_rules_alone():
    import dataclasses
    from adjudicator.engine.run import _ClaimReads, _claim_reads
    for pid, compiled in BOOK.compiled.items():
        reads = _ClaimReads(BOOK, compiled)
        claim_rules = [r for r in compiled.definition if BOOK.rules_by_id[r].on == "claim"]
        assert list(reads.keys) == claim_rules and len(claim_rules) > 10
        for rid in claim_rules:
            assert reads.keys[rid] == tuple(sorted(properties_read(expr_of(compiled, rid))))
            assert list(reads.alone[rid]) == [rid] and reads.alone[rid][rid] is compiled.definition[rid]
        assert {p: sorted(v) for p, v in reads.by_property.items()} == \
            {p: sorted(r for r in claim_rules if p in reads.keys[r]) for p in {p for r in claim_rules for p in reads.keys[r]}}
        # what the line facts carry: the copied claim keys, their list members' flags, and the plan kind
        assert reads.copied_to_lines("plan_kind")
        for key in compiled.line_claim_keys:
            assert reads.copied_to_lines(key) and reads.copied_to_lines(key + "__some_member")
        assert not reads.copied_to_lines("incident__no_such") and not reads.copied_to_lines("id")
        assert _claim_reads(BOOK, compiled) is _claim_reads(BOOK, compiled)
        copy = dataclasses.replace(compiled)
        other = _claim_reads(BOOK, copy)
        assert other is not _claim_reads(BOOK, compiled) and other.keys == reads.keys


def test_changed_properties_are_the_values_and_presences_that_differ():
    from adjudicator.engine.run import changed_properties
    base = {"id": "claim", "a": 1, "b": "x", "c": True, "gone": 3}
    head = {"id": "claim", "a": 2, "b": "x", "c": True, "new": False}
    assert changed_properties(head, base) == {"a", "gone", "new"}
    assert changed_properties(base, base) == set()
    assert changed_properties({"id": "claim", "z": 0}, {"id": "claim"}) == {"z"}   # 0 given is not absent
    assert changed_properties({"id": "claim"}, {"id": "claim", "z": False}) == {"z"}
