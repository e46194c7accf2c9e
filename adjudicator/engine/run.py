"""One claim through the rule engine: flat facts -> durable_rules -> coverage statuses and line mapping."""
from __future__ import annotations

import orjson

from ..contract.claim import Claim
from ..policy.catalogue import Programme
from . import compile, coverage, facts, rete
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
      rules read copied in) once per distinct copied part. A ruleset with joins runs all facts together;
    - a rule on one fact fires or not by the values of the properties its conditions test
      (compile.properties_read) and by nothing else, so each claim rule's answer is kept per distinct
      value of those properties: a claim fact whose every claim rule reads values seen before (most
      pairs of changes: each part was seen in a single change) is answered from what the engine said
      then, without running it; any new value runs the engine on the whole claim fact.
    reference=True runs each claim through run_rules in a fresh state (what the tests compare against)."""

    def __init__(self, book: Rulebook, programme: Programme, reference: bool = False):
        self.book, self.programme, self.reference = book, programme, reference
        self._outcomes: dict[bytes, coverage.RuleOutcome] = {}
        self._lines: dict[bytes, list[rete.Firing]] = {}
        self._base: dict | None = None                      # the first claim fact run (the unchanged claim)
        self._base_fired: frozenset = frozenset()
        self._base_lines: tuple = (b"", [])                  # its line key and the lines' firings
        self._answers: dict[str, dict[tuple, bool]] = {}      # claim rule -> its tested values -> fired
        self._by_fired: dict[tuple, coverage.RuleOutcome] = {}
        self._claim: Claim | None = None                     # the first claim: its loss lines are every claim's
        self.last_head: dict | None = None                   # the claim fact of the last claim given

    def __call__(self, claim: Claim) -> coverage.RuleOutcome:
        if self.reference:
            return run_rules(claim, self.book, self.programme, reference=True)
        compiled = self.book.compiled[self.programme.id]
        head = self.last_head = facts.claim_fact(claim, self.programme, compiled.fields)
        if self._claim is None:
            self._claim = claim
        return self._for_head(head, claim, compiled)

    @property
    def takes_facts(self) -> bool:
        """for_head() can answer: not the reference mode, and no rule joins two facts."""
        return not self.reference and not rete.ruleset_for(self.book.compiled[self.programme.id].definition).joins

    @property
    def base_head(self) -> dict | None:
        """The claim fact of the first claim run (the unchanged claim)."""
        return self._base

    def for_head(self, head: dict) -> coverage.RuleOutcome:
        """The outcome for a claim fact built by the caller (why_not: a pair of changes, from the facts each
        change gave alone), with the first claim's loss lines. Only where takes_facts."""
        assert self.takes_facts and self._claim is not None
        return self._for_head(head, self._claim, self.book.compiled[self.programme.id])

    def _for_head(self, head: dict, claim: Claim, compiled) -> coverage.RuleOutcome:
        ruleset = rete.ruleset_for(compiled.definition)
        key = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
        outcome = self._outcomes.get(key)
        if outcome is not None:
            return outcome
        if ruleset.joins:
            firings = ruleset.run(facts.claim_facts(claim, self.programme, compiled.fields, compiled.line_claim_keys))
        else:
            reads = _claim_reads(self.book, compiled)
            base = self._base
            changed = None if base is None else changed_properties(head, base)
            if changed is not None and not any(reads.copied_to_lines(k) for k in changed):
                line_key, on_lines = self._base_lines     # nothing the lines carry changed
            else:
                part = facts.claim_part(head, compiled.line_claim_keys) if compiled.line_claim_keys else {}
                line_key = orjson.dumps([head["plan_kind"], part], option=orjson.OPT_SORT_KEYS)
                on_lines = self._lines.get(line_key)
                if on_lines is None:
                    lines = [facts.line_fact(i, ln, head["plan_kind"]) for i, ln in enumerate(claim.losses)]
                    for ln in lines:
                        ln.update(part)
                    on_lines = self._lines[line_key] = ruleset.run(lines) if lines else []
                if base is None:
                    self._base_lines = (line_key, on_lines)
            fired = self._claim_rules_fired(head, ruleset, reads, changed)
            outcome = self._by_fired.get((fired, line_key))
            if outcome is None:
                firings = [rete.Firing(r, {"c": head}) for r in sorted(fired)] + on_lines  # the core's order
                outcome = self._by_fired[(fired, line_key)] = coverage.statuses(
                    self.book, self.programme, firings, len(claim.losses))
            self._outcomes[key] = outcome
            return outcome
        outcome = self._outcomes[key] = coverage.statuses(self.book, self.programme, firings, len(claim.losses))
        return outcome

    def _claim_rules_fired(self, head: dict, ruleset: rete.Ruleset, reads: "_ClaimReads",
                           changed: set | None) -> frozenset:
        """The claim rules that fire on `head` (`changed`: its properties that differ from the first claim
        fact's): from the engine, or from its earlier answers."""
        if changed is None:
            fired = self._run(head, ruleset, reads.keys)
            self._base, self._base_fired = head, fired
            return fired
        missing = _MISSING
        affected = {r for k in changed for r in reads.by_property.get(k, ())}
        fired = set(self._base_fired - affected)
        unknown = []
        for r in affected:
            values = tuple(head.get(p, missing) for p in reads.keys[r])
            answer = self._answers[r].get(values)
            if answer is None:
                unknown.append((r, values))
                if len(unknown) > _ALONE:
                    return self._run(head, ruleset, {r: reads.keys[r] for r in affected})
            elif answer:
                fired.add(r)
        for r, values in unknown:   # a few rules to ask: each alone, on the properties it tests
            fact = {p: head[p] for p in reads.keys[r] if p in head}
            fact["id"] = head["id"]
            answer = self._answers[r][values] = bool(rete.ruleset_for(reads.alone[r]).run([fact]))
            if answer:
                fired.add(r)
        return frozenset(fired)

    def _run(self, head: dict, ruleset: rete.Ruleset, keys: dict[str, tuple]) -> frozenset:
        """Run the engine on the claim fact alone; keep each given rule's answer under its tested values."""
        fired = frozenset(f.rule for f in ruleset.run([head]))
        missing = _MISSING
        for r, props in keys.items():
            self._answers.setdefault(r, {})[tuple(head.get(p, missing) for p in props)] = r in fired
        return fired


# Up to this many claim rules seeing values not seen before are asked one by one (a ruleset of that rule
# alone, on a fact of the properties it tests: ~12 µs each); more run the whole ruleset (~60 µs).
_ALONE = 3
_MISSING = object()   # a property the fact lacks (never equal to a value: absence is a value of its own)
MISSING = _MISSING


def changed_properties(head: dict, base: dict) -> set:
    """The properties whose value (or presence) differs between two claim facts. A property's values are
    of one type (facts.py: a field's kind decides it), so `!=` never mistakes True for 1."""
    missing = _MISSING
    out = {k for k, v in head.items() if base.get(k, missing) != v}
    out.update(k for k in base if k not in head)
    return out


class _ClaimReads:
    """Per compiled programme: each claim rule's tested properties, and the claim rules testing each."""

    def __init__(self, book: Rulebook, compiled):
        self.keys: dict[str, tuple] = {}
        self.by_property: dict[str, list[str]] = {}
        self.alone: dict[str, dict] = {}
        self._copied = frozenset(compiled.line_claim_keys) | {"plan_kind"}   # line facts carry the plan kind too
        for rid, rule in compiled.definition.items():
            if book.rules_by_id[rid].on != "claim":
                continue
            (_alias, expr), = rule["all"][0].items()   # one fact per rule (rete: Ruleset.joins is False)
            props = tuple(sorted(compile.properties_read(expr)))
            self.keys[rid] = props
            self.alone[rid] = {rid: rule}   # one object per rule: rete.ruleset_for finds it by identity
            for p in props:
                self.by_property.setdefault(p, []).append(rid)

    def copied_to_lines(self, prop: str) -> bool:
        """A claim property facts.claim_part copies into the line facts (a key, or a list member's flag)."""
        return prop in self._copied or prop.rpartition("__")[0] in self._copied


_reads: dict[int, tuple[object, _ClaimReads]] = {}


def _claim_reads(book: Rulebook, compiled) -> _ClaimReads:
    """Held by the compiled programme's identity (like rete.ruleset_for), built once."""
    hit = _reads.get(id(compiled))
    if hit is None or hit[0] is not compiled:
        hit = _reads[id(compiled)] = (compiled, _ClaimReads(book, compiled))
    return hit[1]
