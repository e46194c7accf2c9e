"""From rule firings to coverage decisions: statuses, reasons, missing information, line mapping.

No policy logic lives here: which rule fires is the rulebook's business; this module only applies
the fixed meaning of each effect (exclude > not_cover > need > cover) and keeps the evidence.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..policy.catalogue import Programme
from .facts import FIELDS
from .rete import Firing
from .rule import STATUS_BY_EFFECT, STATUS_PRECEDENCE, Rule
from .rulebook import Rulebook


@dataclass
class CoverageState:
    status: str = "not_covered"
    reasons: list[dict] = field(default_factory=list)
    effects: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class LineState:
    index: int
    coverage: str | None = None
    mapped_by: dict | None = None
    refused_by: dict | None = None


@dataclass
class RuleOutcome:
    coverages: dict[str, CoverageState]
    lines: list[LineState]
    needs: list[dict]
    duties: list[dict]
    notes: list[dict]
    trace: list[dict]


def _list_members(fact: dict) -> dict[str, list[str]]:
    """List facts are flags `<key>__<member>`; rebuild the lists once per fact."""
    out: dict[str, list[str]] = {}
    for k, v in fact.items():
        if v is True and "__" in k:
            base, _, member = k.rpartition("__")
            if base in fact:
                out.setdefault(base, []).append(member)
    for members in out.values():
        members.sort()
    return out


@dataclass(frozen=True)
class _RulePlan:
    """What a firing of one rule adds to the decision, worked out once per rule (not per firing)."""
    rule: Rule
    reads: tuple          # (path, on_line, kind, key) per fact path the conditions read, in order
    show_plan: bool       # the rule is limited to plan kinds: the trace shows the claim's
    trace_head: tuple     # (rule id, clause, effect kind, targets shown in the trace)
    reason: dict          # the rule's reason entry (without "effect")


def _plan(rule: Rule, paths: tuple[str, ...]) -> _RulePlan:
    effect = rule.effect
    reads = tuple((p, p.startswith("line."), FIELDS[p].kind, FIELDS[p].key) for p in paths)
    return _RulePlan(rule, reads, bool(rule.plans),
                     (rule.id, rule.clause, effect.kind, [effect.target] if effect.target else list(effect.coverages)),
                     {"rule": rule.id, "clause": rule.clause, "text": rule.text.ja, "text_en": rule.text.en})


_plans: dict[int, tuple[object, dict[str, _RulePlan]]] = {}


def _plans_for(book: Rulebook, compiled) -> dict[str, _RulePlan]:
    """Per compiled programme (held by identity, like rete.ruleset_for), the plan of each rule."""
    hit = _plans.get(id(compiled))
    if hit is None or hit[0] is not compiled:
        rules = book.rules_by_id
        hit = _plans[id(compiled)] = (compiled, {rid: _plan(rules[rid], paths) for rid, paths in compiled.paths.items()})
    return hit[1]


def _matched_facts(plan: _RulePlan, firing: Firing, lists: dict) -> dict:
    """The values of the facts the rule's conditions read, as the engine matched them."""
    out: dict = {}
    claim = firing.facts.get("c")
    line = firing.facts.get("l")
    claim_lists = {}
    if claim is not None:
        if "claim" not in lists:  # once per claim, not once per firing
            lists["claim"] = _list_members(claim)
        claim_lists = lists["claim"]
    for path, on_line, kind, key in plan.reads:
        source = line if on_line else claim
        if source is None:
            continue
        if key not in source:
            out[path] = None
        elif kind == "list":
            out[path] = claim_lists.get(key, [])
        elif kind == "date":
            out[path] = dt.date.fromordinal(source[key]).isoformat()
        else:
            out[path] = source[key]
    if line is not None:
        out.setdefault("line.index", line["line__index"])
        out.setdefault("line.category", line["line__category"])
    if plan.show_plan and claim is not None:
        out["plan_kind"] = claim.get("plan_kind")
    return out


def _reason(rule: Rule, extra: dict | None = None) -> dict:
    r = {"rule": rule.id, "clause": rule.clause, "text": rule.text.ja, "text_en": rule.text.en}
    if extra:
        r.update(extra)
    return r


_PRECEDENCE = [(status, next(k for k, v in STATUS_BY_EFFECT.items() if v == status)) for status in STATUS_PRECEDENCE]


def _status(state: CoverageState) -> str | None:
    """Set the status the strongest effect present gives (exclude > not_cover > need > cover); its kind."""
    for status, kind in _PRECEDENCE:
        if kind in state.effects:
            state.status = status
            return kind
    state.status = "not_covered"
    return None


def _first(candidates: list[tuple[int, Rule]]) -> Rule:
    """Of several rules mapping (or refusing) one line, the first in rulebook order."""
    return sorted(candidates, key=lambda t: t[0])[0][1]


def statuses(book: Rulebook, programme: Programme, firings: list[Firing], n_lines: int) -> RuleOutcome:
    """resolve() without the evidence: each coverage's status and the rules behind each effect kind
    (`effects[kind]` holds `{"rule": id}` only), and each line's coverage. What the why-not search
    compares on each of its hundreds of re-runs; no reasons, needs, duties, notes or trace."""
    order, compiled = book.rule_order, book.compiled[programme.id]
    rules = book.rules_by_id
    coverages = {c: CoverageState() for c in programme.coverage_ids}
    lines = [LineState(i) for i in range(n_lines)]
    line_maps: dict[int, list[tuple[int, Rule]]] = {}
    for firing in firings:
        rule = rules[firing.rule]
        kind = rule.effect.kind
        if kind in STATUS_BY_EFFECT:
            for cov in compiled.targets[firing.rule]:
                coverages[cov].effects.setdefault(kind, []).append({"rule": rule.id})
        elif kind == "map_line":  # a refusal only says why a line has no coverage: not needed here
            line_maps.setdefault(firing.facts["l"]["line__index"], []).append((order[rule.id], rule))
    for state in coverages.values():
        _status(state)
    for ln in lines:
        if ln.index in line_maps:
            ln.coverage = _first(line_maps[ln.index]).effect.target
    return RuleOutcome(coverages, lines, [], [], [], [])


def resolve(book: Rulebook, programme: Programme, firings: list[Firing], n_lines: int) -> RuleOutcome:
    order, compiled = book.rule_order, book.compiled[programme.id]
    coverages = {c: CoverageState() for c in programme.coverage_ids}
    lines = [LineState(i) for i in range(n_lines)]
    needs: dict[str, dict] = {}
    duties: dict[str, dict] = {}
    notes: list[dict] = []
    trace: list[dict] = []
    line_maps: dict[int, list[tuple[int, Rule]]] = {}
    line_refusals: dict[int, list[tuple[int, Rule]]] = {}

    lists: dict = {}
    plans = _plans_for(book, compiled)
    for firing in firings:
        plan = plans[firing.rule]
        rule = plan.rule
        matched = _matched_facts(plan, firing, lists)
        effect = rule.effect
        rid, clause, kind, shown = plan.trace_head
        trace.append({
            "rule": rid, "clause": clause, "effect": kind, "targets": list(shown),
            "fired_on": ", ".join([f"{k}={v}" for k, v in matched.items()]),
            "facts": matched,
        })
        targets = compiled.targets[rid]
        line_index = firing.facts["l"]["line__index"] if "l" in firing.facts else None
        if kind in STATUS_BY_EFFECT:
            for cov in targets:
                coverages[cov].effects.setdefault(kind, []).append(dict(plan.reason, effect=kind))
        if effect.kind == "need":
            fld = effect.target
            if fld.startswith("line.") and line_index is not None:
                fld = f"losses[{line_index}].{fld[5:]}"
            entry = needs.setdefault(fld, {"field": fld, "why": rule.text.ja, "why_en": rule.text.en,
                                           "rules": [], "coverages": []})
            entry["rules"].append(rule.id)
            entry["coverages"] = sorted(set(entry["coverages"]) | set(targets),
                                        key=programme.coverage_ids.index)
        elif effect.kind == "map_line":
            line_maps.setdefault(line_index, []).append((order[rule.id], rule))
        elif effect.kind == "refuse_line":
            line_refusals.setdefault(line_index, []).append((order[rule.id], rule))
        elif effect.kind == "duty":
            duties.setdefault(effect.target, {"id": effect.target, "rule": rule.id, "clause": rule.clause})
        elif effect.kind == "note":
            notes.append(_reason(rule, {"coverages": targets, **({"line": line_index} if line_index is not None else {})}))

    for cov, state in coverages.items():
        kind = _status(state)
        if kind is not None:
            state.reasons = state.effects[kind]
        else:
            msg = book.messages["no_trigger"]
            state.reasons = [{"rule": None, "clause": programme.coverages[cov]["reference"],
                              "text": msg["ja"], "text_en": msg["en"], "effect": "default"}]

    for ln in lines:
        if ln.index in line_maps:
            rule = _first(line_maps[ln.index])
            ln.coverage = rule.effect.target
            ln.mapped_by = _reason(rule)
        elif ln.index in line_refusals:
            ln.refused_by = _reason(_first(line_refusals[ln.index]))
        else:
            msg = book.messages["line_unmapped"]
            ln.refused_by = {"rule": None, "clause": "claim-file contract: losses", "text": msg["ja"], "text_en": msg["en"]}

    # A covered coverage with no loss line under it says so, instead of a bare "covered, 0"
    # (fixed benefits, which pay without loss lines, are not concerned).
    claimed = {ln.coverage for ln in lines if ln.coverage is not None}
    for cov, state in coverages.items():
        if state.status == "covered" and cov not in claimed and "benefit" not in programme.coverages[cov]:
            msg = book.messages["no_loss_claimed"]
            state.reasons = state.reasons + [{"rule": None, "clause": programme.coverages[cov]["reference"],
                                              "text": msg["ja"], "text_en": msg["en"], "effect": "no_loss_claimed"}]

    # Only facts a still-undecided coverage waits for are asked for; a coverage another rule has
    # already decided (excluded / not covered) does not need them (the trace keeps the firing).
    pending = []
    for entry in needs.values():
        waiting = [c for c in entry["coverages"] if coverages[c].status == "needs_information"]
        if waiting:
            pending.append(dict(entry, coverages=waiting))
    return RuleOutcome(coverages, lines, pending, list(duties.values()), notes, trace)
