"""One claim through the rule engine: flat facts -> durable_rules -> coverage statuses and line mapping."""
from __future__ import annotations

import orjson

from ..contract.claim import Claim
from ..policy.catalogue import Programme
from . import coverage, facts, rete
from .rulebook import Rulebook


def run_rules(claim: Claim, book: Rulebook, programme: Programme, reference: bool = False) -> coverage.RuleOutcome:
    """reference=True: a fresh engine state for this claim (the reference the fast path is tested against)."""
    compiled = book.compiled[programme.id]
    fs = facts.claim_facts(claim, programme, compiled.fields, compiled.line_claim_keys)
    firings = rete.ruleset_for(compiled.definition).run(fs, fresh_state=reference)
    if compiled.claim_readers:
        for f in firings:  # what a join would have matched: the claim fact beside the line
            if f.rule in compiled.claim_readers:
                f.facts["c"] = fs[0]
    return coverage.resolve(book, programme, firings, len(claim.losses))


class StatusRuns:
    """Re-runs of one claim's rules under changed claim facts (the why-not search), resolved to statuses
    only (coverage.statuses). The search changes claim fields, never the loss lines, so:
    - the claim fact decides the outcome: each distinct claim fact is run once;
    - no rule joins two facts (rete: Ruleset.joins), so what fires on a fact depends on that fact alone:
      the claim fact is run alone, and the line facts (the same lines, with the claim properties line
      rules read copied in) once per distinct copied part. A ruleset with joins runs all facts together.
    reference=True runs each claim through run_rules in a fresh state (what the tests compare against)."""

    def __init__(self, book: Rulebook, programme: Programme, reference: bool = False):
        self.book, self.programme, self.reference = book, programme, reference
        self._outcomes: dict[bytes, coverage.RuleOutcome] = {}
        self._lines: dict[bytes, list[rete.Firing]] = {}

    def __call__(self, claim: Claim) -> coverage.RuleOutcome:
        if self.reference:
            return run_rules(claim, self.book, self.programme, reference=True)
        compiled = self.book.compiled[self.programme.id]
        ruleset = rete.ruleset_for(compiled.definition)
        head = facts.claim_fact(claim, self.programme, compiled.fields)
        key = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
        outcome = self._outcomes.get(key)
        if outcome is not None:
            return outcome
        if ruleset.joins:
            firings = ruleset.run(facts.claim_facts(claim, self.programme, compiled.fields, compiled.line_claim_keys))
        else:
            part = facts.claim_part(head, compiled.line_claim_keys) if compiled.line_claim_keys else {}
            line_key = orjson.dumps([head["plan_kind"], part], option=orjson.OPT_SORT_KEYS)
            on_lines = self._lines.get(line_key)
            if on_lines is None:
                lines = [facts.line_fact(i, ln, head["plan_kind"]) for i, ln in enumerate(claim.losses)]
                for ln in lines:
                    ln.update(part)
                on_lines = self._lines[line_key] = ruleset.run(lines) if lines else []
            firings = ruleset.run([head]) + on_lines
        outcome = self._outcomes[key] = coverage.statuses(self.book, self.programme, firings, len(claim.losses))
        return outcome
