"""Compile the rulebook's condition language into durable_rules JSON rulesets.

Conditions (in `when` for the claim fact, `line` for a loss line), each a small mapping:
  {fact: P, is: V}            P equals V              {fact: P, is_not: V}   P present and not V
  {fact: P, in: [..]}         P is one of             {fact: P, not_in: [..]} P present, none of
  {fact: P, has: M}           list P contains M       {fact: P, lacks: M}    list P given, without M
  {fact: P, has_any: [..]}    list P contains one     {fact: P, has_none: [..]} list P given, none
  {fact: P, present: bool}    P given / absent
  {fact: P, lt|lte|gt|gte: X} X a literal, {fact: Q} (same fact) or {param: dotted.path} (plan catalogue)
  {any: [...]} / {all: [...]}
Absent facts never satisfy a comparison: "unknown" is not "no".
"""
from __future__ import annotations

import functools
from typing import Any, Iterator

from ..policy.catalogue import Programme, value
from .facts import FIELDS, to_fact_value
from .rule import Rule

_OPS = ("is", "is_not", "in", "not_in", "has", "lacks", "has_any", "has_none", "present", "lt", "lte", "gt", "gte")
_CMP = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def _op(cond: dict) -> str:
    ops = [k for k in cond if k in _OPS]
    if len(ops) != 1 or set(cond) - {"fact", ops[0]}:
        raise ValueError(f"condition needs `fact` and exactly one of {_OPS}: {cond!r}")
    return ops[0]


def _field(path: str):
    if path not in FIELDS:
        raise ValueError(f"unknown fact {path!r}")
    return FIELDS[path]


def iter_conditions(conds: list) -> Iterator[dict]:
    for c in conds:
        if not isinstance(c, dict):
            raise ValueError(f"condition must be a mapping: {c!r}")
        if "any" in c or "all" in c:
            yield from iter_conditions(c.get("any") or c.get("all"))
        else:
            yield c


def condition_paths(rule: Rule) -> Iterator[str]:
    for c in iter_conditions(rule.when + rule.line):
        op = _op(c)
        f = _field(c["fact"])
        if op in ("has", "lacks", "has_any", "has_none") and f.kind != "list":
            raise ValueError(f"{op} needs a list fact, {f.path} is {f.kind}")
        if rule.on == "claim" and f.path.startswith("line."):
            raise ValueError(f"{f.path} is only available to `on: line` rules")
        yield f.path
        other = c.get(op)
        if isinstance(other, dict) and "fact" in other:
            yield _field(other["fact"]).path
    for p in rule.requires:
        yield _field(p).path


def mentions(cond: Any, path: str) -> bool:
    if isinstance(cond, dict):
        if cond.get("fact") == path:
            return True
        return any(mentions(v, path) for v in cond.values())
    if isinstance(cond, list):
        return any(mentions(v, path) for v in cond)
    return False


def contradictions(rule: Rule) -> list[str]:
    out = []
    for conds in (rule.when, rule.line):
        equal: dict[str, Any] = {}
        present: dict[str, bool] = {}
        for c in conds:
            if not isinstance(c, dict) or "fact" not in c:
                continue
            p = c["fact"]
            if "is" in c:
                if p in equal and equal[p] != c["is"]:
                    out.append(f"{p} must be both {equal[p]!r} and {c['is']!r}")
                equal[p] = c["is"]
            if "present" in c:
                if p in present and present[p] != c["present"]:
                    out.append(f"{p} must be both present and absent")
                present[p] = c["present"]
            if c.get("present") is False and (p in equal):
                out.append(f"{p} must be absent and equal to {equal[p]!r}")
        for p, pres in present.items():
            if pres is False and p in equal:
                out.append(f"{p} must be absent and equal to {equal[p]!r}")
    return sorted(set(out))


def _param(programme: Programme, dotted: str) -> Any:
    node: Any = programme.data
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return value(node)


def _expr(cond: dict, programme: Programme) -> dict:
    if "any" in cond:
        return {"$or": [_expr(c, programme) for c in cond["any"]]}
    if "all" in cond:
        return {"$and": [_expr(c, programme) for c in cond["all"]]}
    op = _op(cond)
    f = _field(cond["fact"])
    key, arg = f.key, cond[op]
    conv = functools.partial(to_fact_value, f)
    if op == "is":
        return {key: conv(arg)}
    if op == "is_not":
        return {"$neq": {key: conv(arg)}}
    if op == "in":
        return {"$or": [{key: conv(v)} for v in arg]}
    if op == "not_in":
        return {"$and": [{"$neq": {key: conv(v)}} for v in arg]}
    if op == "has":
        return {f"{key}__{arg}": True}
    if op == "has_any":
        return {"$or": [{f"{key}__{m}": True} for m in arg]}
    if op == "lacks":
        return {"$and": [{"$ex": {key: 1}}, {"$nex": {f"{key}__{arg}": 1}}]}
    if op == "has_none":
        return {"$and": [{"$ex": {key: 1}}] + [{"$nex": {f"{key}__{m}": 1}} for m in arg]}
    if op == "present":
        return {"$ex": {key: 1}} if arg else {"$nex": {key: 1}}
    # comparisons
    if isinstance(arg, dict) and "fact" in arg:
        other = _field(arg["fact"]).key
        # never let the core compare against a property the fact lacks (rete.py item 12)
        return {"$and": [{"$ex": {key: 1}}, {"$ex": {other: 1}}, {_CMP[op]: {key: {"$m": other}}}]}
    if isinstance(arg, dict) and "param" in arg:
        rhs = conv(_param(programme, arg["param"]))
    else:
        rhs = conv(arg)
    return {"$and": [{"$ex": {key: 1}}, {_CMP[op]: {key: rhs}}]}


def compile_rule(rule: Rule, programme: Programme) -> dict:
    plan_term = [{"$or": [{"plan_kind": k} for k in rule.plans]}] if rule.plans else []
    claim_terms: list[dict] = [{"t": "claim"}] + [_expr(c, programme) for c in rule.when]
    if rule.on == "claim":
        return {"all": [{"c": {"$and": claim_terms[:1] + plan_term + claim_terms[1:]}}]}
    # Line facts carry plan_kind and copies of the claim properties that line rules read
    # (line_claim_keys; facts.line_fact), so no rule joins two facts: a join repeats the whole claim
    # fact in every firing's message, and retracting a joined fact makes the core read uninitialised
    # memory (rete.py item 13).
    line_terms = [_expr(c, programme) for c in rule.line]
    return {"all": [{"l": {"$and": [{"t": "line"}] + plan_term + claim_terms[1:] + line_terms}}]}


def line_claim_paths(rule: Rule) -> tuple[str, ...]:
    """The claim fact paths a line rule's `when` reads (line facts carry copies of them)."""
    if rule.on != "line":
        return ()
    paths = []
    for c in iter_conditions(rule.when):
        paths.append(c["fact"])
        other = c.get(_op(c))
        if isinstance(other, dict) and "fact" in other:
            paths.append(other["fact"])
    return tuple(dict.fromkeys(paths))


def rule_paths(rule: Rule) -> tuple[str, ...]:
    """The fact paths a rule's conditions read, in order, then what it requires (the trace shows them)."""
    paths = []
    for c in iter_conditions(rule.when + rule.line):
        paths.append(c["fact"])
        other = next((v for v in c.values() if isinstance(v, dict) and "fact" in v), None)
        if other:
            paths.append(other["fact"])
    return tuple(dict.fromkeys(paths + list(rule.requires)))


def properties_read(expr: Any) -> frozenset:
    """Every fact property a compiled durable_rules expression tests: the keys of its tests and the
    properties `$m` compares against (operators start with `$`). A rule on one fact fires or not by the
    values (and presence) of these properties alone (run.StatusRuns relies on it)."""
    out: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k == "$m":
                    out.add(v)
                    continue
                if not k.startswith("$"):
                    out.add(k)
                if isinstance(v, (dict, list)):
                    walk(v)
    walk(expr)
    return frozenset(out)
