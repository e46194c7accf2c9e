"""Issue 3: every rule has an example that makes it fire and one where it stays silent.

The examples are data (each rule's `tests` in rules/rulebook/, merged into rules/test_bases.yaml);
companion rules generated from `requires` use their parent's example minus the required fact.
"""
import pytest

from adjudicator.engine.check import check_rulebook
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.engine.examples import examples_for, fired_rules, load_bases

BOOK = load_rulebook()
BASES = load_bases()
BY_ID = BOOK.rules_by_id
CASES = [(r.id, prog) for r in BOOK.rules for prog in r.programmes]


@pytest.mark.parametrize("rule_id,programme", CASES, ids=[c[0] for c in CASES])
def test_rule_fires_on_its_example_and_not_on_its_counter_example(rule_id, programme):
    rule = BY_ID[rule_id]
    ex = examples_for(rule, programme, BASES, BY_ID)
    assert rule_id in fired_rules(ex["fires"]), f"{rule_id} did not fire"
    assert rule_id not in fired_rules(ex["silent"]), f"{rule_id} fired on its silent example"


def test_rulebook_check_passes():
    assert check_rulebook() == []


def test_every_rule_has_clause_and_both_texts():
    for r in BOOK.rules:
        assert r.clause.split()[0] in ("000", "004"), r.id
        assert r.title.ja and r.title.en and r.text.ja and r.text.en, r.id


def test_every_coverage_can_be_covered_by_some_rule():
    from adjudicator.policy.catalogue import load_catalogue
    cat = load_catalogue()
    for pid, prog in cat.programmes.items():
        covered = {c for r in BOOK.for_programme(pid) if r.effect.kind == "cover"
                   for name in r.effect.coverages for c in prog.group(name)}
        assert covered == set(prog.coverage_ids), pid
