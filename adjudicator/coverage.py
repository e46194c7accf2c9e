"""From rule firings to coverage decisions: statuses, reasons, missing information, line mapping.

No policy logic lives here: which rule fires is the rulebook's business; this module only applies
the fixed meaning of each effect (exclude > not_cover > need > cover) and keeps the evidence.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .catalogue import Programme
from .facts import FIELDS
from .rete import Firing
from .rulebook import STATUS_BY_EFFECT, STATUS_PRECEDENCE, Rule, Rulebook


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


def _render_value(f, fact: dict, lists: dict) -> object:
    key = f.key
    if key not in fact:
        return None
    if f.kind == "list":
        return lists.get(key, [])
    v = fact[key]
    if f.kind == "date":
        return dt.date.fromordinal(v).isoformat()
    return v


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


_paths_cache: dict[int, tuple[Rule, tuple[str, ...]]] = {}


def _rule_paths(rule: Rule) -> tuple[str, ...]:
    """The fact paths a rule's conditions read (cached per rule object: rules are immutable)."""
    from .compile import iter_conditions

    hit = _paths_cache.get(id(rule))
    if hit is None or hit[0] is not rule:
        paths = []
        for c in iter_conditions(rule.when + rule.line):
            paths.append(c["fact"])
            other = next((v for v in c.values() if isinstance(v, dict) and "fact" in v), None)
            if other:
                paths.append(other["fact"])
        hit = _paths_cache[id(rule)] = (rule, tuple(dict.fromkeys(paths + list(rule.requires))))
    return hit[1]


def _matched_facts(rule: Rule, firing: Firing, lists: dict) -> dict:
    """The values of the facts the rule's conditions read, as the engine matched them."""
    out: dict = {}
    claim = firing.facts.get("c")
    line = firing.facts.get("l")
    claim_lists = {}
    if claim is not None:
        if "claim" not in lists:  # once per claim, not once per firing
            lists["claim"] = _list_members(claim)
        claim_lists = lists["claim"]
    for path in _rule_paths(rule):
        source = line if path.startswith("line.") else claim
        if source is not None:
            out[path] = _render_value(FIELDS[path], source, claim_lists)
    if line is not None:
        out.setdefault("line.index", line["line__index"])
        out.setdefault("line.category", line["line__category"])
    if rule.plans and claim is not None:
        out["plan_kind"] = claim.get("plan_kind")
    return out


_targets_cache: dict[tuple, list[str]] = {}


def _targets(programme: Programme, rule: Rule) -> list[str]:
    key = (programme.id, id(programme.data), rule.source_file, rule.id)
    hit = _targets_cache.get(key)
    if hit is None:
        hit = _targets_cache[key] = [c for name in rule.effect.coverages for c in programme.group(name)]
    return hit


def _reason(rule: Rule, extra: dict | None = None) -> dict:
    r = {"rule": rule.id, "clause": rule.clause, "text": rule.text.ja, "text_en": rule.text.en}
    if extra:
        r.update(extra)
    return r


_PRECEDENCE = [(status, next(k for k, v in STATUS_BY_EFFECT.items() if v == status)) for status in STATUS_PRECEDENCE]


def resolve(book: Rulebook, programme: Programme, firings: list[Firing], n_lines: int) -> RuleOutcome:
    rules, order = book.rules_by_id, book.rule_order
    coverages = {c: CoverageState() for c in programme.coverage_ids}
    lines = [LineState(i) for i in range(n_lines)]
    needs: dict[str, dict] = {}
    duties: dict[str, dict] = {}
    notes: list[dict] = []
    trace: list[dict] = []
    line_maps: dict[int, list[tuple[int, Rule]]] = {}
    line_refusals: dict[int, list[tuple[int, Rule]]] = {}

    lists: dict = {}
    for firing in firings:
        rule = rules[firing.rule]
        matched = _matched_facts(rule, firing, lists)
        effect = rule.effect
        trace.append({
            "rule": rule.id, "clause": rule.clause, "effect": effect.kind,
            "targets": [effect.target] if effect.target else list(effect.coverages),
            "fired_on": ", ".join(f"{k}={v}" for k, v in matched.items()),
            "facts": matched,
        })
        targets = _targets(programme, rule)
        line_index = firing.facts["l"]["line__index"] if "l" in firing.facts else None
        if effect.kind in STATUS_BY_EFFECT:
            for cov in targets:
                coverages[cov].effects.setdefault(effect.kind, []).append(_reason(rule, {"effect": effect.kind}))
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
        for status, kind in _PRECEDENCE:
            if kind in state.effects:
                state.status = status
                state.reasons = state.effects[kind]
                break
        else:
            msg = book.messages["no_trigger"]
            state.status = "not_covered"
            state.reasons = [{"rule": None, "clause": programme.coverages[cov]["reference"],
                              "text": msg["ja"], "text_en": msg["en"], "effect": "default"}]

    for ln in lines:
        if ln.index in line_maps:
            chosen = sorted(line_maps[ln.index], key=lambda t: t[0])
            rule = chosen[0][1]
            ln.coverage = rule.effect.target
            ln.mapped_by = _reason(rule)
        elif ln.index in line_refusals:
            rule = sorted(line_refusals[ln.index], key=lambda t: t[0])[0][1]
            ln.refused_by = _reason(rule)
        else:
            msg = book.messages["line_unmapped"]
            ln.refused_by = {"rule": None, "clause": "claim-file contract: losses", "text": msg["ja"], "text_en": msg["en"]}

    # Only facts a still-undecided coverage waits for are asked for; a coverage another rule has
    # already decided (excluded / not covered) does not need them (the trace keeps the firing).
    pending = []
    for entry in needs.values():
        waiting = [c for c in entry["coverages"] if coverages[c].status == "needs_information"]
        if waiting:
            pending.append(dict(entry, coverages=waiting))
    return RuleOutcome(coverages, lines, pending, list(duties.values()), notes, trace)
