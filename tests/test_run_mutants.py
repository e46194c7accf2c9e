"""Pins found by mutation testing (mutmut) of engine/run.py (StatusRuns): what its two caches are keyed on and
that a line run, once made, is reused, not made again. Real claims on the real Fukuoka rulebook."""
from __future__ import annotations

from adjudicator.engine.examples import load_bases, merge
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.run import StatusRuns
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim

BOOK, CAT = load_rulebook(), load_catalogue()
FK = CAT["fukuoka-cyber-2025"]
FK_BASE = load_bases()["fukuoka-cyber-2025"]


def fk(patch: dict):
    return parse_claim(merge(FK_BASE, patch), CAT)


def test_claims_differing_only_in_facts_no_fukuoka_rule_reads_are_one_run():
    # closure days and JMA membership are read by the JMA rules only: not part of a Fukuoka claim fact
    fields = BOOK.compiled[FK.id].fields
    assert "incident.closure_days" not in fields and "policy.jma_member" not in fields
    runs = StatusRuns(BOOK, FK)
    first = runs(fk({"incident": {"closure_days": 1}}))
    assert runs(fk({"incident": {"closure_days": 9}, "policy": {"jma_member": True}})) is first
    assert len(runs._outcomes) == 1 and len(runs._lines) == 1


def test_a_line_run_is_made_once_per_claim_part_and_then_reused():
    runs = StatusRuns(BOOK, FK)
    runs(fk({}))
    (key, line_firings), = runs._lines.items()
    assert sorted((f.facts["l"]["line__index"], f.rule) for f in line_firings) == [
        (0, "FK-MAP-LIABILITY"), (1, "FK-MAP-INVESTIGATION-CONFIRMED"), (2, "FK-MAP-LEAK-RESPONSE")]
    # another claim fact (an exclusion no line rule reads), the same claim part of the lines: the same run
    out = runs(fk({"incident": {"acts": {"intentional": "named_insured"}}}))
    assert len(runs._outcomes) == 2 and list(runs._lines) == [key]
    assert runs._lines[key] is line_firings
    assert [ln.coverage for ln in out.lines] == ["liability", "incident_response", "leak_response"]
    assert {c: s.status for c, s in out.coverages.items()} == {c: "excluded" for c in FK.coverage_ids}


def test_a_claim_fact_is_answered_by_for_head_only_after_a_first_claim_and_never_in_the_reference_mode():
    import pytest
    runs = StatusRuns(BOOK, FK)
    with pytest.raises(AssertionError):   # no first claim: no loss lines to answer with
        runs.for_head({"id": "claim"})
    first = runs(fk({}))
    assert runs.for_head(dict(runs.base_head)) is first   # the first claim's own fact: its outcome
    reference = StatusRuns(BOOK, FK, reference=True)
    reference(fk({}))
    with pytest.raises(AssertionError):   # the reference mode runs every claim as itself
        reference.for_head(dict(runs.base_head))
