"""Rule examples as data: every rule carries a claim patch that makes it fire and one where it stays
silent (merged into rules/test_bases.yaml). Running them proves each rule reachable and live.

A companion rule generated from `requires` is checked with its parent's firing example minus the
required fact (it must fire) and with the example as is (it must stay silent).
"""
from __future__ import annotations

import copy
import datetime as dt
import os
from typing import Any

import yaml

from ..contract.load import ClaimError
from ..policy.catalogue import load_catalogue, rules_dir
from ..policy.claims import parse_claim
from .rule import Rule
from .rulebook import load_rulebook
from .run import run_rules


_ATOMS = (str, int, float, bool, type(None), dt.date, dt.datetime)


def _copy(value: Any) -> Any:
    """copy.deepcopy for what YAML gives (plain mappings, lists, scalars), about 5x faster: `rules check`
    merges several hundred examples. Anything else is deep-copied as before."""
    t = type(value)
    if t is dict:
        return {k: _copy(v) for k, v in value.items()}
    if t is list:
        return [_copy(v) for v in value]
    if t in _ATOMS:
        return value
    return copy.deepcopy(value)


def merge(base: Any, patch: Any) -> Any:
    """Mappings merge, lists and scalars replace, None deletes the key."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return _copy(patch)
    out = _copy(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = _copy(v)
    return out


def drop_path(claim: dict, path: str) -> dict:
    claim = _copy(claim)
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
    # yaml.safe_load on libyaml's parser where PyYAML has it (the same values, several times faster)
    return yaml.load((rules_dir(root) / "test_bases.yaml").read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


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
    return _fired(claim_dict, load_catalogue(root), load_rulebook(root))


def _fired(claim_dict: dict, catalogue, book) -> list[str]:
    claim = parse_claim(claim_dict, catalogue)
    outcome = run_rules(claim, book, catalogue[claim.programme])
    return [t["rule"] for t in outcome.trace]


def verify_examples(root: str | os.PathLike | None = None) -> list[str]:
    book = load_rulebook(root)
    catalogue = load_catalogue(root)  # once, not per example (each lookup resolves the folder's path)
    bases = load_bases(root)
    by_id = book.rules_by_id
    problems = []
    for rule in book.rules:
        for prog in rule.programmes:
            for kind, claim in examples_for(rule, prog, bases, by_id).items():
                try:
                    fired = _fired(claim, catalogue, book)
                except ClaimError as exc:
                    problems.append(f"{rule.source_file}: {rule.id}: `{kind}` example is not a valid claim: {exc}")
                    continue
                if kind == "fires" and rule.id not in fired:
                    problems.append(f"{rule.source_file}: {rule.id}: does not fire on its `fires` example ({prog})")
                if kind == "silent" and rule.id in fired:
                    problems.append(f"{rule.source_file}: {rule.id}: fires on its `silent` example ({prog})")
    return problems
