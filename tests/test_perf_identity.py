"""Issue 16: the fast path gives the same decision bytes as the reference path on the benchmark corpus.

The reference path is kept in the code (decide(..., reference=True)): a fresh engine state per claim
and every decision checked against the output contract (Decision). The fast path keeps one engine
state per ruleset and retracts each claim's facts, and skips the output check, so this test is also
where every decision of the corpus is validated.
"""
import json
import sys

import pytest

from adjudicator.contract.decision import Decision
from adjudicator.decide import decide, to_json
from adjudicator.engine.rulebook import load_rulebook
from adjudicator.policy.catalogue import load_catalogue
from adjudicator.policy.claims import parse_claim
from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus import make_corpus  # noqa: E402

N = 3000
# why_not and unclaimed_benefits (issue 20) re-adjudicate a refused claim up to hundreds of times: the
# whole corpus runs the engine path (explain=False), a slice of it the full decision
EXPLAINED = 60


@pytest.fixture(scope="module")
def corpus():
    cat = load_catalogue()
    return [parse_claim(c, cat) for c in make_corpus(N, seed=16)]


def test_the_corpus_is_deterministic_and_varied():
    a, b = make_corpus(300, seed=3), make_corpus(300, seed=3)
    assert a == b and make_corpus(300, seed=4) != a
    assert {c["programme"] for c in a} == {"fukuoka-cyber-2025", "nagano-privacy-2016", "jma-support"}
    numbers = [c["policy"]["policy_number"] for c in a]
    assert len(set(numbers)) < len(numbers) / 2  # several claims per policy number
    assert max(len(c["losses"]) for c in make_corpus(2000, seed=3)) >= 30


@pytest.mark.parametrize("explain,size", [(False, N), (True, EXPLAINED)])
def test_fast_path_is_byte_identical_to_the_reference_path(corpus, explain, size):
    book, cat = load_rulebook(), load_catalogue()
    claims = corpus[:size]
    # one live engine state through the whole corpus
    fast = [to_json(decide(c, book, cat, explain=explain)) for c in claims]
    ref = [to_json(decide(c, book, cat, reference=True, explain=explain)) for c in claims]
    diffs = [c.claim_id for c, f, r in zip(claims, fast, ref) if f != r]
    assert diffs == []
    # and interleaved with reference claims (which delete the state), the fast path still agrees
    mixed = [to_json(decide(c, book, cat, reference=(i % 7 == 0), explain=explain)) for i, c in enumerate(claims)]
    assert mixed == ref
    if explain:  # the slice reaches the issue-20 members
        assert any(json.loads(f)["unclaimed_benefits"] for f in fast)
        assert any("why_not" in v for f in fast for v in json.loads(f)["coverages"].values())


def test_every_corpus_decision_meets_the_output_contract(corpus):
    book, cat = load_rulebook(), load_catalogue()
    seen = {"needs_information": 0, "excluded": 0, "covered": 0}
    for n, c in enumerate(corpus):
        d = decide(c, book, cat, explain=n < EXPLAINED)
        Decision.model_validate(d)
        seen["needs_information"] += bool(d["needs_information"])
        statuses = {v["status"] for v in d["coverages"].values()}
        seen["excluded"] += "excluded" in statuses
        seen["covered"] += "covered" in statuses
    assert all(v > N // 50 for v in seen.values()), seen  # the corpus exercises each kind of answer


def test_the_why_not_searchs_status_runs_agree_with_full_runs(corpus):
    """engine/run.py StatusRuns (what the search re-runs: a claim fact seen before is not run again, the
    line facts are run apart, coverage.statuses instead of resolve) gives the statuses, the rules behind
    each effect and the line mapping a full run gives, for each claim and the changed claims the search
    tries on it."""
    from adjudicator.engine import why_not
    from adjudicator.engine.run import StatusRuns, run_rules

    def shape(outcome):
        return ({c: (s.status, {k: sorted(r["rule"] for r in v) for k, v in s.effects.items()})
                 for c, s in outcome.coverages.items()}, [ln.coverage for ln in outcome.lines])

    book, cat = load_rulebook(), load_catalogue()
    compared = 0
    for claim in corpus[:120]:
        programme = cat[claim.programme]
        runs = StatusRuns(book, programme)
        data = claim.model_dump(mode="python", exclude_none=True)
        paths = why_not.claim_paths(book, programme, [r.id for r in book.for_programme(programme.id)])
        changes = why_not.candidates(claim, data, programme, paths)[:12]
        for combo in [()] + [(c,) for c in changes] + [(changes[0], c) for c in changes[1:4] if c.field != changes[0].field]:
            try:
                changed = parse_claim(why_not.apply(data, combo), cat)
            except Exception:
                continue
            for _ in range(2):  # the second time from what it has seen
                assert shape(runs(changed)) == shape(run_rules(changed, book, programme, reference=True))
            compared += 1
    assert compared > 1000
    assert claim.model_dump(mode="python", exclude_none=True) == data  # apply() left the claim's data as it was
