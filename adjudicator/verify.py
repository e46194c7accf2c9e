"""Rule examples as data: every rule carries a claim patch that makes it fire and one where it stays
silent (merged into rules/test_bases.yaml). Running them proves each rule reachable and live.

A companion rule generated from `requires` is checked with its parent's firing example minus the
required fact (it must fire) and with the example as is (it must stay silent).
"""
from __future__ import annotations

import copy
import os
from typing import Any

import yaml

from .catalogue import load_catalogue, rules_dir
from .load import ClaimError, parse_claim
from .rulebook import Rule, load_rulebook


def merge(base: Any, patch: Any) -> Any:
    """Mappings merge, lists and scalars replace, None deletes the key."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def drop_path(claim: dict, path: str) -> dict:
    claim = copy.deepcopy(claim)
    if path.startswith("line."):
        for line in claim.get("losses", []):
            line.pop(path[5:], None)
        return claim
    node = claim
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.get(p)
        if not isinstance(node, dict):
            return claim
    node.pop(parts[-1], None)
    return claim


def load_bases(root: str | os.PathLike | None = None) -> dict:
    return yaml.safe_load((rules_dir(root) / "test_bases.yaml").read_text(encoding="utf-8"))


def examples_for(rule: Rule, programme: str, bases: dict, by_id: dict[str, Rule]) -> dict[str, dict]:
    """{"fires": claim dict, "silent": claim dict} for one rule in one programme."""
    base = bases[programme]
    if rule.generated_from:
        parent = by_id[rule.generated_from]
        fires_parent = merge(base, parent.tests.get("fires", {}))
        path = rule.effect.target
        return {"fires": drop_path(fires_parent, path), "silent": fires_parent}
    return {k: merge(base, rule.tests.get(k, {})) for k in ("fires", "silent")}


def fired_rules(claim_dict: dict, root=None) -> list[str]:
    from .decide import run_rules

    catalogue = load_catalogue(root)
    claim = parse_claim(claim_dict, catalogue)
    outcome = run_rules(claim, load_rulebook(root), catalogue)
    return [t["rule"] for t in outcome.trace]


def verify_examples(root: str | os.PathLike | None = None) -> list[str]:
    book = load_rulebook(root)
    bases = load_bases(root)
    by_id = book.rules_by_id
    problems = []
    for rule in book.rules:
        for prog in rule.programmes:
            for kind, claim in examples_for(rule, prog, bases, by_id).items():
                try:
                    fired = fired_rules(claim, root)
                except ClaimError as exc:
                    problems.append(f"{rule.source_file}: {rule.id}: `{kind}` example is not a valid claim: {exc}")
                    continue
                if kind == "fires" and rule.id not in fired:
                    problems.append(f"{rule.source_file}: {rule.id}: does not fire on its `fires` example ({prog})")
                if kind == "silent" and rule.id in fired:
                    problems.append(f"{rule.source_file}: {rule.id}: fires on its `silent` example ({prog})")
    return problems
